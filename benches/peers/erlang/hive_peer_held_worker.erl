%% held_worker HOLD_MS ROUNDS: the Erlang version of benches/stress/held_worker.c. One
%% process runs a busy Erlang loop until four sleepers have each done ROUNDS
%% `timer:sleep(50)` calls; each sleep's lateness (time taken - 50 ms) is recorded. The BEAM
%% preempts Erlang code, so the holder here cannot hold a scheduler the way a blocking C
%% call holds a Hive worker (only a NIF could): this column is a reference for the lateness
%% of a sleep next to a busy process. Percentiles as in the C version: sorted lateness
%% L[0..N-1], median L[N div 2], p99 L[N*99 div 100].
%% Keys: hold_ms rounds sleepers sleep_ms sleeps late_med_ms late_p99_ms late_max_ms takeovers.
-module(hive_peer_held_worker).
-export([main/1]).

-define(SLEEPERS, 4).
-define(SLEEP_MS, 50).

main(Args) ->
    [HoldMs, Rounds] = hive_peer_util:int_args(Args, 2),
    (HoldMs >= 1 andalso Rounds >= 1)
        orelse hive_peer_util:fail("held_worker: HOLD_MS and ROUNDS must be at least 1", []),
    hive_peer_util:warm_up(),
    hive_peer_util:wait_quiet(),
    Self = self(),
    Sleepers = [spawn(fun() -> Self ! {late, self(), sleeps(Rounds, [])} end)
                || _ <- lists:seq(1, ?SLEEPERS)],
    Holder = spawn(fun() -> hold() end),
    Late = lists:sort(lists:append([receive {late, P, L} -> L end || P <- Sleepers])),
    exit(Holder, kill),
    N = length(Late),
    At = fun(I) -> lists:nth(I + 1, Late) / 1.0e6 end,
    hive_peer_util:result(held_worker,
        [{hold_ms, HoldMs}, {rounds, Rounds}, {sleepers, ?SLEEPERS}, {sleep_ms, ?SLEEP_MS}, {sleeps, N},
         {late_med_ms, At(N div 2)}, {late_p99_ms, At(N * 99 div 100)},
         {late_max_ms, At(N - 1)}, {takeovers, 0}]).

%% Lateness of each sleep, in nanoseconds.
sleeps(0, Acc) -> Acc;
sleeps(I, Acc) ->
    T0 = erlang:monotonic_time(),
    timer:sleep(?SLEEP_MS),
    T1 = erlang:monotonic_time(),
    Ns = erlang:convert_time_unit(T1 - T0, native, nanosecond),
    sleeps(I - 1, [Ns - ?SLEEP_MS * 1000000 | Acc]).

%% A busy loop until killed.
hold() -> hold(0).
hold(N) -> hold(N + 1).
