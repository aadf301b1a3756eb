%% Shared set-up of the distribution peers (hive_peer_dist_ping_pong, _throughput,
%% _fan_in): two BEAM nodes on loopback with a private epmd, as the Hive programs run two
%% Hive nodes with a private port mapper (benches/stress/common/dist.h).
%%
%% The runner starts `erl +S S:S ... -run hive_peer_dist_<w> main ARGS`, a node that is
%% not distributed, and its main/1 calls launch/2: it picks a free TCP port P, starts
%% `epmd -port P` (a child of this launcher), then runs node A as another child,
%%   ERL_EPMD_PORT=P erl -noshell -sname benchA_<ospid>@localhost -setcookie C +S S:S
%%       +P 4000000 -pa DIR -run <module> node_a ARGS
%% (an erl node cannot be pointed at another epmd port once it runs), relays A's stdout
%% (the RESULT line), stops epmd and halts with A's exit status. Node A starts node B with
%% the peer module (start_b/1: `-sname benchB_<ospid>@localhost`, the same cookie and +S;
%% it inherits ERL_EPMD_PORT), registers B's server `bench` there, and runs the
%% workload; B's processes are spawned by that server, as on Hive. Nothing of the
%% launcher is timed.
%%
%% TLS: when the environment variable HIVE_BENCH_TLS_DIR names a directory (the runner
%% makes a throwaway PKI there for the `_tls` workloads), nodes A and B both run
%% `-proto_dist inet_tls -ssl_dist_optfile DIR/erl.conf` (mutual TLS: verify_peer and
%% fail_if_no_peer_cert, the certificate DIR/node.pem valid for localhost), and A checks
%% that its connection to B is TLS.
-module(hive_peer_dist).

-export([launch/2, start_b/1, start_b/2, stop_b/1, server/0, cpu_ticks_of/1, pct/2,
         tls/0]).

-define(COOKIE, "hive-bench-cookie").

launch(Module, Args) ->
    Port = free_port(),
    Epmd = case os:find_executable("epmd") of
               false -> hive_peer_util:fail("epmd not found on PATH", []);
               E -> E
           end,
    EpmdPort = open_port({spawn_executable, Epmd},
                         [{args, ["-port", integer_to_list(Port)]}, nouse_stdio]),
    {os_pid, EpmdPid} = erlang:port_info(EpmdPort, os_pid),
    wait_epmd(Port, 500),
    S = erlang:system_info(schedulers_online),
    Dir = filename:dirname(code:which(Module)),
    Name = "benchA_" ++ os:getpid() ++ "@localhost",
    ErlArgs = ["-noshell", "-sname", Name, "-setcookie", ?COOKIE,
               "+S", lists:flatten(io_lib:format("~b:~b", [S, S])),
               "+P", "4000000", "-pa", Dir | tls_args()]
        ++ ["-run", atom_to_list(Module), "node_a" | Args],
    A = open_port({spawn_executable, os:find_executable("erl")},
                  [{args, ErlArgs}, {env, [{"ERL_EPMD_PORT", integer_to_list(Port)}]},
                   exit_status, binary, stream]),
    Status = relay(A),
    os:cmd("kill " ++ integer_to_list(EpmdPid)),
    erlang:halt(Status).

relay(A) ->
    receive
        {A, {data, Bin}} -> io:put_chars(Bin), relay(A);
        {A, {exit_status, St}} -> St
    end.

free_port() ->
    {ok, L} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, P} = inet:port(L),
    gen_tcp:close(L),
    P.

wait_epmd(_, 0) -> hive_peer_util:fail("the private epmd did not start", []);
wait_epmd(Port, N) ->
    case gen_tcp:connect({127, 0, 0, 1}, Port, []) of
        {ok, S} -> gen_tcp:close(S);
        _ -> receive after 10 -> wait_epmd(Port, N - 1) end
    end.

%% True when the nodes run TLS distribution (HIVE_BENCH_TLS_DIR is set).
tls() ->
    case os:getenv("HIVE_BENCH_TLS_DIR") of
        false -> false;
        "" -> false;
        _ -> true
    end.

%% The erl arguments of TLS distribution, or none.
tls_args() ->
    case tls() of
        false -> [];
        true ->
            Conf = filename:join(os:getenv("HIVE_BENCH_TLS_DIR"), "erl.conf"),
            filelib:is_regular(Conf)
                orelse hive_peer_util:fail("HIVE_BENCH_TLS_DIR: no ~s", [Conf]),
            ["-proto_dist", "inet_tls", "-ssl_dist_optfile", Conf]
    end.

%% On node A: starts node B (peer, connected over distribution) with the same epmd port,
%% cookie, scheduler count and distribution protocol, and registers B's server. Returns
%% {Peer, Node, BOsPid}. start_b/2 passes extra peer options (e.g. the control
%% connection over standard_io, so that B outlives a dropped distribution connection).
start_b(Module) -> start_b(Module, #{}).

start_b(Module, Extra) ->
    S = erlang:system_info(schedulers_online),
    Dir = filename:dirname(code:which(Module)),
    Name = list_to_atom("benchB_" ++ os:getpid()),
    {ok, Peer, Node} = peer:start(maps:merge(#{name => Name, host => "localhost",
        args => ["-setcookie", ?COOKIE,
                 "+S", lists:flatten(io_lib:format("~b:~b", [S, S])),
                 "+P", "4000000", "-pa", Dir | tls_args()]}, Extra)),
    ok = erpc:call(Node, ?MODULE, server, []),
    BPid = list_to_integer(erpc:call(Node, os, getpid, [])),
    case tls() of
        false -> ok;
        true ->
            {ok, Info} = net_kernel:node_info(Node),
            case proplists:get_value(address, Info) of
                {net_address, _, _, tls, _} -> ok;
                Other -> hive_peer_util:fail("the connection to B is not TLS: ~p", [Other])
            end
    end,
    {Peer, Node, BPid}.

