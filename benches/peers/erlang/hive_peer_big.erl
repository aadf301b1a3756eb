%% big N R (bencherl-style all-to-all): N processes, R rounds. In each round
%% every process sends {ping, self()} to the N-1 others, then collects N-1
%% pongs while answering the others' pings: 2*N*(N-1)*R messages. The clock
%% runs from go until all N report done. Keys: n r seconds msgs_per_s cpu_s.
-module(hive_peer_big).
-export([main/1]).

main(Args) ->
    [N, R] = hive_peer_util:int_args(Args, 2),
    hive_peer_util:warm_up(),
    Main = self(),
    Procs = [spawn(fun() -> init_proc(Main, R) end) || _ <- lists:seq(1, N)],
    [P ! {peers, Procs} || P <- Procs],
    hive_peer_util:wait_quiet(),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    [P ! go || P <- Procs],
    {Answered, Leftover} = collect(N, 0, 0),
    T1 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    Expected = N * (N - 1) * R,
    Answered =:= Expected
        orelse hive_peer_util:fail("big: ~b pings answered, expected ~b", [Answered, Expected]),
    Leftover =:= 0
        orelse hive_peer_util:fail("big: ~b messages left in mailboxes", [Leftover]),
    Secs = hive_peer_util:seconds(T0, T1),
    hive_peer_util:result(big,
        [{n, N}, {r, R}, {seconds, Secs},
         {msgs_per_s, hive_peer_util:rate(2 * Expected, Secs)},
         {cpu_s, hive_peer_util:cpu_s(C0, C1)}]).

%% Each process reports the pings it answered and what is left in its mailbox
%% (nothing: every ping sent to it has been answered, every pong received).
collect(0, Answered, Left) -> {Answered, Left};
collect(I, Answered, Left) ->
    receive {done, A, L} -> collect(I - 1, Answered + A, Left + L) end.

init_proc(Main, R) ->
    Peers = receive {peers, Ps} -> lists:delete(self(), Ps) end,
    receive go -> ok end,
    Others = length(Peers),
    Debt = rounds(Peers, Others, R, 0),
    {message_queue_len, Left} = process_info(self(), message_queue_len),
    Main ! {done, Others * R - Debt, Left}.

%% Debt is minus the number of pings answered ahead of quota (0 or negative);
%% returns the final debt (0 when every ping was answered in some round).
rounds(_, _, 0, Debt) -> Debt;
rounds(Peers, Others, I, Debt) ->
    Self = self(),
    [P ! {ping, Self} || P <- Peers],
    rounds(Peers, Others, I - 1, round(Others, Others + Debt)).

%% Wait for this round's N-1 pongs while answering pings, until at least N-1
%% pings have been answered in this round. A peer a round ahead may ping
%% early: such a ping counts towards the next round (Pings goes negative and
%% is carried over). Every process answers exactly (N-1)*R pings in all, and
%% the process in the lowest round can always finish it, so this cannot
%% deadlock.
round(0, Pings) when Pings =< 0 -> Pings;
round(Pongs, Pings) ->
    receive
        {ping, From} -> From ! pong, round(Pongs, Pings - 1);
        pong -> round(Pongs - 1, Pings)
    end.
