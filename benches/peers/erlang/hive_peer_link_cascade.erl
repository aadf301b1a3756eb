%% link_cascade N: a chain of N processes, each of which spawn_links the next
%% and then blocks (`receive after infinity -> ok end`); nobody traps exits.
%% Main spawns the head (not linked to main), and the tail sends main its pid:
%% build_s runs from spawning the head until that message arrives. After
%% waiting for quiet, main monitors the tail and calls exit(Head, kill); the
%% clock runs until the tail's 'DOWN' arrives. The head dies with reason
%% `killed`, and each link passes `killed` on to the next process, so the
%% tail's reason must be `killed`. ns_per_link = seconds * 1e9 / (N - 1).
%% Checks: the 'DOWN' is the tail's, its reason is `killed`, and (untimed)
%% process_count goes back to its starting value: every process of the chain
%% died. Keys: n build_s seconds ns_per_link tail_reason (plus cpu_s).
-module(hive_peer_link_cascade).
-export([main/1]).

main(Args) ->
    [N] = hive_peer_util:int_args(Args, 1),
    N >= 2 orelse hive_peer_util:fail("link_cascade: N must be at least 2, got ~b", [N]),
    hive_peer_util:warm_up(),
    hive_peer_util:wait_quiet(),
    Base = erlang:system_info(process_count),
    Main = self(),
    B0 = hive_peer_util:clock(),
    Head = spawn(fun() -> chain(N, Main) end),
    Tail = receive {tail, T} -> T end,
    B1 = hive_peer_util:clock(),
    hive_peer_util:wait_quiet(),
    Live = erlang:system_info(process_count) - Base,
    Live =:= N orelse hive_peer_util:fail("link_cascade: ~b processes alive, expected ~b", [Live, N]),
    Ref = erlang:monitor(process, Tail),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    exit(Head, kill),
    Reason = receive {'DOWN', Ref, process, Tail, R} -> R end,
    T1 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    Reason =:= killed
        orelse hive_peer_util:fail("link_cascade: the tail died with reason ~p, expected killed",
                                   [Reason]),
    %% Untimed: every process of the chain is gone (the cascade reached them all).
    hive_peer_util:wait_process_count(Base),
    {message_queue_len, Q} = process_info(self(), message_queue_len),
    Q =:= 0 orelse hive_peer_util:fail("link_cascade: ~b stray messages in main's mailbox", [Q]),
    Secs = hive_peer_util:seconds(T0, T1),
    hive_peer_util:result(link_cascade,
        [{n, N}, {build_s, hive_peer_util:seconds(B0, B1)}, {seconds, Secs},
         {ns_per_link, Secs * 1.0e9 / (N - 1)}, {tail_reason, Reason},
         {cpu_s, hive_peer_util:cpu_s(C0, C1)}]).

%% Process K of the chain counted from the tail (K = N is the head, 1 the tail).
chain(1, Main) ->
    Main ! {tail, self()},
    block();
chain(K, Main) ->
    spawn_link(fun() -> chain(K - 1, Main) end),
    block().

block() ->
    receive after infinity -> ok end.
