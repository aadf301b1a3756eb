%% monitor_storm N: N processes parked in `receive stop -> ok end`. After
%% waiting for quiet, main monitors them all (timed: monitor_s), then sends
%% each one `stop` and collects the N 'DOWN' messages; the clock runs from the
%% first `stop` to the Nth 'DOWN'. downs_per_s = N / seconds.
%% Checks: every 'DOWN' has reason `normal`; the (Ref, Pid) pairs of the
%% 'DOWN's are exactly those monitor/2 returned (each ref seen once, with its
%% own pid); afterwards main's mailbox is empty and process_count is back at
%% its starting value. Keys: n monitor_s seconds downs_per_s (plus
%% monitors_per_s, send_s, cpu_s).
-module(hive_peer_monitor_storm).
-export([main/1]).

main(Args) ->
    [N] = hive_peer_util:int_args(Args, 1),
    hive_peer_util:warm_up(),
    hive_peer_util:wait_quiet(),
    Base = erlang:system_info(process_count),
    Pids = spawn_loop(N, []),
    hive_peer_util:wait_quiet(),
    Live = erlang:system_info(process_count) - Base,
    Live =:= N orelse hive_peer_util:fail("monitor_storm: ~b processes alive, expected ~b", [Live, N]),
    M0 = hive_peer_util:clock(),
    Monitors = monitor_loop(Pids, []),
    M1 = hive_peer_util:clock(),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    stop_loop(Pids),
    T1 = hive_peer_util:clock(),
    Downs = down_loop(N, []),
    T2 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    %% Untimed checks: each monitor fired exactly once, for its own process.
    lists:sort(Downs) =:= lists:sort(Monitors)
        orelse hive_peer_util:fail("monitor_storm: the 'DOWN' refs/pids differ from the monitors", []),
    hive_peer_util:wait_process_count(Base),
    {message_queue_len, Q} = process_info(self(), message_queue_len),
    Q =:= 0 orelse hive_peer_util:fail("monitor_storm: ~b stray messages in main's mailbox", [Q]),
    MonSecs = hive_peer_util:seconds(M0, M1),
    Secs = hive_peer_util:seconds(T0, T2),
    hive_peer_util:result(monitor_storm,
        [{n, N}, {monitor_s, MonSecs}, {seconds, Secs},
         {downs_per_s, hive_peer_util:rate(N, Secs)},
         {monitors_per_s, hive_peer_util:rate(N, MonSecs)},
         {send_s, hive_peer_util:seconds(T0, T1)},
         {cpu_s, hive_peer_util:cpu_s(C0, C1)}]).

spawn_loop(0, Acc) -> Acc;
spawn_loop(I, Acc) ->
    P = spawn(fun waiter/0),
    spawn_loop(I - 1, [P | Acc]).

waiter() ->
    receive stop -> ok end.

monitor_loop([], Acc) -> Acc;
monitor_loop([P | Ps], Acc) ->
    Ref = erlang:monitor(process, P),
    monitor_loop(Ps, [{Ref, P} | Acc]).

stop_loop([]) -> ok;
stop_loop([P | Ps]) ->
    P ! stop,
    stop_loop(Ps).

%% Collects N 'DOWN' messages as {Ref, Pid}; any reason but `normal` fails.
down_loop(0, Acc) -> Acc;
down_loop(I, Acc) ->
    receive
        {'DOWN', Ref, process, Pid, normal} -> down_loop(I - 1, [{Ref, Pid} | Acc]);
        {'DOWN', _, process, Pid, Reason} ->
            hive_peer_util:fail("monitor_storm: ~p went down with reason ~p, expected normal",
                                [Pid, Reason])
    end.
