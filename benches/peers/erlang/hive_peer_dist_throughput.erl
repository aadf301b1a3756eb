%% dist_throughput SIZE N: one sender on node A streams N binaries of SIZE bytes to one
%% sink on node B (hive_peer_dist; the sink is spawned by B's registered server). The
%% sink acks every W messages (W = 2 MiB / SIZE, 1..1024) and the sender never has more
%% than 2W unacknowledged. Each message is a fresh binary, <<Seq, Index, Len, Filler>>
%% (one copy of SIZE bytes per message, as Hive's hive_send). The clock runs from the
%% first send until the sink's done message arrives. mb_per_s = N*SIZE/10^6/seconds;
%% cpu_s is both nodes' CPU over the timed part.
%% Keys: size msgs seconds msgs_per_s mb_per_s cpu_s (+ window cpu_a_s cpu_b_s).
-module(hive_peer_dist_throughput).
-export([main/1, node_a/1]).

main(Args) -> hive_peer_dist:launch(?MODULE, Args).

node_a(Args) ->
    [Size, N] = hive_peer_util:int_args(Args, 2),
    Size >= 16 orelse hive_peer_util:fail("SIZE must be at least 16", []),
    hive_peer_util:warm_up(),
    B = {_, Node, BPid} = hive_peer_dist:start_b(?MODULE),
    _ = hive_peer_dist:cpu_ticks_of(BPid),
    W = max(1, min(1024, (2 bsl 20) div Size)),
    {bench, Node} ! {hello_sink, self(), W, 1, N},
    Sink = receive {ready, S} -> S end,
    Filler = binary:copy(<<7>>, Size - 16),
    hive_peer_util:wait_quiet(),
    CA0 = hive_peer_util:cpu_ticks(),
    CB0 = hive_peer_dist:cpu_ticks_of(BPid),
    T0 = hive_peer_util:clock(),
    Acked = send(Sink, 0, N, 0, W, Size, Filler),
    {Count, Bytes, Acked2} = wait_done(Acked, W),
    T1 = hive_peer_util:clock(),
    CA1 = hive_peer_util:cpu_ticks(),
    CB1 = hive_peer_dist:cpu_ticks_of(BPid),
    Count =:= N andalso Bytes =:= N * Size andalso Acked2 =:= (N div W) * W
        orelse hive_peer_util:fail("dist_throughput: done ~b msgs ~b bytes, ~b acked",
                                   [Count, Bytes, Acked2]),
    Secs = hive_peer_util:seconds(T0, T1),
    CpuA = hive_peer_util:cpu_s(CA0, CA1),
    CpuB = hive_peer_util:cpu_s(CB0, CB1),
    hive_peer_dist:stop_b(B),
    hive_peer_util:result(dist_throughput,
        [{size, Size}, {msgs, N}, {seconds, Secs},
         {msgs_per_s, hive_peer_util:rate(N, Secs)},
         {mb_per_s, N * Size / 1.0e6 / Secs},
         {cpu_s, CpuA + CpuB}, {window, W}, {cpu_a_s, CpuA}, {cpu_b_s, CpuB}]).

send(_, N, N, Acked, _, _, _) -> Acked;
send(Sink, I, N, Acked, W, Size, Filler) when I - Acked >= 2 * W ->
    receive
        {ack, C} ->
            C =:= Acked + W orelse hive_peer_util:fail("ack ~b after ~b", [C, Acked]),
            send(Sink, I, N, C, W, Size, Filler)
    after 30000 -> hive_peer_util:fail("sender: no ack within 30 s", [])
    end;
send(Sink, I, N, Acked, W, Size, Filler) ->
    Sink ! <<I:64/little, 0:32/little, Size:32/little, Filler/binary>>,
    send(Sink, I + 1, N, Acked, W, Size, Filler).

wait_done(Acked, W) ->
    receive
        {ack, C} when C =:= Acked + W -> wait_done(C, W);
        {done, Count, Bytes} -> {Count, Bytes, Acked}
    after 30000 -> hive_peer_util:fail("sender: no done within 30 s", [])
    end.
