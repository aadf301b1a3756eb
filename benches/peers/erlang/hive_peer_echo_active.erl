%% echo_active CONNS SECONDS: the echo workload (hive_peer_echo) with handlers in
%% `{active, once}` mode, as benches/stress/echo_active.c.
-module(hive_peer_echo_active).
-export([main/1]).

main(Args) -> hive_peer_echo:run(Args, active).
