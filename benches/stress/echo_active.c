/*
 * echo_active CONNS SECONDS: the echo workload (echo.c, whose comment says what runs and
 * what is measured) with handlers in active mode, {active, once}: each piece of a request
 * arrives as a HIVE_MSG_TCP message and active once is set again after each (the Erlang
 * peer does the same with `inet:setopts(S, [{active, once}])`). Between requests each
 * handler hibernates (hive_hibernate): an idle connection holds no process stack. The
 * Erlang peer's handlers do not hibernate (there `erlang:hibernate/3` also collects the
 * heap, at every request). The load generator is the same program's client mode.
 */
#define ECHO_ACTIVE 1
#define ECHO_NAME "echo_active"
#include "echo.c"
