%% fan_in S K: S senders each send K {msg, I} tuples to one receiver (S*K
%% messages). The clock runs from go until the receiver has counted S*K.
%% Main samples the receiver's message_queue_len every 10 ms (max_qlen).
%% Keys: senders k seconds msgs_per_s max_qlen cpu_s.
-module(hive_peer_fan_in).
-export([main/1]).

main(Args) ->
    [S, K] = hive_peer_util:int_args(Args, 2),
    hive_peer_util:warm_up(),
    Main = self(),
    Total = S * K,
    Receiver = spawn(fun() -> receiver(Main, Total, 0) end),
    Senders = [spawn(fun() -> sender(Receiver, K) end) || _ <- lists:seq(1, S)],
    hive_peer_util:wait_quiet(),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    [Sender ! go || Sender <- Senders],
    {Sum, MaxQ} = sample(Receiver, 0),
    T1 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    Expected = S * (K * (K + 1) div 2),
    Sum =:= Expected
        orelse hive_peer_util:fail("fan_in: sum ~b, expected ~b", [Sum, Expected]),
    Secs = hive_peer_util:seconds(T0, T1),
    hive_peer_util:result(fan_in,
        [{senders, S}, {k, K}, {seconds, Secs},
         {msgs_per_s, hive_peer_util:rate(Total, Secs)}, {max_qlen, MaxQ},
         {cpu_s, hive_peer_util:cpu_s(C0, C1)}]).

%% Sample the receiver's queue length every 10 ms until it reports done.
sample(Receiver, MaxQ) ->
    receive
        {done, Sum} -> {Sum, MaxQ}
    after 10 ->
        Q = case erlang:process_info(Receiver, message_queue_len) of
                {message_queue_len, L} -> L;
                undefined -> 0
            end,
        sample(Receiver, max(Q, MaxQ))
    end.

receiver(Main, 0, Sum) -> Main ! {done, Sum};
receiver(Main, Left, Sum) ->
    receive {msg, I} -> receiver(Main, Left - 1, Sum + I) end.

sender(Receiver, K) ->
    receive go -> ok end,
    send(Receiver, K).

send(_, 0) -> ok;
send(Receiver, I) ->
    Receiver ! {msg, I},
    send(Receiver, I - 1).
