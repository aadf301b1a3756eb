%% dist_fan_in S K: S senders on node A each send K messages to one sink on node B
%% (hive_peer_dist; spawned by B's registered server), S*K in all, no flow control. A
%% message is a 24-byte binary <<Seq, Index, Len, 0>>. The clock runs from the go
%% broadcast until the sink's done message (after the S*K-th) arrives at main.
%% msgs_per_s = S*K / seconds; cpu_s is both nodes' CPU over the timed part.
%% Keys: senders k seconds msgs_per_s cpu_s (+ cpu_a_s cpu_b_s).
-module(hive_peer_dist_fan_in).
-export([main/1, node_a/1]).

main(Args) -> hive_peer_dist:launch(?MODULE, Args).

node_a(Args) ->
    [S, K] = hive_peer_util:int_args(Args, 2),
    hive_peer_util:warm_up(),
    B = {_, Node, BPid} = hive_peer_dist:start_b(?MODULE),
    _ = hive_peer_dist:cpu_ticks_of(BPid),
    {bench, Node} ! {hello_sink, self(), 0, S, K},
    Sink = receive {ready, Si} -> Si end,
    Main = self(),
    Senders = [spawn(fun() -> sender(Main, Sink, I, K) end) || I <- lists:seq(0, S - 1)],
    hive_peer_util:wait_quiet(),
    CA0 = hive_peer_util:cpu_ticks(),
    CB0 = hive_peer_dist:cpu_ticks_of(BPid),
    T0 = hive_peer_util:clock(),
    [Se ! go || Se <- Senders],
    {Count, _} = receive {done, C, By} -> {C, By}
                 after 60000 -> hive_peer_util:fail("main: no done within 60 s", [])
                 end,
    T1 = hive_peer_util:clock(),
    CA1 = hive_peer_util:cpu_ticks(),
    CB1 = hive_peer_dist:cpu_ticks_of(BPid),
    Sent = lists:sum([receive {sent, Se, N} -> N end || Se <- Senders]),
    Count =:= S * K andalso Sent =:= S * K
        orelse hive_peer_util:fail("dist_fan_in: ~b received, ~b sent, expected ~b",
                                   [Count, Sent, S * K]),
    Secs = hive_peer_util:seconds(T0, T1),
    CpuA = hive_peer_util:cpu_s(CA0, CA1),
    CpuB = hive_peer_util:cpu_s(CB0, CB1),
    hive_peer_dist:stop_b(B),
    hive_peer_util:result(dist_fan_in,
        [{senders, S}, {k, K}, {seconds, Secs},
         {msgs_per_s, hive_peer_util:rate(S * K, Secs)},
         {cpu_s, CpuA + CpuB}, {cpu_a_s, CpuA}, {cpu_b_s, CpuB}]).

sender(Main, Sink, Idx, K) ->
    receive go -> ok end,
    send(Sink, Idx, 0, K),
    Main ! {sent, self(), K}.

send(_, _, K, K) -> ok;
send(Sink, Idx, I, K) ->
    Sink ! <<I:64/little, Idx:32/little, 24:32/little, 0:64>>,
    send(Sink, Idx, I + 1, K).
