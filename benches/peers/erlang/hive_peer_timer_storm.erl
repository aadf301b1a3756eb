%% timer_storm N R (baselines.md workload 10, the "sync" cancel column).
%% Storm: R receivers; main (the setter) sets N erlang:send_after/3 timers with
%% delays D pre-generated uniformly in 0..1000 ms (inclusive), round-robin over
%% the receivers; the message is the ideal deadline (monotonic time at set +
%% D ms, native units), so a receiver computes lateness = receipt time - ideal
%% deadline. The set loop is timed (sets_per_s). Then every second timer (in
%% set order) is cancelled with the synchronous erlang:cancel_timer/1, timed
%% (cancels_per_s); an integer result counts as cancel_ok. The storm ends when
%% fired + cancel_ok == N (checked). Lateness percentiles are over the fired
%% timers, as in benches/stress/timer_storm.c: sorted L[0..K-1], median
%% L[K div 2], p99 L[K*99 div 100], max L[K-1].
%% Sleep loop: 1000 x `receive after 1 -> ok end`, each timed.
%% Far pass: N timers set 60000..61000 ms ahead to one sink process
%% (far_sets_per_s), every second one cancelled (far_cancels_per_s; each must
%% be live), then the rest (untimed).
%% Keys: n r sets_per_s cancels_per_s cancel_ok fired late_med_us late_p99_us
%% late_max_us sleep1_med_us sleep1_p99_us far_sets_per_s far_cancels_per_s
%% (and early, storm_s as the C program).
-module(hive_peer_timer_storm).
-export([main/1]).

-define(SLEEP_K, 1000).
-define(FAR_MS, 60000).

main(Args) ->
    [N, R] = hive_peer_util:int_args(Args, 2),
    (N >= 1 andalso R >= 1)
        orelse hive_peer_util:fail("timer_storm: N and R must be positive", []),
    hive_peer_util:warm_up(),
    rand:seed(exsss, {1, 2, 3}),
    Main = self(),
    Fired = counters:new(1, [write_concurrency]),
    MsNative = erlang:convert_time_unit(1, millisecond, native),
    Recv = list_to_tuple([spawn(fun() -> receiver(Main, Fired, 0, 0, []) end)
                          || _ <- lists:seq(1, R)]),
    Delays = [rand:uniform(1001) - 1 || _ <- lists:seq(1, N)],
    hive_peer_util:wait_quiet(),

    %% ---- storm: set ----
    T0 = hive_peer_util:clock(),
    RevRefs = set_loop(Delays, Recv, 1, R, MsNative, []),
    T1 = hive_peer_util:clock(),
    Refs = lists:reverse(RevRefs),
    %% ---- storm: cancel every second timer ----
    T1b = hive_peer_util:clock(),
    CancelOk = cancel_loop(Refs, 0),
    T2 = hive_peer_util:clock(),
    wait_all(Fired, CancelOk, N, T2),
    T3 = hive_peer_util:clock(),
    [P ! stop || P <- tuple_to_list(Recv)],
    {Count, Early, Lats} = collect(R, 0, 0, []),
    Count =:= counters:get(Fired, 1)
        orelse hive_peer_util:fail("timer_storm: receivers counted ~b, counter ~b",
                                   [Count, counters:get(Fired, 1)]),
    Count + CancelOk =:= N
        orelse hive_peer_util:fail("timer_storm: ~b fired + ~b cancelled, expected ~b",
                                   [Count, CancelOk, N]),
    {LMed, LP99, LMax} = case lists:sort(Lats) of
                             [] -> {0.0, 0.0, 0.0};
                             L -> pct(L, Count)
                         end,

    %% ---- sleep loop ----
    Sl = lists:sort(sleep_loop(?SLEEP_K, [])),
    {SMed, SP99, _} = pct(Sl, ?SLEEP_K),

    %% ---- far pass ----
    Sink = spawn(fun() -> receive stop -> ok end end),
    FarDelays = [?FAR_MS + rand:uniform(1001) - 1 || _ <- lists:seq(1, N)],
    F0 = hive_peer_util:clock(),
    FarRev = far_set(FarDelays, Sink, []),
    F1 = hive_peer_util:clock(),
    {Even, Odd} = split(lists:reverse(FarRev), [], []),
    F1b = hive_peer_util:clock(),
    far_cancel(Even),
    F2 = hive_peer_util:clock(),
    far_cancel(Odd),
    Sink ! stop,

    Half = (N + 1) div 2,
    SetS = hive_peer_util:seconds(T0, T1),
    CancelS = hive_peer_util:seconds(T1b, T2),
    hive_peer_util:result(timer_storm,
        [{n, N}, {r, R},
         {sets_per_s, hive_peer_util:rate(N, SetS)},
         {cancels_per_s, hive_peer_util:rate(Half, CancelS)},
         {cancel_ok, CancelOk}, {fired, Count},
         {late_med_us, LMed}, {late_p99_us, LP99}, {late_max_us, LMax},
         {sleep1_med_us, SMed}, {sleep1_p99_us, SP99},
         {far_sets_per_s, hive_peer_util:rate(N, hive_peer_util:seconds(F0, F1))},
         {far_cancels_per_s, hive_peer_util:rate(Half, hive_peer_util:seconds(F1b, F2))},
         {early, Early},
         {storm_s, hive_peer_util:seconds(T0, T3)}]).

