%% skynet SIZE: a 10-ary tree with SIZE leaves (SIZE a power of 10). Each
%% inner node spawns 10 children and sums their {sum, S} messages; each leaf
%% sends its own number. The clock runs from spawning the root until the
%% root's sum arrives; the sum must be SIZE*(SIZE-1)/2.
%% Keys: size sum seconds procs_per_s rss_delta_kb cpu_s.
-module(hive_peer_skynet).
-export([main/1]).

-define(DIV, 10).

main(Args) ->
    [Size] = hive_peer_util:int_args(Args, 1),
    hive_peer_util:warm_up(),
    Procs = count_procs(Size),
    hive_peer_util:wait_quiet(),
    Rss0 = hive_peer_util:rss_kb(),
    Main = self(),
    C0 = hive_peer_util:cpu_ticks(),
    T0 = hive_peer_util:clock(),
    spawn(fun() -> skynet(Main, 0, Size) end),
    Sum = receive {sum, S} -> S end,
    T1 = hive_peer_util:clock(),
    C1 = hive_peer_util:cpu_ticks(),
    Rss1 = hive_peer_util:rss_kb(),
    Expected = Size * (Size - 1) div 2,
    Sum =:= Expected
        orelse hive_peer_util:fail("skynet: sum ~b, expected ~b", [Sum, Expected]),
    Secs = hive_peer_util:seconds(T0, T1),
    hive_peer_util:result(skynet,
        [{size, Size}, {sum, Sum}, {seconds, Secs},
         {procs_per_s, hive_peer_util:rate(Procs, Secs)},
         {rss_delta_kb, Rss1 - Rss0}, {cpu_s, hive_peer_util:cpu_s(C0, C1)}]).

%% Processes in the tree: SIZE + SIZE/10 + ... + 1.
count_procs(Size) ->
    case tree_procs(Size) of
        error -> hive_peer_util:fail("skynet: size ~b is not a power of ~b", [Size, ?DIV]);
        Procs -> Procs
    end.

tree_procs(1) -> 1;
tree_procs(Size) when Size > 1, Size rem ?DIV =:= 0 ->
    case tree_procs(Size div ?DIV) of
        error -> error;
        P -> Size + P
    end;
tree_procs(_) -> error.

skynet(Parent, Num, 1) ->
    Parent ! {sum, Num};
skynet(Parent, Num, Size) ->
    Child = Size div ?DIV,
    Self = self(),
    spawn_children(Self, Num, Child, ?DIV),
    Parent ! {sum, collect(?DIV, 0)}.

spawn_children(_, _, _, 0) -> ok;
spawn_children(Self, Num, Child, I) ->
    Start = Num + (I - 1) * Child,
    spawn(fun() -> skynet(Self, Start, Child) end),
    spawn_children(Self, Num, Child, I - 1).

collect(0, Sum) -> Sum;
collect(I, Sum) -> receive {sum, S} -> collect(I - 1, Sum + S) end.
