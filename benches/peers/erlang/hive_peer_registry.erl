%% registry OPS WORKERS (baselines.md workload 11): first 10,000 background
%% names are registered to idle processes (blocked in `receive stop -> ok end`);
%% then WORKERS workers each cycle over their own pool of 1000 pre-created atoms
%% calling register(Name, self()), whereis(Name) and unregister(Name). Each call
%% is one operation; OPS operations in total, split over the workers (the first
%% OPS rem WORKERS workers do one more). The clock runs from the go broadcast
%% until every worker has reported done. A worker whose share is not a multiple
%% of 3 ends inside a cycle and unregisters its last name after the counted
%% calls (as benches/stress/registry.c).
%% Checks: every call succeeds and whereis returns the worker itself; the done
%% counts sum to OPS; afterwards every background name still maps to its process.
%% Keys: ops workers seconds ops_per_s ns_per_op (and bg_names, pool, cpu_s).
-module(hive_peer_registry).
-export([main/1]).

-define(BG_NAMES, 10000).
-define(POOL, 1000).

main(Args) ->
    [Ops, W] = hive_peer_util:int_args(Args, 2),
    (Ops >= 1 andalso W >= 1)
        orelse hive_peer_util:fail("registry: OPS and WORKERS must be positive", []),
    hive_peer_util:warm_up(),
    Main = self(),
    Bg = [begin
              P = spawn(fun idle/0),
              Name = list_to_atom("bg_" ++ integer_to_list(I)),
              true = register(Name, P),
              {Name, P}
          end || I <- lists:seq(0, ?BG_NAMES - 1)],
    Workers = [begin
                   Share = Ops div W + (case K < Ops rem W of true -> 1; false -> 0 end),
                   spawn(fun() -> worker(Main, K, Share) end)
               end || K <- lists:seq(0, W - 1)],
    hive_peer_util:wait_quiet(),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    [P ! go || P <- Workers],
    Done = collect(W, 0),
    T1 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    Done =:= Ops
        orelse hive_peer_util:fail("registry: ~b operations, expected ~b", [Done, Ops]),
    [whereis(Name) =:= P
         orelse hive_peer_util:fail("registry: background name ~p lost", [Name])
     || {Name, P} <- Bg],
    [P ! stop || {_, P} <- Bg],
    Secs = hive_peer_util:seconds(T0, T1),
    hive_peer_util:result(registry,
        [{ops, Ops}, {workers, W}, {seconds, Secs},
         {ops_per_s, hive_peer_util:rate(Ops, Secs)},
         {ns_per_op, Secs * 1.0e9 / Ops},
         {bg_names, ?BG_NAMES}, {pool, ?POOL},
         {cpu_s, hive_peer_util:cpu_s(C0, C1)}]).

collect(0, Ops) -> Ops;
collect(I, Ops) -> receive {done, N} -> collect(I - 1, Ops + N) end.

idle() ->
    receive stop -> ok end.

worker(Main, K, Share) ->
    Prefix = "w" ++ integer_to_list(K) ++ "_",
    Pool = list_to_tuple([list_to_atom(Prefix ++ integer_to_list(J))
                          || J <- lists:seq(0, ?POOL - 1)]),
    Self = self(),
    receive go -> ok end,
    try
        J = cycles(Pool, Self, Share div 3, 1),
        partial(element(J, Pool), Self, Share rem 3),
        Main ! {done, Share},
        Share rem 3 =:= 0 orelse unregister(element(J, Pool))
    catch
        Class:Reason ->
            hive_peer_util:fail("registry: worker ~b: ~p:~p", [K, Class, Reason])
    end.

%% C cycles of register / whereis / unregister; returns the next pool index.
cycles(_Pool, _Self, 0, J) -> J;
cycles(Pool, Self, C, J) ->
    Name = element(J, Pool),
    true = register(Name, Self),
    Self = whereis(Name),
    true = unregister(Name),
    cycles(Pool, Self, C - 1, if J =:= ?POOL -> 1; true -> J + 1 end).

%% The first Rest calls of one more cycle (Rest < 3).
partial(_Name, _Self, 0) -> ok;
partial(Name, Self, 1) -> true = register(Name, Self), ok;
partial(Name, Self, 2) -> partial(Name, Self, 1), Self = whereis(Name), ok.
