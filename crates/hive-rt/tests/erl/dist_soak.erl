%% dist_soak: the Erlang side of the multi-node soak (`crates/hive-rt/tests/dist_soak.rs`),
%% compiled and loaded on the erl node through `eval`.
%%
%% `actor/0` is spawned from Hive with `spawn_request(Node, dist_soak, actor, [], [link,
%% monitor])`. It speaks the protocol of the Hive peer's workers
%% (`tests/common/hive_peer.rs`): a message `{'$w', Cmd}` is a command, every other message,
%% trapped exit and DOWN is recorded as `{msg, undefined, Term}`, `{'EXIT', From, Reason}` or
%% `{'DOWN', Ref, From, Reason}`. Commands (R: the pid to reply to, or `none`; replies are
%% `{'$r', Name, Value, self()}`: a message sent while the node sets up a connection goes
%% without its sender, `SEND` rather than `SEND_SENDER`): `{sync, R}`, `{die, R, Reason}`, `{trap_exit, R, Bool}`,
%% `{monitor, R, Pid}`, `{send_range, R, To, A, B}` (`{seq, self(), K}` for K in A..B),
%% `{await, R, N, Ms}` (the records, oldest first, once there are N of them or after Ms).
%% `pinger/0`, registered as `dsping`, answers `{ping, From}` with `{'$r', ping, pong}`.
-module(dist_soak).
-export([actor/0, pinger/0, start/0, soak_procs/0]).

start() ->
    register(dsping, spawn(?MODULE, pinger, [])),
    ok.

pinger() ->
    receive {ping, From} -> From ! {'$r', ping, pong} end,
    pinger().

%% Processes of the soak alive on this node.
soak_procs() ->
    length([P || P <- processes(),
                 erlang:process_info(P, initial_call) =:= {initial_call, {?MODULE, actor, 0}}]).

actor() -> loop([], none).

%% Got: the records, newest first; Waiting: none | {N, R, Deadline}.
loop(Got, Waiting) ->
    Timeout = case Waiting of
                  none -> infinity;
                  {_, _, End} -> max(0, End - erlang:monotonic_time(millisecond))
              end,
    receive
        {'$w', Cmd} ->
            case cmd(Cmd) of
                stop -> ok;
                {await, N, R, Ms} ->
                    check(Got, {N, R, erlang:monotonic_time(millisecond) + Ms});
                ok -> check(Got, Waiting)
            end;
        {'EXIT', From, Why} -> check([{'EXIT', From, Why} | Got], Waiting);
        {'DOWN', Ref, process, From, Why} -> check([{'DOWN', Ref, From, Why} | Got], Waiting);
        M -> check([{msg, undefined, M} | Got], Waiting)
    after Timeout ->
        {_, R, _} = Waiting,
        reply(R, await, lists:reverse(Got)),
        loop([], none)
    end.

check(Got, {N, R, _}) when length(Got) >= N ->
    reply(R, await, lists:reverse(Got)),
    loop([], none);
check(Got, Waiting) -> loop(Got, Waiting).

cmd({sync, R}) -> reply(R, sync, self()), ok;
cmd({die, _, normal}) -> stop;
cmd({die, _, Why}) -> exit(Why);
cmd({trap_exit, R, B}) -> reply(R, trap_exit, process_flag(trap_exit, B)), ok;
cmd({monitor, R, P}) -> reply(R, monitor, monitor(process, P)), ok;
cmd({send_range, R, To, A, B}) ->
    [To ! {seq, self(), K} || K <- lists:seq(A, B)],
    reply(R, send_range, ok),
    ok;
cmd({await, R, N, Ms}) -> {await, N, R, Ms};
cmd(_) -> ok.

reply(none, _, _) -> ok;
reply(R, Name, V) -> R ! {'$r', Name, V, self()}.
