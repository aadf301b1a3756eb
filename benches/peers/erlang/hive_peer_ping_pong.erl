%% ping_pong P K: P pairs each do K round trips concurrently (2*P*K messages).
%% The pinger sends {ping, self()} and waits for pong. The clock runs from the
%% go broadcast until all P done messages have arrived.
%% Keys: pairs k seconds msgs_per_s cpu_s.
-module(hive_peer_ping_pong).
-export([main/1]).

main(Args) ->
    [P, K] = hive_peer_util:int_args(Args, 2),
    hive_peer_util:warm_up(),
    Main = self(),
    Pingers = [begin
                   Ponger = spawn(fun ponger/0),
                   spawn(fun() -> pinger(Main, Ponger, K) end)
               end || _ <- lists:seq(1, P)],
    hive_peer_util:wait_quiet(),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    [Pinger ! go || Pinger <- Pingers],
    Trips = collect(P, 0),
    T1 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    Trips =:= P * K
        orelse hive_peer_util:fail("ping_pong: ~b round trips, expected ~b", [Trips, P * K]),
    Secs = hive_peer_util:seconds(T0, T1),
    hive_peer_util:result(ping_pong,
        [{pairs, P}, {k, K}, {seconds, Secs},
         {msgs_per_s, hive_peer_util:rate(2 * P * K, Secs)},
         {cpu_s, hive_peer_util:cpu_s(C0, C1)}]).

collect(0, Trips) -> Trips;
collect(I, Trips) -> receive {done, T} -> collect(I - 1, Trips + T) end.

pinger(Main, Ponger, K) ->
    receive go -> ok end,
    ping(Ponger, K),
    Main ! {done, K}.

ping(_, 0) -> ok;
ping(Ponger, I) ->
    Ponger ! {ping, self()},
    receive pong -> ping(Ponger, I - 1) end.

ponger() ->
    receive {ping, From} -> From ! pong, ponger() end.
