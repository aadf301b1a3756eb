%% selective_receive Q K (baselines.md workload 12): the main process does
%% round trips with a server, which answers {req, From, Ref} with {Ref, reply}:
%% `Ref = make_ref(), Server ! {req, self(), Ref}, receive {Ref, reply} -> ok end`.
%% Three variants, each timed on its own, in µs per round trip:
%%   empty_us_per_rt: an empty mailbox, K round trips (opt_loop/2);
%%   opt_us_per_rt:   Q {junk, I} messages queued in the process's own mailbox
%%                    first (untimed), then K round trips with opt_loop/2, which
%%                    makes the ref in the same function as the receive, so the
%%                    compiler emits recv_marker_reserve/bind/use and the receive
%%                    skips the queued junk (check: `erlc -S` of this module shows
%%                    recv_marker_* in opt_loop/2 and none in unopt_loop/2);
%%   unopt_us_per_rt: the same Q queued, K round trips with unopt_loop/2, which
%%                    gets the ref from new_ref/0 through a remote call (which the
%%                    compiler cannot see through), so each receive scans the
%%                    whole queue. unopt_k reports how many round trips it did.
%% Checks: the message queue length is exactly Q after the second and third
%% variants; every reply matched its ref (the receive pattern) and the server
%% served 3·K requests; the junk is then drained in order and nothing is left.
%% Keys: queued k empty_us_per_rt opt_us_per_rt (and unopt_us_per_rt, unopt_k).
-module(hive_peer_selective_receive).
-export([main/1, new_ref/0]).

main(Args) ->
    [Q, K] = hive_peer_util:int_args(Args, 2),
    K >= 1 orelse hive_peer_util:fail("selective_receive: K must be positive", []),
    hive_peer_util:warm_up(),
    Server = spawn(fun() -> server(0) end),
    check_len(0),
    EmptyUs = timed(fun() -> opt_loop(Server, K) end, K),
    check_len(0),
    Self = self(),
    [Self ! {junk, I} || I <- lists:seq(0, Q - 1)],
    check_len(Q),
    OptUs = timed(fun() -> opt_loop(Server, K) end, K),
    check_len(Q),
    UnoptK = K,
    UnoptUs = timed(fun() -> unopt_loop(Server, UnoptK) end, UnoptK),
    check_len(Q),
    drain(0, Q),
    check_len(0),
    Server ! {stop, self()},
    Served = receive {served, N} -> N end,
    Served =:= 2 * K + UnoptK
        orelse hive_peer_util:fail("selective_receive: server served ~b, expected ~b",
                                   [Served, 2 * K + UnoptK]),
    hive_peer_util:result(selective_receive,
        [{queued, Q}, {k, K}, {empty_us_per_rt, EmptyUs}, {opt_us_per_rt, OptUs},
         {unopt_us_per_rt, UnoptUs}, {unopt_k, UnoptK}]).

timed(F, N) ->
    T0 = hive_peer_util:clock(),
    ok = F(),
    T1 = hive_peer_util:clock(),
    hive_peer_util:seconds(T0, T1) * 1.0e6 / N.

check_len(Want) ->
    {message_queue_len, Len} = process_info(self(), message_queue_len),
    Len =:= Want
        orelse hive_peer_util:fail("selective_receive: ~b messages queued, expected ~b",
                                   [Len, Want]).

drain(Q, Q) -> ok;
drain(I, Q) ->
    receive
        {junk, I} -> drain(I + 1, Q);
        Other -> hive_peer_util:fail("selective_receive: got ~p, expected {junk, ~b}",
                                     [Other, I])
    after 0 -> hive_peer_util:fail("selective_receive: junk ~b missing", [I])
    end.

server(Served) ->
    receive
        {req, From, Ref} -> From ! {Ref, reply}, server(Served + 1);
        {stop, From} -> From ! {served, Served}
    end.

%% The ref is made here, next to the receive: recv_marker_reserve/bind/use.
opt_loop(_Server, 0) -> ok;
opt_loop(Server, N) ->
    Ref = make_ref(),
    Server ! {req, self(), Ref},
    receive {Ref, reply} -> ok end,
    opt_loop(Server, N - 1).

%% The ref comes from a remote call: no marker, each receive scans the queue.
unopt_loop(_Server, 0) -> ok;
unopt_loop(Server, N) ->
    Ref = ?MODULE:new_ref(),
    Server ! {req, self(), Ref},
    receive {Ref, reply} -> ok end,
    unopt_loop(Server, N - 1).

new_ref() -> make_ref().
