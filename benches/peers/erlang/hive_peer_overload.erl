%% overload S MSGS: S senders flood one receiver with MSGS {msg, Idx, I} tuples
%% in all (sender Idx sends MSGS div S, the first MSGS rem S one more); the
%% receiver does ?WORK reductions of computation per message (work/2, one call
%% each), so it consumes more slowly than they produce. Meanwhile a ping-pong
%% pair does round trips back to back (as hive_peer_fairness), each timed, and
%% main samples the receiver's message_queue_len and VmRSS every 10 ms, printing
%% a progress line on stderr every 250 ms. As benches/stress/overload.c, which
%% documents the keys: seconds (go until the receiver has taken MSGS), flood_s
%% (go until the last sender is done), round trips split at flood_s and kept in
%% log-linear histograms (64 buckets per power of two; percentile = bucket
%% midpoint, maxima exact; rt_tw_* weigh each round trip by its duration), max_qlen (main's samples and the receiver's own
%% process_info(self(), message_queue_len) every 1024 messages), rss_before_kb,
%% rss_peak_kb (VmHWM), rss_after_kb (all but main exited, after a GC of main),
%% b_per_queued_msg, rss_kept_pct. Checks: the receiver's count and sum, main's
%% mailbox empty, process count back at its starting value.
-module(hive_peer_overload).
-export([main/1]).

-define(WORK, 100).
-define(SUB, 64).
-define(BUCKETS, (?SUB * 58 + 2 * ?SUB)).
-define(PROGRESS_MS, 250).

main(Args) ->
    [S, N] = hive_peer_util:int_args(Args, 2),
    (S >= 1 andalso N >= 1)
        orelse hive_peer_util:fail("overload: S and MSGS must be positive", []),
    hive_peer_util:warm_up(),
    _ = hwm_kb(),
    Base = erlang:system_info(process_count),
    Main = self(),
    %% 1: senders still sending; 2: time the last one finished; 3: stop the pinger.
    A = atomics:new(3, [{signed, true}]),
    atomics:put(A, 1, S),
    HAll = counters:new(?BUCKETS, []),
    HFlood = counters:new(?BUCKETS, []),
    HDrain = counters:new(?BUCKETS, []),
    WFlood = counters:new(?BUCKETS, []),
    Receiver = spawn(fun() -> receiver(Main, N, 0, 0, 0) end),
    Pong = spawn(fun ponger/0),
    Pinger = spawn(fun() ->
                       receive go -> ok end,
                       pinger(Main, Pong, A, {HAll, HFlood, HDrain, WFlood}, 0, 0, 0, 0, 0)
                   end),
    Senders = [spawn(fun() ->
                         receive go -> ok end,
                         send(Receiver, Idx, share(N, S, Idx)),
                         case atomics:sub_get(A, 1, 1) of
                             0 -> atomics:put(A, 2, erlang:monotonic_time());
                             _ -> ok
                         end
                     end) || Idx <- lists:seq(0, S - 1)],
    hive_peer_util:wait_quiet(),
    RssBefore = hive_peer_util:rss_kb(),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    Pinger ! go,
    [P ! go || P <- Senders],
    {Sum, SelfMaxQ, MaxQ, T1} =
        sample(Receiver, A, HAll, T0, T0 + ms(?PROGRESS_MS), zeros(), 0, 0),
    C1 = hive_peer_util:cpu_ticks(),
    Expected = lists:sum([share(N, S, I) * (share(N, S, I) + 1) div 2
                          || I <- lists:seq(0, S - 1)]),
    Sum =:= Expected
        orelse hive_peer_util:fail("overload: sum ~b, expected ~b", [Sum, Expected]),
    atomics:put(A, 3, 1),
    {NFlood, MaxFlood, NDrain, MaxDrain} =
        receive {pinger_done, R} -> R
        after 60000 -> hive_peer_util:fail("overload: the pinger did not stop", [])
        end,
    hive_peer_util:wait_process_count(Base),
    {messages, []} = erlang:process_info(self(), messages),
    garbage_collect(),
    RssAfter = hive_peer_util:rss_kb(),
    RssPeak = hwm_kb(),
    FloodEnd = atomics:get(A, 2),
    NFlood >= 1
        orelse hive_peer_util:fail("overload: no round trip started during the flood", []),
    MaxQAll = max(MaxQ, SelfMaxQ),
    Grown = RssPeak - RssBefore,
    %% A bucket's midpoint may lie above the exact maximum.
    [FMed, FP99] = [min(P, MaxFlood / 1.0e3) || P <- percentiles(HFlood, NFlood)],
    [_, DP99] = [min(P, MaxDrain / 1.0e3) || P <- percentiles(HDrain, NDrain)],
    WCounts = [counters:get(WFlood, I) || I <- lists:seq(1, ?BUCKETS)],
    WTotal = lists:sum(WCounts),
    [TwMed, TwP99] = [min(weighted(WCounts, Q * WTotal, 0, 0) / 1.0e3, MaxFlood / 1.0e3)
                      || Q <- [0.5, 0.99]],
    hive_peer_util:result(overload,
        [{senders, S}, {msgs, N}, {seconds, hive_peer_util:seconds(T0, T1)},
         {flood_s, hive_peer_util:seconds(T0, FloodEnd)},
         {cpu_s, hive_peer_util:cpu_s(C0, C1)},
         {max_qlen, MaxQAll}, {self_max_qlen, SelfMaxQ},
         {rss_before_kb, RssBefore}, {rss_peak_kb, RssPeak}, {rss_after_kb, RssAfter},
         {b_per_queued_msg, if MaxQAll > 0 -> Grown * 1024 / MaxQAll; true -> 0.0 end},
         {rss_kept_pct, if Grown > 0 -> 100 * (RssAfter - RssBefore) / Grown; true -> 0.0 end},
         {rt_med_us, FMed}, {rt_p99_us, FP99}, {rt_max_us, MaxFlood / 1.0e3},
         {round_trips, NFlood}, {rt_tw_med_us, TwMed}, {rt_tw_p99_us, TwP99},
         {drain_rt_p99_us, DP99}, {drain_rt_max_us, MaxDrain / 1.0e3},
         {drain_round_trips, NDrain}, {work_reds, ?WORK}]).

