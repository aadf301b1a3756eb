%% dist_connect N: connection set-up between two BEAM nodes (hive_peer_dist), N times.
%% Each time node A sends {connect, self(), I} to {bench, B} while A is not connected to
%% B: the send starts the connection (epmd lookup, TCP connect, the handshake; TLS first
%% with inet_tls), and B's server answers {connect, I}. One sample is the time from the
%% send until the reply arrives. Then A drops the connection (erlang:disconnect_node/1,
%% untimed) and waits until neither node lists the other (B asked over the peer's control
%% connection, standard_io, so B outlives the distribution connection). The nodes are
%% visible, as in the other distribution peers.
%% Keys: n setup_p50_us setup_p99_us seconds cpu_s (+ setup_min_us setup_max_us cpu_a_s
%% cpu_b_s).
-module(hive_peer_dist_connect).
-export([main/1, node_a/1]).

main(Args) -> hive_peer_dist:launch(?MODULE, Args).

node_a(Args) ->
    [N] = hive_peer_util:int_args(Args, 1),
    hive_peer_util:warm_up(),
    B = {Peer, Node, BPid} = hive_peer_dist:start_b(?MODULE, #{connection => standard_io}),
    _ = hive_peer_dist:cpu_ticks_of(BPid),
    Server = erpc:call(Node, erlang, whereis, [bench]),
    drop(Peer, Node),
    CA0 = hive_peer_util:cpu_ticks(),
    CB0 = hive_peer_dist:cpu_ticks_of(BPid),
    T0 = hive_peer_util:clock(),
    Samples = [connect(Peer, Node, Server, I) || I <- lists:seq(0, N - 1)],
    T1 = hive_peer_util:clock(),
    CA1 = hive_peer_util:cpu_ticks(),
    CB1 = hive_peer_dist:cpu_ticks_of(BPid),
    receive Stray -> hive_peer_util:fail("dist_connect: stray message ~p", [Stray])
    after 0 -> ok
    end,
    Sorted = list_to_tuple(lists:sort(Samples)),
    US = fun(Native) -> erlang:convert_time_unit(Native, native, nanosecond) / 1000 end,
    Secs = hive_peer_util:seconds(T0, T1),
    CpuA = hive_peer_util:cpu_s(CA0, CA1),
    CpuB = hive_peer_util:cpu_s(CB0, CB1),
    hive_peer_dist:stop_b(B),
    hive_peer_util:result(dist_connect,
        [{n, N},
         {setup_p50_us, US(hive_peer_dist:pct(Sorted, 50))},
         {setup_p99_us, US(hive_peer_dist:pct(Sorted, 99))},
         {seconds, Secs},
         {setup_min_us, US(element(1, Sorted))},
         {setup_max_us, US(element(tuple_size(Sorted), Sorted))},
         {cpu_s, CpuA + CpuB}, {cpu_a_s, CpuA}, {cpu_b_s, CpuB}]).

connect(Peer, Node, Server, I) ->
    T0 = erlang:monotonic_time(),
    {bench, Node} ! {connect, self(), I},
    receive
        {connect, I} -> ok
    after 30000 -> hive_peer_util:fail("dist_connect: no reply ~b within 30 s", [I])
    end,
    T = erlang:monotonic_time() - T0,
    %% The reply came over the new connection from B's server (its pid is unchanged).
    Server =:= erpc:call(Node, erlang, whereis, [bench])
        orelse hive_peer_util:fail("dist_connect: B's server changed", []),
    drop(Peer, Node),
    T.

%% Drops the connection to Node and waits until neither side lists the other.
drop(Peer, Node) ->
    true = erlang:disconnect_node(Node),
    wait_gone(Peer, Node, 3000).

wait_gone(_, _, 0) -> hive_peer_util:fail("dist_connect: the connection did not go", []);
wait_gone(Peer, Node, Left) ->
    Me = node(),
    case lists:member(Node, nodes(connected))
         orelse lists:member(Me, peer:call(Peer, erlang, nodes, [connected])) of
        false -> ok;
        true -> receive after 1 -> wait_gone(Peer, Node, Left - 1) end
    end.
