%% Shared helpers for the hive_peer_* workload modules.
%%
%% Each workload module is run as
%%   erl -noshell +S S:S +P 4000000 -pa DIR -run hive_peer_<workload> main ARGS...
%% and prints exactly one line
%%   RESULT lang=erlang name=<workload> schedulers=<S> key=value ...
%% See benches/README.md and shared/bench/baselines.md for the method.
-module(hive_peer_util).

-export([int_args/2, warm_up/0, clock/0, seconds/2, cpu_ticks/0, cpu_s/2, rss_kb/0,
         wait_quiet/0, wait_process_count/1, rate/2, result/2, fail/2]).

%% Parse the string arguments given to main/1; Arity is the expected count.
int_args(Args, Arity) when length(Args) =:= Arity ->
    try [list_to_integer(A) || A <- Args]
    catch error:badarg -> fail("arguments must be integers, got ~p", [Args])
    end;
int_args(Args, Arity) ->
    fail("expected ~b integer arguments, got ~p", [Arity, Args]).

%% Call the probes once before anything is measured, so that loading the
%% modules they use (string, re, file) does not land in a timed part or an RSS
%% delta.
warm_up() ->
    _ = cpu_ticks(),
    _ = rss_kb(),
    _ = seconds(clock(), clock()),
    _ = erlang:statistics(total_run_queue_lengths_all),
    ok.

%% Monotonic time in native units.
clock() -> erlang:monotonic_time().

%% Seconds (float) between two clock/0 readings.
seconds(T0, T1) -> erlang:convert_time_unit(T1 - T0, native, nanosecond) / 1.0e9.

%% utime + stime of this OS process in clock ticks (fields 14 and 15 of
%% /proc/self/stat).
cpu_ticks() ->
    {ok, Bin} = file:read_file("/proc/self/stat"),
    %% Field 2 (comm) is in parentheses and may contain spaces: split after
    %% the last ')'. The rest starts at field 3.
    [_, Rest] = string:split(Bin, ")", trailing),
    Fields = string:lexemes(Rest, " \n"),
    Utime = binary_to_integer(lists:nth(14 - 2, Fields)),
    Stime = binary_to_integer(lists:nth(15 - 2, Fields)),
    Utime + Stime.

%% CPU seconds between two cpu_ticks/0 readings (USER_HZ = 100).
cpu_s(Ticks0, Ticks1) -> (Ticks1 - Ticks0) / 100.

%% VmRSS of this OS process in kB, from /proc/self/status.
rss_kb() ->
    {ok, Bin} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Bin, "VmRSS:\\s+(\\d+)\\s+kB", [{capture, all_but_first, binary}]),
    binary_to_integer(Kb).

%% "Wait for quiet": poll every 1 ms until every run queue is empty, i.e.
%% every spawned process has run and parked.
wait_quiet() ->
    case erlang:statistics(total_run_queue_lengths_all) of
        0 -> ok;
        _ -> receive after 1 -> wait_quiet() end
    end.

%% Spin (yielding to other processes) until process_count is back to Base.
%% Used where that moment stops a clock, so it is not rounded to a timer tick.
wait_process_count(Base) ->
    case erlang:system_info(process_count) of
        C when C =< Base -> ok;
        _ -> erlang:yield(), wait_process_count(Base)
    end.

%% Count / Seconds, rounded to an integer.
rate(Count, Seconds) when Seconds > 0 -> round(Count / Seconds);
rate(_, _) -> 0.

%% Print the one RESULT line and halt(0).
result(Name, KVs) ->
    S = erlang:system_info(schedulers_online),
    Pairs = [[" ", atom_to_list(K), "=", fmt(V)] || {K, V} <- KVs],
    io:put_chars(["RESULT lang=erlang name=", atom_to_list(Name),
                  " schedulers=", integer_to_list(S), Pairs, "\n"]),
    erlang:halt(0).

%% Report a failed check on stderr and halt(1).
fail(Fmt, Args) ->
    io:format(standard_error, "hive_peer: " ++ Fmt ++ "~n", Args),
    erlang:halt(1).

%% Integers as they are; floats with about 4 significant digits, never in
%% exponent notation (values of 1000 and above are rounded to integers); atoms
%% as their text (link_cascade's tail_reason=killed).
fmt(V) when is_integer(V) -> integer_to_list(V);
fmt(V) when is_atom(V) -> atom_to_list(V);
fmt(V) when is_float(V), V == 0.0 -> "0";
fmt(V) when is_float(V), abs(V) >= 1000 -> integer_to_list(round(V));
fmt(V) when is_float(V) ->
    Digits = max(0, 3 - floor(math:log10(abs(V)))),
    float_to_list(V, [{decimals, Digits}, compact]).
