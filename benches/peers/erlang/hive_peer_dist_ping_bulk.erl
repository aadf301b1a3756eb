%% dist_ping_bulk S K: ping under bulk traffic on one node pair (hive_peer_dist). One
%% pinger on node A does K round trips with its echo process on node B (24-byte binaries,
%% each round trip timed) while S bulk senders on A stream 64 KiB binaries to one stream
%% sink on B as fast as they are allowed: at most 2W unacknowledged each (W = 32, the sink
%% acks every W messages of each sender), and the BEAM suspends a sender to a node whose
%% distribution port is busy (more than +zdbbl, 1 MiB by default, queued). Set-up is
%% untimed. The clock runs from the go broadcast (senders first) until the pinger is done
%% (seconds); then the senders stop, each ends its stream ({'end', Idx, Sent}) and takes
%% its last acks; the bulk figures run until the sink's done message (bulk_seconds).
%% Keys: senders k seconds rt_p50_us rt_p99_us bulk_mb_per_s cpu_s (+ rt_max_us bulk_msgs
%% bulk_seconds cpu_a_s cpu_b_s).
-module(hive_peer_dist_ping_bulk).
-export([main/1, node_a/1]).

-define(SIZE, 65536).

main(Args) -> hive_peer_dist:launch(?MODULE, Args).

node_a(Args) ->
    [S, K] = hive_peer_util:int_args(Args, 2),
    hive_peer_util:warm_up(),
    B = {_, Node, BPid} = hive_peer_dist:start_b(?MODULE),
    _ = hive_peer_dist:cpu_ticks_of(BPid),
    Main = self(),
    W = (2 bsl 20) div ?SIZE,
    {bench, Node} ! {hello_sink, self(), W, S, 0},
    Sink = receive {ready, Sk} -> Sk after 30000 -> hive_peer_util:fail("no sink", []) end,
    Filler = binary:copy(<<7>>, ?SIZE - 16),
    Senders = [spawn(fun() -> sender(Main, Sink, I, W, Filler) end)
               || I <- lists:seq(0, S - 1)],
    Pinger = spawn(fun() -> pinger(Main, Node, K) end),
    [receive {ready, P} -> ok end || P <- Senders ++ [Pinger]],
    hive_peer_util:wait_quiet(),
    CA0 = hive_peer_util:cpu_ticks(),
    CB0 = hive_peer_dist:cpu_ticks_of(BPid),
    T0 = hive_peer_util:clock(),
    [P ! go || P <- Senders ++ [Pinger]],
    Samples = receive {done, Pinger, Sa} -> Sa end,
    T1 = hive_peer_util:clock(),
    CA1 = hive_peer_util:cpu_ticks(),
    CB1 = hive_peer_dist:cpu_ticks_of(BPid),
    [P ! stop || P <- Senders],
    receive {count, Pinger, C} -> C =:= K orelse
        hive_peer_util:fail("dist_ping_bulk: the echo answered ~b, expected ~b", [C, K])
    end,
    Sent = lists:sum([receive {sent, P, N} -> N end || P <- Senders]),
    {Count, Bytes} = receive {done, Cn, By} -> {Cn, By}
                     after 30000 -> hive_peer_util:fail("no done from the sink", []) end,
    T2 = hive_peer_util:clock(),
    Count =:= Sent andalso Bytes =:= Sent * ?SIZE
        orelse hive_peer_util:fail("dist_ping_bulk: sink got ~b msgs ~b bytes, ~b sent",
                                   [Count, Bytes, Sent]),
    length(Samples) =:= K
        orelse hive_peer_util:fail("dist_ping_bulk: ~b round trips", [length(Samples)]),
    Sorted = list_to_tuple(lists:sort(Samples)),
    US = fun(Native) -> erlang:convert_time_unit(Native, native, nanosecond) / 1000 end,
    Secs = hive_peer_util:seconds(T0, T1),
    BulkSecs = hive_peer_util:seconds(T0, T2),
    CpuA = hive_peer_util:cpu_s(CA0, CA1),
    CpuB = hive_peer_util:cpu_s(CB0, CB1),
    hive_peer_dist:stop_b(B),
    hive_peer_util:result(dist_ping_bulk,
        [{senders, S}, {k, K}, {seconds, Secs},
         {rt_p50_us, US(hive_peer_dist:pct(Sorted, 50))},
         {rt_p99_us, US(hive_peer_dist:pct(Sorted, 99))},
         {bulk_mb_per_s, Bytes / 1.0e6 / BulkSecs},
         {rt_max_us, US(element(tuple_size(Sorted), Sorted))},
         {bulk_msgs, Count}, {bulk_seconds, BulkSecs},
         {cpu_s, CpuA + CpuB}, {cpu_a_s, CpuA}, {cpu_b_s, CpuB}]).

pinger(Main, Node, K) ->
    {bench, Node} ! {hello_echo, self()},
    Echo = receive {ready, E} -> E end,
    Main ! {ready, self()},
    receive go -> ok end,
    Samples = ping(Echo, 0, K, []),
    Main ! {done, self(), Samples},
    Echo ! stop,
    receive {count, C} -> Main ! {count, self(), C} end.

ping(_, K, K, Acc) -> Acc;
ping(Echo, I, K, Acc) ->
    Bin = <<I:64/little, 0:128>>,
    T0 = erlang:monotonic_time(),
    Echo ! Bin,
    receive
        <<J:64/little, _/binary>> when J =:= I -> ok
    after 30000 -> hive_peer_util:fail("pinger: no reply to ping ~b within 30 s", [I])
    end,
    ping(Echo, I + 1, K, [erlang:monotonic_time() - T0 | Acc]).

%% A bulk sender: announces itself to the sink (acks come here), then streams until stop.
sender(Main, Sink, Idx, W, Filler) ->
    Sink ! {sender, Idx, self()},
    receive {sender_ok, Idx} -> ok after 30000 -> hive_peer_util:fail("no sender_ok", []) end,
    Main ! {ready, self()},
    receive go -> ok end,
    stream(Main, Sink, Idx, W, Filler, 0, 0).

stream(Main, Sink, Idx, W, Filler, Sent, Acked) when Sent - Acked >= 2 * W ->
    receive
        {ack, C} ->
            C =:= Acked + W orelse hive_peer_util:fail("ack ~b after ~b", [C, Acked]),
            stream(Main, Sink, Idx, W, Filler, Sent, C)
    after 30000 -> hive_peer_util:fail("bulk sender: no ack within 30 s", [])
    end;
stream(Main, Sink, Idx, W, Filler, Sent, Acked) ->
    receive
        stop ->
            Sink ! {'end', Idx, Sent},
            last_acks(Sent, Acked, W),
            Main ! {sent, self(), Sent}
    after 0 ->
        Sink ! <<Sent:64/little, Idx:32/little, ?SIZE:32/little, Filler/binary>>,
        stream(Main, Sink, Idx, W, Filler, Sent + 1, Acked)
    end.

last_acks(Sent, Acked, W) when Acked >= (Sent div W) * W -> ok;
last_acks(Sent, Acked, W) ->
    receive
        {ack, C} when C =:= Acked + W -> last_acks(Sent, C, W)
    after 30000 -> hive_peer_util:fail("bulk sender: last acks missing", [])
    end.
