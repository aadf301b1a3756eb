%% echo CONNS SECONDS: a TCP echo server on loopback (process-io.md section 5,
%% "echo-rr"), gen_tcp in passive mode ({active,false}, binary, {packet,raw},
%% {nodelay,true}): one acceptor process accepts CONNS connections and spawns
%% a handler per connection (gen_tcp:controlling_process, then {go, Socket});
%% a handler loops gen_tcp:recv(S, 64) / gen_tcp:send until {error, closed}.
%%
%% The load generator is the Hive program's own client mode,
%% `<bin-dir>/echo client PORT CONNS SECONDS` (benches/stress/echo.c), run as a
%% port: the same closed loop of 64-byte requests as on the Hive side, with the
%% same line protocol (READY, go, DONE, ECHO ...). The bin dir comes from the
%% environment variable HIVE_STRESS_BIN_DIR (set by the runner), else
%% target/stress/bin. Server CPU is utime + stime of the beam OS process
%% (/proc/self/stat, 10 ms ticks) from `go` to DONE.
%%
%% Keys: conns duration_s window_s round_trips rps p50_us p99_us cpu_us_per_rt
%% rss_per_conn_b, plus max_us cpu_s rss_before_kb rss_conns_kb total_rt
%% connect_s. Checks: every connection did a round trip and every echo matched
%% (the client checks both and exits 1 otherwise), the handlers echoed exactly
%% the client's round trips, the client exited 0, the process count is back at
%% its start.
-module(hive_peer_echo).
-export([main/1, run/2]).

-define(PAYLOAD, 64).
-define(BOUND, 60000).
-define(IDLE_MS, 1000).

main(Args) -> run(Args, passive).

