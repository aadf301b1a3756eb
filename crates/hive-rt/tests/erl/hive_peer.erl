%% hive_peer: the Erlang side of the test harness `crates/hive-rt/tests/common/erl.rs`.
%%
%% The harness starts `erl -noshell ...`, which compiles this file in memory and calls
%% main/0. From then on the node obeys one command per line on stdin and answers one line
%% per command on stdout. Erlang's own output (logger reports, io:format of processes whose
%% group leader is `user`) may appear on stdout as well; the harness skips every line that
%% does not start with the marker below.
%%
%% Commands (fields separated by one space; Id is a decimal request number):
%%   Id eval Hex   evaluate the expression sequence whose UTF-8 text is Hex (hex-encoded, so
%%                 quotes and newlines need no escaping); answer `ok` with the value or
%%                 `err` with Class:Reason
%%   Id halt       answer `ok`, then erlang:halt(0)
%% Answers:
%%   MARKER 0 ready Hex    once at start; Hex = "NodeName OsPid"
%%   MARKER Id ok Hex      Hex = the value printed with ~0tp (one line)
%%   MARKER Id err Hex     Hex = "Class:Reason" (one line)
%%
%% Every expression runs in ONE long-lived evaluator process, so variable bindings and the
%% mailbox persist from one command to the next (like the Erlang shell). trap_exit is off
%% unless an expression turns it on. If the evaluator dies (for instance killed through a
%% link), the command in progress, or the next one, answers
%% `err evaluator_exited:Reason` and a fresh evaluator with no bindings takes over.
%% EOF on stdin (the test process went away) halts the node, even during an evaluation.
-module(hive_peer).
-export([main/0]).

-define(MARKER, "@@HIVE_PEER@@").

main() ->
    Ctl = spawn(fun controller/0),
    spawn(fun() -> stdin_reader(Ctl) end),
    ok.

%% Reads stdin through `user` (not the group leader, which an expression may change).
stdin_reader(Ctl) ->
    case io:get_line(user, '') of
        eof -> Ctl ! hive_peer_eof;
        {error, _} -> Ctl ! hive_peer_eof;
        Line ->
            Ctl ! {hive_peer_line, string:trim(Line, trailing, "\r\n")},
            stdin_reader(Ctl)
    end.

controller() ->
    reply(0, ready, [atom_to_list(node()), " ", os:getpid()]),
    controller(new_evaluator(), none).

%% E = {Pid, MonitorRef, Tag}; Dead = none | {exited, Reason} (died between commands).
controller(E, Dead) ->
    receive
        {hive_peer_line, Line} ->
            case string:split(Line, " ", all) of
                [IdS, "eval", Hex] ->
                    Id = list_to_integer(IdS),
                    case Dead of
                        {exited, R} ->
                            reply(Id, err, ["evaluator_exited:", one_line(R)]),
                            controller(new_evaluator(), none);
                        none ->
                            {E2, Dead2} = run_eval(E, Id, binary:decode_hex(list_to_binary(Hex))),
                            controller(E2, Dead2)
                    end;
                [IdS, "halt"] ->
                    reply(list_to_integer(IdS), ok, "halting"),
                    erlang:halt(0);
                _ ->
                    reply(0, err, ["bad command: ", Line]),
                    controller(E, Dead)
            end;
        {'DOWN', M, process, _, Reason} when M =:= element(2, E) ->
            controller(E, {exited, Reason});
        hive_peer_eof ->
            erlang:halt(0)
    end.

run_eval({Pid, M, Tag} = E, Id, Text) ->
    Pid ! {Tag, Id, Text},
    receive
        {Tag, Id, {ok, Value}} -> reply(Id, ok, one_line(Value)), {E, none};
        {Tag, Id, {error, Class, Reason}} ->
            reply(Id, err, [atom_to_list(Class), ":", one_line(Reason)]), {E, none};
        {'DOWN', M, process, Pid, Reason} ->
            reply(Id, err, ["evaluator_exited:", one_line(Reason)]),
            {new_evaluator(), none};
        hive_peer_eof ->
            erlang:halt(0)
    end.

new_evaluator() ->
    Ctl = self(),
    Tag = make_ref(),
    {Pid, M} = spawn_monitor(fun() -> evaluator(Ctl, Tag, erl_eval:new_bindings()) end),
    {Pid, M, Tag}.

%% The evaluator only ever takes its own tagged commands from the mailbox: every other
%% message stays there for the expressions' `receive`.
evaluator(Ctl, Tag, Bindings) ->
    receive
        {Tag, Id, Text} ->
            {Result, Bindings2} =
                try eval_text(unicode:characters_to_list(Text), Bindings) of
                    {V, B} -> {{ok, V}, B}
                catch
                    Class:Reason -> {{error, Class, Reason}, Bindings}
                end,
            Ctl ! {Tag, Id, Result},
            evaluator(Ctl, Tag, Bindings2)
    end.

%% Evaluates "E1, E2. E3." like the shell: every dot-terminated sequence in turn (a final
%% dot may be left out); the value is the last one's. Bindings flow from one to the next.
eval_text(Text, Bindings) ->
    Tokens = case erl_scan:string(Text) of
                 {ok, T, _} -> T;
                 {error, {_, Mod, Desc}, _} -> error({scan, lists:flatten(Mod:format_error(Desc))})
             end,
    case split_forms(Tokens, [], []) of
        [] -> error({parse, "empty expression"});
        Forms -> eval_forms(Forms, undefined, Bindings)
    end.

split_forms([], [], Acc) -> lists:reverse(Acc);
split_forms([], Cur, Acc) -> split_forms([{dot, 1}], Cur, Acc);
split_forms([{dot, _} = D | Rest], Cur, Acc) -> split_forms(Rest, [], [lists:reverse([D | Cur]) | Acc]);
split_forms([T | Rest], Cur, Acc) -> split_forms(Rest, [T | Cur], Acc).

eval_forms([], Value, Bindings) -> {Value, Bindings};
eval_forms([Form | Rest], _, Bindings) ->
    Exprs = case erl_parse:parse_exprs(Form) of
                {ok, Es} -> Es;
                {error, {_, Mod, Desc}} -> error({parse, lists:flatten(Mod:format_error(Desc))})
            end,
    {value, V, B} = erl_eval:exprs(Exprs, Bindings),
    eval_forms(Rest, V, B).

%% One line, whatever the term: ~0tp never breaks lines; the map is a second guarantee.
one_line(Term) ->
    S = lists:flatten(io_lib:format("~0tp", [Term])),
    [case C of $\n -> $\s; $\r -> $\s; _ -> C end || C <- S].

reply(Id, Kind, Chars) ->
    Hex = binary:encode_hex(unicode:characters_to_binary(Chars)),
    io:put_chars(user, [?MARKER, " ", integer_to_list(Id), " ", atom_to_list(Kind), " ", Hex, "\n"]).
