%% spawn N: one spawner issues N spawn(fun nop/0); the clock runs from the
%% first spawn until process_count is back to its starting value.
%% Keys: n seconds spawns_per_s spawn_loop_s cpu_s.
-module(hive_peer_spawn).
-export([main/1]).

main(Args) ->
    [N] = hive_peer_util:int_args(Args, 1),
    hive_peer_util:warm_up(),
    hive_peer_util:wait_quiet(),
    Base = erlang:system_info(process_count),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    spawn_loop(N),
    T1 = hive_peer_util:clock(),
    hive_peer_util:wait_process_count(Base),
    T2 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    Secs = hive_peer_util:seconds(T0, T2),
    hive_peer_util:result(spawn,
        [{n, N}, {seconds, Secs}, {spawns_per_s, hive_peer_util:rate(N, Secs)},
         {spawn_loop_s, hive_peer_util:seconds(T0, T1)},
         {cpu_s, hive_peer_util:cpu_s(C0, C1)}]).

spawn_loop(0) -> ok;
spawn_loop(I) ->
    spawn(fun nop/0),
    spawn_loop(I - 1).

nop() -> ok.
