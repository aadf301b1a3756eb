%% ring N M: N processes in a ring; a token goes M times around (N*M hops).
%% The token is the number of hops left: a node receiving H > 1 sends H-1 to
%% its successor, the node receiving 1 notifies main. Only the token passing
%% is timed. Keys: n m seconds hops_per_s ns_per_hop cpu_s.
-module(hive_peer_ring).
-export([main/1]).

main(Args) ->
    [N, M] = hive_peer_util:int_args(Args, 2),
    hive_peer_util:warm_up(),
    Main = self(),
    Nodes = [spawn(fun() -> init_node(Main) end) || _ <- lists:seq(1, N)],
    [First | _] = Nodes,
    link_ring(Nodes, First),
    hive_peer_util:wait_quiet(),
    Hops = N * M,
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    First ! Hops,
    receive {done, Notifier} -> ok end,
    T1 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    %% Hop k lands on node (k-1) rem N, so hop N*M (token 1) must land on the
    %% last node of the ring.
    Notifier =:= lists:last(Nodes)
        orelse hive_peer_util:fail("ring: token 1 reached the wrong node", []),
    Secs = hive_peer_util:seconds(T0, T1),
    hive_peer_util:result(ring,
        [{n, N}, {m, M}, {seconds, Secs}, {hops_per_s, hive_peer_util:rate(Hops, Secs)},
         {ns_per_hop, Secs * 1.0e9 / Hops}, {cpu_s, hive_peer_util:cpu_s(C0, C1)}]).

link_ring([Last], First) -> Last ! {next, First}, ok;
link_ring([P, Q | Rest], First) -> P ! {next, Q}, link_ring([Q | Rest], First).

init_node(Main) ->
    receive {next, Next} -> ring_node(Main, Next) end.

ring_node(Main, Next) ->
    receive
        1 -> Main ! {done, self()}, ring_node(Main, Next);
        H -> Next ! H - 1, ring_node(Main, Next)
    end.