stop_b({Peer, _, _}) -> peer:stop(Peer).

%% On node B: spawns and registers the server `bench`.
server() ->
    Parent = self(),
    spawn(fun() -> register(bench, self()), Parent ! registered, serve() end),
    receive registered -> ok end.

%% B's server: {hello_echo, From} spawns an echo process for From; {hello_sink, From, W,
%% Senders, K} a sink (see the workload modules for both).
serve() ->
    receive
        {hello_echo, From} -> spawn(fun() -> echo(From) end), serve();
        {hello_sink, From, W, S, K} -> spawn(fun() -> sink(From, W, S, K) end), serve();
        {connect, From, I} -> From ! {connect, I}, serve();
        {stop, From} -> From ! bye
    end.

%% The echo process: replies {ready, self()}, then sends every ping (a binary with the
%% sequence number in its first 8 bytes, little-endian) back to its pinger unchanged,
%% checking the numbers are 0, 1, 2 ...; on stop replies {count, Answered}.
echo(Pinger) ->
    Pinger ! {ready, self()},
    echo(Pinger, 0).

echo(Pinger, N) ->
    receive
        <<I:64/little, _/binary>> = Bin ->
            I =:= N orelse hive_peer_util:fail("node B echo: ping ~b, expected ~b", [I, N]),
            Pinger ! Bin,
            echo(Pinger, N + 1);
        stop ->
            Pinger ! {count, N}
    end.

%% The sink: replies {ready, self()} to From, then takes S*K data binaries
%% (<<Seq:64/little, Index:32/little, Len:32/little, ...>>), checking each one's length
%% and each sender's order; sends {ack, N} to the data's sender every W messages of that
%% sender (N: its count so far; W = 0: never) and {done, Count, Bytes} to From after the
%% last. K = 0 is a stream of unknown length: each sender first announces itself with
%% {sender, Index, Pid} (answered {sender_ok, Index}; acks go there) and ends its stream
%% with {'end', Index, Sent}; done follows the S-th end. Each sender's next sequence number is in the
%% process dictionary (an array on Hive).
sink(From, W, S, K) ->
    From ! {ready, self()},
    [put(I, 0) || I <- lists:seq(0, S - 1)],
    case K of
        0 -> stream(From, W, S, 0, 0);
        _ -> sink(From, W, S * K, 0, 0)
    end.

sink(From, _W, Total, Total, Bytes) ->
    From ! {done, Total, Bytes};
sink(From, W, Total, Count, Bytes) ->
    receive
        <<_:64, _:32, Len:32/little, _/binary>> = Bin ->
            data(Bin, From, W),
            sink(From, W, Total, Count + 1, Bytes + Len)
    end.

stream(From, _W, 0, Count, Bytes) ->
    From ! {done, Count, Bytes};
stream(From, W, Left, Count, Bytes) ->
    receive
        <<_:64, _:32, Len:32/little, _/binary>> = Bin ->
            data(Bin, From, W),
            stream(From, W, Left, Count + 1, Bytes + Len);
        {sender, Idx, Pid} ->
            put({pid, Idx}, Pid),
            Pid ! {sender_ok, Idx},
            stream(From, W, Left, Count, Bytes);
        {'end', Idx, Sent} ->
            case get(Idx) of
                Sent -> put(Idx, ended);
                Other -> hive_peer_util:fail("node B sink: sender ~p ended after ~p, ~p arrived",
                                             [Idx, Sent, Other])
            end,
            stream(From, W, Left - 1, Count, Bytes)
    end.

%% One data binary: its length and its sender's order checked, an ack every W messages
%% of that sender, to the pid it announced ({sender, Idx, Pid}, streams) or else to From.
data(<<Seq:64/little, Idx:32/little, Len:32/little, _/binary>> = Bin, From, W) ->
    byte_size(Bin) =:= Len
        orelse hive_peer_util:fail("node B sink: ~b bytes, expected ~b", [byte_size(Bin), Len]),
    case get(Idx) of
        Seq -> put(Idx, Seq + 1);
        Other -> hive_peer_util:fail("node B sink: sender ~p sent ~b, expected ~p",
                                     [Idx, Seq, Other])
    end,
    N = Seq + 1,
    W > 0 andalso N rem W =:= 0 andalso (ack_to(Idx, From) ! {ack, N}),
    ok.

ack_to(Idx, From) ->
    case get({pid, Idx}) of
        undefined -> From;
        Pid -> Pid
    end.

%% utime + stime of OS process Pid in clock ticks (/proc/<pid>/stat fields 14, 15).
cpu_ticks_of(Pid) ->
    {ok, Bin} = file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/stat"),
    [_, Rest] = string:split(Bin, ")", trailing),
    Fields = string:lexemes(Rest, " \n"),
    binary_to_integer(lists:nth(14 - 2, Fields)) + binary_to_integer(lists:nth(15 - 2, Fields)).

%% The P-th percentile (nearest rank) of a sorted list of N values, as a tuple for speed.
pct(Sorted, P) ->
    N = tuple_size(Sorted),
    R = max(1, min(N, ceil(P / 100 * N))),
    element(R, Sorted).
