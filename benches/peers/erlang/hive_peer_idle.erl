%% idle N WINDOW_MS: N processes blocked in `receive stop -> ok end`; once
%% quiet (and a further 100 ms, as benches/stress/idle.c waits for its last
%% processes to park), main sleeps WINDOW_MS (timer:sleep/1) while the CPU time
%% of the whole OS process is measured (/proc/self/stat, 10 ms resolution).
%% The BEAM's schedulers busy-wait for a while before sleeping (default +sbwt);
%% whatever of that falls in the window shows here. The erl flags are the same
%% as for every other peer. Checks N processes are still alive after the
%% window. Keys: n window_s idle_cpu_s idle_cpu_pct.
-module(hive_peer_idle).
-export([main/1]).

main(Args) ->
    [N, WindowMs] = hive_peer_util:int_args(Args, 2),
    hive_peer_util:warm_up(),
    hive_peer_util:wait_quiet(),
    Base = erlang:system_info(process_count),
    Pids = spawn_loop(N, []),
    hive_peer_util:wait_quiet(),
    timer:sleep(100),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    timer:sleep(WindowMs),
    T1 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    Live = erlang:system_info(process_count) - Base,
    Live =:= N orelse hive_peer_util:fail("idle: ~b processes alive, expected ~b", [Live, N]),
    Window = hive_peer_util:seconds(T0, T1),
    Cpu = hive_peer_util:cpu_s(C0, C1),
    %% Keep the pids referenced until after the measurement.
    length(Pids) =:= N orelse hive_peer_util:fail("idle: lost pids", []),
    hive_peer_util:result(idle,
        [{n, N}, {window_s, Window}, {idle_cpu_s, Cpu},
         {idle_cpu_pct, 100 * Cpu / Window}]).

spawn_loop(0, Acc) -> Acc;
spawn_loop(I, Acc) ->
    P = spawn(fun waiter/0),
    spawn_loop(I - 1, [P | Acc]).

waiter() ->
    receive stop -> ok end.