share(N, S, I) when I < N rem S -> N div S + 1;
share(N, S, _) -> N div S.

ms(Ms) -> erlang:convert_time_unit(Ms, millisecond, native).

%% Sample every 10 ms until the receiver reports done; a progress line every
%% 250 ms with the round trips since the last one (from HAll).
sample(Receiver, A, HAll, T0, Next, Shown, MaxQ, Tick) ->
    receive
        {done, Sum, SelfMaxQ} -> {Sum, SelfMaxQ, MaxQ, hive_peer_util:clock()}
    after 10 ->
        Q = case erlang:process_info(Receiver, message_queue_len) of
                {message_queue_len, L} -> L;
                undefined -> 0
            end,
        Rss = hive_peer_util:rss_kb(),
        Now = hive_peer_util:clock(),
        hive_peer_util:seconds(T0, Now) > 150
            andalso hive_peer_util:fail("overload: not drained after 150 s", []),
        case Now >= Next of
            false -> sample(Receiver, A, HAll, T0, Next, Shown, max(Q, MaxQ), Tick);
            true ->
                Cur = [counters:get(HAll, I) || I <- lists:seq(1, ?BUCKETS)],
                Win = lists:zipwith(fun(C, P) -> C - P end, Cur, Shown),
                Cnt = lists:sum(Win),
                [Med, P99] = percentiles_list(Win, Cnt),
                Top = case [I || {I, C} <- lists:zip(lists:seq(0, ?BUCKETS - 1), Win), C > 0] of
                          [] -> 0.0;
                          Is -> value(lists:last(Is)) / 1.0e3
                      end,
                Phase = case atomics:get(A, 1) > 0 of true -> flooding; false -> draining end,
                io:format(standard_error,
                          "overload: t=~.2fs ~s qlen=~b rss=~b MB; round trips since last "
                          "line: ~b, med ~.1f us, p99 ~.1f us, max ~~~.1f us~n",
                          [hive_peer_util:seconds(T0, Now), Phase, Q, Rss div 1024, Cnt,
                           Med, P99, Top]),
                sample(Receiver, A, HAll, T0, Now + ms(?PROGRESS_MS), Cur, max(Q, MaxQ),
                       Tick + 1)
        end
    end.