set_loop([], _Recv, _K, _R, _MsNative, Acc) -> Acc;
set_loop([D | Ds], Recv, K, R, MsNative, Acc) ->
    Ideal = erlang:monotonic_time() + D * MsNative,
    Ref = erlang:send_after(D, element(K, Recv), Ideal),
    K1 = if K =:= R -> 1; true -> K + 1 end,
    set_loop(Ds, Recv, K1, R, MsNative, [Ref | Acc]).

%% Cancels the 1st, 3rd, 5th ... ref; counts the live ones.
cancel_loop([], Ok) -> Ok;
cancel_loop([Ref | Rest], Ok) ->
    Ok1 = case erlang:cancel_timer(Ref) of
              false -> Ok;
              Left when is_integer(Left) -> Ok + 1
          end,
    case Rest of
        [] -> Ok1;
        [_ | Rest1] -> cancel_loop(Rest1, Ok1)
    end.

wait_all(Fired, CancelOk, N, TStart) ->
    case counters:get(Fired, 1) + CancelOk >= N of
        true -> ok;
        false ->
            hive_peer_util:seconds(TStart, hive_peer_util:clock()) < 30
                orelse hive_peer_util:fail("timer_storm: only ~b fired + ~b cancelled of ~b",
                                           [counters:get(Fired, 1), CancelOk, N]),
            receive after 1 -> wait_all(Fired, CancelOk, N, TStart) end
    end.

receiver(Main, Fired, N, Early, Lats) ->
    receive
        stop ->
            {message_queue_len, 0} = process_info(self(), message_queue_len),
            Main ! {done, N, Early, Lats};
        Ideal when is_integer(Ideal) ->
            Late = erlang:monotonic_time() - Ideal,
            counters:add(Fired, 1, 1),
            Early1 = if Late < 0 -> Early + 1; true -> Early end,
            receiver(Main, Fired, N + 1, Early1, [Late | Lats])
    end.

collect(0, N, Early, Lats) -> {N, Early, Lats};
collect(I, N, Early, Lats) ->
    receive {done, C, E, L} -> collect(I - 1, N + C, Early + E, L ++ Lats) end.

%% Median, p99, max in µs of a sorted list of K native-unit durations.
pct(L, K) ->
    T = list_to_tuple(L),
    Us = fun(I) -> erlang:convert_time_unit(element(I + 1, T), native, nanosecond) / 1.0e3 end,
    {Us(K div 2), Us(K * 99 div 100), Us(K - 1)}.

sleep_loop(0, Acc) -> Acc;
sleep_loop(I, Acc) ->
    T0 = erlang:monotonic_time(),
    receive after 1 -> ok end,
    T1 = erlang:monotonic_time(),
    sleep_loop(I - 1, [T1 - T0 | Acc]).

far_set([], _Sink, Acc) -> Acc;
far_set([D | Ds], Sink, Acc) ->
    far_set(Ds, Sink, [erlang:send_after(D, Sink, far) | Acc]).

%% Splits refs in set order into the 1st, 3rd, ... and the 2nd, 4th, ...
split([], E, O) -> {lists:reverse(E), lists:reverse(O)};
split([A], E, O) -> split([], [A | E], O);
split([A, B | Rest], E, O) -> split(Rest, [A | E], [B | O]).

far_cancel([]) -> ok;
far_cancel([Ref | Rest]) ->
    case erlang:cancel_timer(Ref) of
        Left when is_integer(Left) -> far_cancel(Rest);
        false -> hive_peer_util:fail("timer_storm: a far timer was not live", [])
    end.
