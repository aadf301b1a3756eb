%% recv_timeout K: main does K receives with a 1 ms timeout on an empty mailbox
%% (`receive after 1 -> ok end`, the sleep loop of baselines.md's timer_storm),
%% timing each with erlang:monotonic_time/0. Checks that none returns before
%% 1 ms. Percentiles are taken as in benches/stress/recv_timeout.c: sorted
%% latencies L[0..K-1], median L[K div 2], p99 L[K*99 div 100].
%% Keys: k timeout_ms min_us med_us p99_us max_us.
-module(hive_peer_recv_timeout).
-export([main/1]).

-define(TIMEOUT_MS, 1).

main(Args) ->
    [K] = hive_peer_util:int_args(Args, 1),
    K >= 1 orelse hive_peer_util:fail("recv_timeout: K must be at least 1", []),
    hive_peer_util:warm_up(),
    hive_peer_util:wait_quiet(),
    Lat = lists:sort(loop(K, [])),
    Min = hd(Lat),
    Min >= ?TIMEOUT_MS * 1000000
        orelse hive_peer_util:fail("recv_timeout: timed out after ~b ns", [Min]),
    At = fun(I) -> lists:nth(I + 1, Lat) / 1.0e3 end,
    hive_peer_util:result(recv_timeout,
        [{k, K}, {timeout_ms, ?TIMEOUT_MS},
         {min_us, At(0)}, {med_us, At(K div 2)},
         {p99_us, At(K * 99 div 100)}, {max_us, At(K - 1)}]).

%% K latencies in nanoseconds.
loop(0, Acc) -> Acc;
loop(I, Acc) ->
    T0 = erlang:monotonic_time(),
    receive after ?TIMEOUT_MS -> ok end,
    T1 = erlang:monotonic_time(),
    loop(I - 1, [erlang:convert_time_unit(T1 - T0, native, nanosecond) | Acc]).
