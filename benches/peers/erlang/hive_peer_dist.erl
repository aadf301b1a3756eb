%% Shared set-up of the distribution peers (hive_peer_dist_ping_pong, _throughput,
%% _fan_in): two BEAM nodes on loopback with a private epmd, as the Hive programs run two
%% Hive nodes with a private port mapper (benches/stress/common/dist.h).
%%
%% The runner starts `erl +S S:S ... -run hive_peer_dist_<w> main ARGS`, a node that is
%% not distributed, and its main/1 calls launch/2: it picks a free TCP port P, starts
%% `epmd -port P` (a child of this launcher), then runs node A as another child,
%%   ERL_EPMD_PORT=P erl -noshell -sname benchA_<ospid>@localhost -setcookie C +S S:S
%%       +P 4000000 -pa DIR -run <module> node_a ARGS
%% (an erl node cannot be pointed at another epmd port once it runs), relays A's stdout
%% (the RESULT line), stops epmd and halts with A's exit status. Node A starts node B with
%% the peer module (start_b/1: `-sname benchB_<ospid>@localhost`, the same cookie and +S;
%% it inherits ERL_EPMD_PORT), registers B's server `bench` there, and runs the
%% workload; B's processes are spawned by that server, as on Hive. Nothing of the
%% launcher is timed.
-module(hive_peer_dist).

-export([launch/2, start_b/1, stop_b/1, server/0, cpu_ticks_of/1, pct/2]).

-define(COOKIE, "hive-bench-cookie").

launch(Module, Args) ->
    Port = free_port(),
    Epmd = case os:find_executable("epmd") of
               false -> hive_peer_util:fail("epmd not found on PATH", []);
               E -> E
           end,
    EpmdPort = open_port({spawn_executable, Epmd},
                         [{args, ["-port", integer_to_list(Port)]}, nouse_stdio]),
    {os_pid, EpmdPid} = erlang:port_info(EpmdPort, os_pid),
    wait_epmd(Port, 500),
    S = erlang:system_info(schedulers_online),
    Dir = filename:dirname(code:which(Module)),
    Name = "benchA_" ++ os:getpid() ++ "@localhost",
    ErlArgs = ["-noshell", "-sname", Name, "-setcookie", ?COOKIE,
               "+S", lists:flatten(io_lib:format("~b:~b", [S, S])),
               "+P", "4000000", "-pa", Dir, "-run", atom_to_list(Module), "node_a" | Args],
    A = open_port({spawn_executable, os:find_executable("erl")},
                  [{args, ErlArgs}, {env, [{"ERL_EPMD_PORT", integer_to_list(Port)}]},
                   exit_status, binary, stream]),
    Status = relay(A),
    os:cmd("kill " ++ integer_to_list(EpmdPid)),
    erlang:halt(Status).

relay(A) ->
    receive
        {A, {data, Bin}} -> io:put_chars(Bin), relay(A);
        {A, {exit_status, St}} -> St
    end.

free_port() ->
    {ok, L} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, P} = inet:port(L),
    gen_tcp:close(L),
    P.

wait_epmd(_, 0) -> hive_peer_util:fail("the private epmd did not start", []);
wait_epmd(Port, N) ->
    case gen_tcp:connect({127, 0, 0, 1}, Port, []) of
        {ok, S} -> gen_tcp:close(S);
        _ -> receive after 10 -> wait_epmd(Port, N - 1) end
    end.

%% On node A: starts node B (peer, connected over distribution) with the same epmd port,
%% cookie and scheduler count, and registers B's server. Returns {Peer, Node, BOsPid}.
start_b(Module) ->
    S = erlang:system_info(schedulers_online),
    Dir = filename:dirname(code:which(Module)),
    Name = list_to_atom("benchB_" ++ os:getpid()),
    {ok, Peer, Node} = peer:start(#{name => Name, host => "localhost",
        args => ["-setcookie", ?COOKIE,
                 "+S", lists:flatten(io_lib:format("~b:~b", [S, S])),
                 "+P", "4000000", "-pa", Dir]}),
    ok = erpc:call(Node, ?MODULE, server, []),
    BPid = list_to_integer(erpc:call(Node, os, getpid, [])),
    {Peer, Node, BPid}.

stop_b({Peer, _, _}) -> peer:stop(Peer).

%% On node B: spawns and registers the server `bench`.
server() ->
    Parent = self(),
    spawn(fun() -> register(bench, self()), Parent ! registered, serve() end),
    receive registered -> ok end.

%% B's server: {hello_echo, From} spawns an echo process for From; {hello_sink, From, W,
%% Senders, K} a sink (see the workload modules for both).
serve() ->
    receive
        {hello_echo, From} -> spawn(fun() -> echo(From) end), serve();
        {hello_sink, From, W, S, K} -> spawn(fun() -> sink(From, W, S, K) end), serve();
        {stop, From} -> From ! bye
    end.

%% The echo process: replies {ready, self()}, then sends every ping (a binary with the
%% sequence number in its first 8 bytes, little-endian) back to its pinger unchanged,
%% checking the numbers are 0, 1, 2 ...; on stop replies {count, Answered}.
echo(Pinger) ->
    Pinger ! {ready, self()},
    echo(Pinger, 0).

echo(Pinger, N) ->
    receive
        <<I:64/little, _/binary>> = Bin ->
            I =:= N orelse hive_peer_util:fail("node B echo: ping ~b, expected ~b", [I, N]),
            Pinger ! Bin,
            echo(Pinger, N + 1);
        stop ->
            Pinger ! {count, N}
    end.

%% The sink: replies {ready, self()} to From, then takes S*K data binaries
%% (<<Seq:64/little, Index:32/little, Len:32/little, ...>>), checking each one's length
%% and each sender's order; sends {ack, Count} to the data's sender (From) every W
%% messages (W = 0: never) and {done, Count, Bytes} to From after the last. Each sender's
%% next sequence number is in the process dictionary (an array on Hive).
sink(From, W, S, K) ->
    From ! {ready, self()},
    [put(I, 0) || I <- lists:seq(0, S - 1)],
    sink(From, W, S * K, 0, 0).

sink(From, _W, Total, Total, Bytes) ->
    From ! {done, Total, Bytes};
sink(From, W, Total, Count, Bytes) ->
    receive
        <<Seq:64/little, Idx:32/little, Len:32/little, _/binary>> = Bin ->
            byte_size(Bin) =:= Len
                orelse hive_peer_util:fail("node B sink: ~b bytes, expected ~b",
                                           [byte_size(Bin), Len]),
            case get(Idx) of
                Seq -> put(Idx, Seq + 1);
                Other -> hive_peer_util:fail("node B sink: sender ~p sent ~b, expected ~p",
                                             [Idx, Seq, Other])
            end,
            C = Count + 1,
            W > 0 andalso C rem W =:= 0 andalso (From ! {ack, C}),
            sink(From, W, Total, C, Bytes + Len)
    end.

%% utime + stime of OS process Pid in clock ticks (/proc/<pid>/stat fields 14, 15).
cpu_ticks_of(Pid) ->
    {ok, Bin} = file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/stat"),
    [_, Rest] = string:split(Bin, ")", trailing),
    Fields = string:lexemes(Rest, " \n"),
    binary_to_integer(lists:nth(14 - 2, Fields)) + binary_to_integer(lists:nth(15 - 2, Fields)).

%% The P-th percentile (nearest rank) of a sorted list of N values, as a tuple for speed.
pct(Sorted, P) ->
    N = tuple_size(Sorted),
    R = max(1, min(N, ceil(P / 100 * N))),
    element(R, Sorted).