%% Mode: passive (gen_tcp:recv) or active (`{active, once}`, the echo_active workload).
run(Args, Mode) ->
    [Conns, Secs] = hive_peer_util:int_args(Args, 2),
    (Conns >= 1 andalso Secs >= 1)
        orelse hive_peer_util:fail("echo: CONNS and SECONDS must be at least 1", []),
    Bin = client_bin(),
    hive_peer_util:warm_up(),
    Counter = counters:new(1, [write_concurrency]),
    Base = erlang:system_info(process_count),
    Rss0 = hive_peer_util:rss_kb(),
    {ok, L} = gen_tcp:listen(0, [binary, {packet, raw}, {active, false},
                                 {nodelay, true}, {ip, {127, 0, 0, 1}},
                                 {backlog, 4096}]),
    {ok, Port} = inet:port(L),
    spawn_link(fun() -> acceptor(L, Conns, Counter, Mode) end),
    P = open_port({spawn_executable, Bin},
                  [{args, ["client", integer_to_list(Port), integer_to_list(Conns),
                           integer_to_list(Secs)]},
                   {line, 1024}, use_stdio, exit_status, binary]),
    expect(P, <<"READY">>),
    RssConns = hive_peer_util:rss_kb(),
    Self = self(),
    Ticker = spawn_link(fun() -> ticker(Self, []) end),
    Ponger = spawn_link(fun ponger/0),
    Pinger = spawn_link(fun() -> pinger(Self, Ponger, []) end),
    C0 = hive_peer_util:cpu_ticks(),
    true = port_command(P, <<"go\n">>),
    expect(P, <<"DONE">>),
    C1 = hive_peer_util:cpu_ticks(),
    Ticker ! stop,
    Late = receive {ticks, L0} -> lists:sort(L0)
           after ?BOUND -> hive_peer_util:fail("echo: the ticker did not report", [])
           end,
    NL = length(Late),
    NL >= 1 orelse hive_peer_util:fail("echo: the ticker never woke", []),
    Pinger ! stop,
    PP = receive {pp, P0} -> lists:sort(P0)
         after ?BOUND -> hive_peer_util:fail("echo: the ping-pong did not report", [])
         end,
    NP = length(PP),
    NP >= 1 orelse hive_peer_util:fail("echo: the ping-pong did no round trip", []),
    %% Idle connections: the server's CPU over ?IDLE_MS with every connection open.
    expect(P, <<"IDLE">>),
    I0 = hive_peer_util:cpu_ticks(),
    T0 = erlang:monotonic_time(microsecond),
    timer:sleep(?IDLE_MS),
    I1 = hive_peer_util:cpu_ticks(),
    IdleS = (erlang:monotonic_time(microsecond) - T0) / 1.0e6,
    true = port_command(P, <<"close\n">>),
    R = parse(line(P)),
    receive
        {P, {exit_status, 0}} -> ok;
        {P, {exit_status, St}} -> hive_peer_util:fail("echo: load generator exited ~b", [St])
    after ?BOUND -> hive_peer_util:fail("echo: load generator did not exit", [])
    end,
    %% Every handler sees end of stream and exits; so does the acceptor.
    hive_peer_util:wait_process_count(Base),
    ok = gen_tcp:close(L),
    WindowRt = get(window_rt, R),
    TotalRt = get(total_rt, R),
    get(min_conn_rt, R) >= 1
        orelse hive_peer_util:fail("echo: a connection did no round trip", []),
    WindowRt >= 1 orelse hive_peer_util:fail("echo: no round trip in the window", []),
    Served = counters:get(Counter, 1),
    Served =:= TotalRt
        orelse hive_peer_util:fail("echo: served ~b round trips, the client did ~b",
                                   [Served, TotalRt]),
    WindowS = get(window_s, R),
    CpuS = hive_peer_util:cpu_s(C0, C1),
    Name = case Mode of passive -> echo; active -> echo_active end,
    hive_peer_util:result(Name,
        [{conns, Conns}, {duration_s, Secs}, {window_s, WindowS},
         {round_trips, WindowRt}, {rps, hive_peer_util:rate(WindowRt, WindowS)},
         {p50_us, get(p50_us, R)}, {p99_us, get(p99_us, R)}, {max_us, get(max_us, R)},
         {cpu_us_per_rt, CpuS * 1.0e6 / WindowRt},
         {rss_per_conn_b, (RssConns - Rss0) * 1024 / Conns},
         {cpu_s, float(CpuS)}, {rss_before_kb, Rss0}, {rss_conns_kb, RssConns},
         {total_rt, TotalRt}, {connect_s, get(connect_s, R)},
         {idle_cpu_pct, hive_peer_util:cpu_s(I0, I1) * 100 / IdleS},
         {tick_late_p50_us, lists:nth(NL div 2 + 1, Late)},
         {tick_late_p99_us, lists:nth((NL * 99) div 100 + 1, Late)},
         {pp_p99_us, lists:nth((NP * 99) div 100 + 1, PP)}]).

%% Fairness under I/O: a ping-pong pair, one round trip a millisecond; its latencies.
ponger() ->
    receive
        {ping, From} -> From ! pong, ponger();
        stop -> ok
    end.

pinger(Parent, Pong, Acc) ->
    receive
        stop -> Pong ! stop, Parent ! {pp, Acc}
    after 1 ->
        T0 = erlang:monotonic_time(microsecond),
        Pong ! {ping, self()},
        receive pong -> ok end,
        pinger(Parent, Pong, [erlang:monotonic_time(microsecond) - T0 | Acc])
    end.

%% Fairness under I/O: `receive after 1` over and over during the window; its lateness.
ticker(Parent, Acc) ->
    T0 = erlang:monotonic_time(microsecond),
    receive
        stop -> Parent ! {ticks, Acc}
    after 1 ->
        D = erlang:monotonic_time(microsecond) - T0,
        ticker(Parent, [max(0, D - 1000) | Acc])
    end.

