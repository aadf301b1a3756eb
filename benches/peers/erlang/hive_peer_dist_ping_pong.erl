%% dist_ping_pong P K: P pairs across two BEAM nodes on loopback (hive_peer_dist), each
%% doing K round trips concurrently; the pinger on node A, its echo process on node B
%% (spawned by B's registered server on a {hello_echo, self()} sent to {bench, B}). A ping
%% is a 24-byte binary with the sequence number; the echo sends it back unchanged. Every
%% round trip is timed by its pinger. The clock runs from the go broadcast until all P
%% done messages have arrived. msgs_per_s counts both directions (2*P*K / seconds); cpu_s
%% is both nodes' CPU over the timed part.
%% Keys: pairs k seconds msgs_per_s rt_p50_us rt_p99_us cpu_s (+ rt_max_us cpu_a_s cpu_b_s).
-module(hive_peer_dist_ping_pong).
-export([main/1, node_a/1]).

main(Args) -> hive_peer_dist:launch(?MODULE, Args).

node_a(Args) ->
    [P, K] = hive_peer_util:int_args(Args, 2),
    hive_peer_util:warm_up(),
    B = {_, Node, BPid} = hive_peer_dist:start_b(?MODULE),
    _ = hive_peer_dist:cpu_ticks_of(BPid),
    Main = self(),
    Pingers = [spawn(fun() -> pinger(Main, Node, K) end) || _ <- lists:seq(1, P)],
    [receive {ready, Pi} -> ok end || Pi <- Pingers],
    hive_peer_util:wait_quiet(),
    CA0 = hive_peer_util:cpu_ticks(),
    CB0 = hive_peer_dist:cpu_ticks_of(BPid),
    T0 = hive_peer_util:clock(),
    [Pi ! go || Pi <- Pingers],
    Samples = lists:append([receive {done, Pi, S} -> S end || Pi <- Pingers]),
    T1 = hive_peer_util:clock(),
    CA1 = hive_peer_util:cpu_ticks(),
    CB1 = hive_peer_dist:cpu_ticks_of(BPid),
    length(Samples) =:= P * K
        orelse hive_peer_util:fail("dist_ping_pong: ~b round trips, expected ~b",
                                   [length(Samples), P * K]),
    [receive {count, Pi, C} -> C =:= K orelse
        hive_peer_util:fail("dist_ping_pong: an echo answered ~b, expected ~b", [C, K])
     end || Pi <- Pingers],
    Sorted = list_to_tuple(lists:sort(Samples)),
    US = fun(Native) -> erlang:convert_time_unit(Native, native, nanosecond) / 1000 end,
    Secs = hive_peer_util:seconds(T0, T1),
    CpuA = hive_peer_util:cpu_s(CA0, CA1),
    CpuB = hive_peer_util:cpu_s(CB0, CB1),
    hive_peer_dist:stop_b(B),
    hive_peer_util:result(dist_ping_pong,
        [{pairs, P}, {k, K}, {seconds, Secs},
         {msgs_per_s, hive_peer_util:rate(2 * P * K, Secs)},
         {rt_p50_us, US(hive_peer_dist:pct(Sorted, 50))},
         {rt_p99_us, US(hive_peer_dist:pct(Sorted, 99))},
         {rt_max_us, US(element(tuple_size(Sorted), Sorted))},
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