zeros() -> lists:duplicate(?BUCKETS, 0).

receiver(Main, 0, Sum, _, SelfMaxQ) ->
    {message_queue_len, 0} = erlang:process_info(self(), message_queue_len),
    Main ! {done, Sum, SelfMaxQ};
receiver(Main, Left, Sum, Taken, SelfMaxQ) ->
    Q = case Taken band 1023 of
            0 -> {message_queue_len, L} = erlang:process_info(self(), message_queue_len), L;
            _ -> 0
        end,
    receive
        {msg, _Idx, I} ->
            _ = work(?WORK, I),
            receiver(Main, Left - 1, Sum + I, Taken + 1, max(Q, SelfMaxQ))
    end.

%% ?WORK function calls (reductions) of computation.
work(0, X) -> X;
work(N, X) -> work(N - 1, X + 1).

send(_, _, 0) -> ok;
send(Receiver, Idx, I) ->
    Receiver ! {msg, Idx, I},
    send(Receiver, Idx, I - 1).

ponger() ->
    receive
        {ping, From} -> From ! pong, ponger();
        stop -> ok
    end.

pinger(Main, Pong, A, {HAll, HFlood, HDrain, WFlood} = H, NF, MF, ND, MD, _) ->
    case atomics:get(A, 3) of
        1 ->
            Pong ! stop,
            Main ! {pinger_done, {NF, MF, ND, MD}};
        _ ->
            Flooding = atomics:get(A, 1) > 0,
            T0 = erlang:monotonic_time(),
            Pong ! {ping, self()},
            receive pong -> ok end,
            T1 = erlang:monotonic_time(),
            Lat = erlang:convert_time_unit(T1 - T0, native, nanosecond),
            B = bucket(Lat) + 1,
            counters:add(HAll, B, 1),
            case Flooding of
                true ->
                    counters:add(HFlood, B, 1),
                    counters:add(WFlood, B, Lat),
                    pinger(Main, Pong, A, H, NF + 1, max(MF, Lat), ND, MD, 0);
                false ->
                    counters:add(HDrain, B, 1),
                    pinger(Main, Pong, A, H, NF, MF, ND + 1, max(MD, Lat), 0)
            end
    end.

%% Log-linear buckets as overload.c's hbucket/hvalue (0-based).
bucket(V) when V < 2 * ?SUB -> V;
bucket(V) ->
    Shift = msb(V, 0) - 6,
    ?SUB * Shift + (V bsr Shift).

msb(1, B) -> B;
msb(V, B) -> msb(V bsr 1, B + 1).

value(I) when I < 2 * ?SUB -> float(I);
value(I) ->
    Shift = I div ?SUB - 1,
    ((I - ?SUB * Shift) bsl Shift) + (1 bsl Shift) / 2.

%% [median, p99] in us of the N samples in counters H (ranks N div 2, N*99 div 100).
percentiles(H, N) ->
    percentiles_list([counters:get(H, I) || I <- lists:seq(1, ?BUCKETS)], N).

percentiles_list(_, 0) -> [0.0, 0.0];
percentiles_list(Counts, N) ->
    [rank(Counts, R, 0, 0) / 1.0e3 || R <- [N div 2, N * 99 div 100]].

%% Time-weighted quantile: the first bucket where the cumulative latency sum
%% passes Target (as overload.c's hweighted_us).
weighted([], _, _, _) -> 0.0;
weighted([W | Ws], Target, I, Seen) ->
    case W > 0 andalso Seen + W > Target of
        true -> value(I);
        false -> weighted(Ws, Target, I + 1, Seen + W)
    end.

rank([], _, _, _) -> 0.0;
rank([C | Cs], R, I, Seen) ->
    case Seen + C > R of
        true -> value(I);
        false -> rank(Cs, R, I + 1, Seen + C)
    end.

%% VmHWM (peak VmRSS) of this OS process in kB.
hwm_kb() ->
    {ok, Bin} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Bin, "VmHWM:\\s+(\\d+)\\s+kB", [{capture, all_but_first, binary}]),
    binary_to_integer(Kb).