client_bin() ->
    Dir = case os:getenv("HIVE_STRESS_BIN_DIR") of
              false -> "target/stress/bin";
              D -> D
          end,
    Bin = filename:absname(filename:join(Dir, "echo")),
    filelib:is_regular(Bin)
        orelse hive_peer_util:fail("echo: no load generator at ~s (set HIVE_STRESS_BIN_DIR)",
                                   [Bin]),
    Bin.

acceptor(_L, 0, _Counter, _Mode) -> ok;
acceptor(L, N, Counter, Mode) ->
    S = case gen_tcp:accept(L, ?BOUND) of
            {ok, S0} -> S0;
            {error, E} -> hive_peer_util:fail("echo: accept: ~p", [E])
        end,
    H = spawn(fun() -> handler(Counter, Mode) end),
    ok = gen_tcp:controlling_process(S, H),
    H ! {go, S},
    acceptor(L, N - 1, Counter, Mode).

handler(Counter, Mode) ->
    receive
        {go, S} when Mode =:= passive -> loop(S, Counter);
        {go, S} ->
            ok = inet:setopts(S, [{active, once}]),
            active_loop(S, Counter, <<>>)
    after ?BOUND -> hive_peer_util:fail("echo: handler got no socket", [])
    end.

%% {active, once}: pieces of a request arrive as messages; a whole one is echoed.
active_loop(S, Counter, Have) ->
    receive
        {tcp, S, Data} ->
            case <<Have/binary, Data/binary>> of
                <<Req:?PAYLOAD/binary>> ->
                    ok = gen_tcp:send(S, Req),
                    counters:add(Counter, 1, 1),
                    ok = inet:setopts(S, [{active, once}]),
                    active_loop(S, Counter, <<>>);
                Part when byte_size(Part) < ?PAYLOAD ->
                    ok = inet:setopts(S, [{active, once}]),
                    active_loop(S, Counter, Part);
                Over ->
                    hive_peer_util:fail("echo: ~b bytes past a request", [byte_size(Over)])
            end;
        {tcp_closed, S} ->
            gen_tcp:close(S);
        {tcp_error, S, E} ->
            hive_peer_util:fail("echo: tcp_error ~p", [E])
    end.

loop(S, Counter) ->
    case gen_tcp:recv(S, ?PAYLOAD, ?BOUND) of
        {ok, Data} ->
            case gen_tcp:send(S, Data) of
                ok -> ok;
                {error, E} -> hive_peer_util:fail("echo: send: ~p", [E])
            end,
            counters:add(Counter, 1, 1),
            loop(S, Counter);
        {error, closed} ->
            gen_tcp:close(S);
        {error, E} ->
            hive_peer_util:fail("echo: recv: ~p", [E])
    end.

line(P) ->
    receive
        {P, {data, {eol, Line}}} -> Line;
        {P, {exit_status, St}} ->
            hive_peer_util:fail("echo: load generator exited ~b early", [St])
    after ?BOUND -> hive_peer_util:fail("echo: load generator silent for ~b ms", [?BOUND])
    end.

expect(P, Want) ->
    case line(P) of
        Want -> ok;
        Got -> hive_peer_util:fail("echo: load generator said ~s, expected ~s", [Got, Want])
    end.

%% `ECHO k=v ...` as a list of {k, number}.
parse(<<"ECHO ", Rest/binary>>) ->
    [begin
         [K, V] = binary:split(KV, <<"=">>),
         {binary_to_atom(K, utf8), number(V)}
     end || KV <- binary:split(Rest, <<" ">>, [global, trim_all])];
parse(Other) ->
    hive_peer_util:fail("echo: cannot parse the load generator's results: ~s", [Other]).

number(V) ->
    try binary_to_integer(V)
    catch error:badarg -> binary_to_float(V)
    end.

get(K, R) ->
    case lists:keyfind(K, 1, R) of
        {K, V} -> V;
        false -> hive_peer_util:fail("echo: no ~p in the load generator's results", [K])
    end.
