%% fairness K: 2*S processes (S = schedulers online) compute forever and never
%% receive (busy/1, one call and one reduction per iteration); meanwhile main
%% and a ponger do K round trips, `Pong ! {ping, self()}, receive pong -> ok end`,
%% each timed with erlang:monotonic_time/0. Sorted latencies L[0..K-1]:
%% rt_med_us = L[K div 2], rt_p99_us = L[K*99 div 100], rt_max_us = L[K-1]
%% (as benches/stress/fairness.c). Then every busy process must have run
%% (busy_reds_min > 0), is monitored and killed (exit(P, kill)), each DOWN must
%% say killed, the ponger is stopped, and the process count must be back at its
%% starting value with main's mailbox empty.
%% Keys: round_trips busy seconds rt_med_us rt_p99_us rt_max_us busy_reds_min
%% busy_reds_max.
-module(hive_peer_fairness).
-export([main/1]).

main(Args) ->
    [K] = hive_peer_util:int_args(Args, 1),
    K >= 1 orelse hive_peer_util:fail("fairness: K must be at least 1", []),
    hive_peer_util:warm_up(),
    NBusy = 2 * erlang:system_info(schedulers_online),
    Base = erlang:system_info(process_count),
    Main = self(),
    Pong = spawn(fun ponger/0),
    Busy = [spawn(fun() -> Main ! {ready, self()}, busy(0) end)
            || _ <- lists:seq(1, NBusy)],
    [receive {ready, P} -> ok end || P <- Busy],
    T0 = hive_peer_util:clock(),
    Lat = lists:sort(ping(Pong, K, [])),
    Secs = hive_peer_util:seconds(T0, hive_peer_util:clock()),
    Reds = [begin {reductions, R} = erlang:process_info(P, reductions), R end
            || P <- Busy],
    lists:min(Reds) > 0
        orelse hive_peer_util:fail("fairness: a busy process never ran", []),
    Refs = [{erlang:monitor(process, P), P} || P <- Busy],
    [exit(P, kill) || P <- Busy],
    [receive
         {'DOWN', Ref, process, P, killed} -> ok;
         {'DOWN', Ref, process, P, Why} ->
             hive_peer_util:fail("fairness: busy process ended with ~p", [Why])
     after 10000 -> hive_peer_util:fail("fairness: no DOWN after kill", [])
     end || {Ref, P} <- Refs],
    Pong ! stop,
    hive_peer_util:wait_process_count(Base),
    {messages, []} = erlang:process_info(self(), messages),
    At = fun(I) ->
             erlang:convert_time_unit(lists:nth(I + 1, Lat), native, nanosecond) / 1.0e3
         end,
    hive_peer_util:result(fairness,
        [{round_trips, K}, {busy, NBusy}, {seconds, Secs},
         {rt_med_us, At(K div 2)}, {rt_p99_us, At(K * 99 div 100)},
         {rt_max_us, At(K - 1)},
         {busy_reds_min, lists:min(Reds)}, {busy_reds_max, lists:max(Reds)}]).

%% Computes forever: one function call (one reduction) per iteration.
busy(N) -> busy(N + 1).

ponger() ->
    receive
        {ping, From} -> From ! pong, ponger();
        stop -> ok
    end.

%% K round-trip times in native time units.
ping(_, 0, Acc) -> Acc;
ping(Pong, I, Acc) ->
    T0 = erlang:monotonic_time(),
    Pong ! {ping, self()},
    receive pong -> ok end,
    T1 = erlang:monotonic_time(),
    ping(Pong, I - 1, [T1 - T0 | Acc]).
