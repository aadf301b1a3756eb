%% spawn_live N (one round): spawn N processes blocked in
%% `receive stop -> ok end`, keeping the pids in a list; the clock runs from
%% the first spawn until quiet. RSS is read before and while they live. Then
%% exit(P, kill) each, timed until process_count is back at baseline.
%% Keys: n spawns_per_s rss_before_kb rss_live_kb rss_after_kill_kb
%%       rss_per_proc_b kills_per_s.
-module(hive_peer_spawn_live).
-export([main/1]).

main(Args) ->
    [N] = hive_peer_util:int_args(Args, 1),
    hive_peer_util:warm_up(),
    hive_peer_util:wait_quiet(),
    Base = erlang:system_info(process_count),
    RssBefore = hive_peer_util:rss_kb(),
    T0 = hive_peer_util:clock(),
    Pids = spawn_loop(N, []),
    hive_peer_util:wait_quiet(),
    T1 = hive_peer_util:clock(),
    RssLive = hive_peer_util:rss_kb(),
    Live = erlang:system_info(process_count) - Base,
    Live =:= N orelse hive_peer_util:fail("spawn_live: ~b processes alive, expected ~b", [Live, N]),
    T2 = hive_peer_util:clock(),
    kill_all(Pids),
    hive_peer_util:wait_process_count(Base),
    T3 = hive_peer_util:clock(),
    RssAfter = hive_peer_util:rss_kb(),
    hive_peer_util:result(spawn_live,
        [{n, N},
         {spawns_per_s, hive_peer_util:rate(N, hive_peer_util:seconds(T0, T1))},
         {rss_before_kb, RssBefore}, {rss_live_kb, RssLive},
         {rss_after_kill_kb, RssAfter},
         {rss_per_proc_b, (RssLive - RssBefore) * 1024 / N},
         {kills_per_s, hive_peer_util:rate(N, hive_peer_util:seconds(T2, T3))}]).

spawn_loop(0, Acc) -> Acc;
spawn_loop(I, Acc) ->
    P = spawn(fun waiter/0),
    spawn_loop(I - 1, [P | Acc]).

waiter() ->
    receive stop -> ok end.

kill_all([]) -> ok;
kill_all([P | Ps]) ->
    exit(P, kill),
    kill_all(Ps).
