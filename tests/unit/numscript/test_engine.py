"""The engine's behaviour beyond the Formance corpus: errors, codes, positions, balances to lock."""

from __future__ import annotations

import pytest

from walletflow.numscript import (
    NumscriptCompileError,
    NumscriptRuntimeError,
    Posting,
    check_script,
    compile_script,
)


def _compile_error(source: str) -> NumscriptCompileError:
    with pytest.raises(NumscriptCompileError) as excinfo:
        compile_script(source)
    return excinfo.value


def _runtime_error(source: str, variables: dict[str, str], **kwargs: object) -> str:
    program = compile_script(source)
    with pytest.raises(NumscriptRuntimeError) as excinfo:
        program.run(variables, kwargs.get("balances", {}), kwargs.get("meta"))  # type: ignore[arg-type]
    return excinfo.value.code


SEND_VAR = """vars {
  monetary $amt
  account $dest
}
send $amt (
  source = @world
  destination = $dest
)
"""


def test_syntax_error_reports_line_and_column() -> None:
    error = _compile_error("send [COIN 10] (\n  source = @a\n  destinaton = @b\n)")
    assert (error.code, error.line, error.column) == ("SYNTAX_ERROR", 3, 3)
    assert "destinaton" in error.message and "'destination'" in error.message


def test_unknown_variable_is_a_compile_error_at_its_position() -> None:
    error = _compile_error("send [COIN 10] (\n  source = $nope\n  destination = @b\n)")
    assert (error.code, error.line, error.column) == ("UNBOUND_VARIABLE", 2, 12)
    assert "$nope" in error.message


def test_type_mismatch_names_both_types() -> None:
    error = _compile_error(
        "vars { number $n }\nsend $n (\n  source = @world\n  destination = @b\n)"
    )
    assert error.code == "TYPE_MISMATCH"
    assert (error.line, error.column) == (2, 6)
    assert "'monetary'" in error.message and "'number'" in error.message


def test_duplicate_variable_is_refused() -> None:
    assert _compile_error("vars {\n  number $a\n  number $a\n}").code == "DUPLICATE_VARIABLE"


def test_unknown_type_lists_the_allowed_ones() -> None:
    error = _compile_error("vars { money $a }")
    assert error.code == "INVALID_TYPE" and "monetary" in error.message


def test_unknown_function_is_refused() -> None:
    assert _compile_error('set_tx_metadata("k", 1)').code == "UNKNOWN_FUNCTION"


def test_wrong_arity_is_refused() -> None:
    assert _compile_error('set_tx_meta("k")').code == "BAD_ARITY"


def test_percentage_above_hundred_is_a_bad_portion() -> None:
    source = "send [COIN 10] (\n  source = @world\n  destination = {\n    120% to @a\n  }\n)"
    assert _compile_error(source).code == "BAD_PORTION"


def test_literal_allotment_that_does_not_sum_to_one_is_refused() -> None:
    source = """send [COIN 10] (
  source = @world
  destination = {
    1/3 to @a
    1/3 to @b
  }
)"""
    assert _compile_error(source).code == "BAD_ALLOTMENT_SUM"


def test_literal_division_by_zero_is_refused() -> None:
    assert _compile_error('set_tx_meta("k", 1/0)').code == "DIVISION_BY_ZERO"


def test_meta_inside_an_expression_is_refused() -> None:
    source = 'vars { monetary $m = meta(@a, "k") + [COIN 1] }'
    assert _compile_error(source).code == "INVALID_NESTED_META"


def test_check_script_reports_every_error_in_source_order() -> None:
    errors = check_script("vars { number $a }\nsend $a (\n  source = $x\n  destination = $y\n)")
    assert [(e.code, e.line) for e in errors] == [
        ("TYPE_MISMATCH", 2),
        ("UNBOUND_VARIABLE", 3),
        ("UNBOUND_VARIABLE", 4),
    ]


def test_missing_variable_has_its_own_code() -> None:
    assert _runtime_error(SEND_VAR, {"amt": "COIN 1"}) == "MISSING_VARIABLE"


@pytest.mark.parametrize("raw", ["COIN", "COIN 1.5", "coin 1", "COIN ten", "1 COIN"])
def test_unparsable_monetary_variable_is_invalid(raw: str) -> None:
    assert _runtime_error(SEND_VAR, {"amt": raw, "dest": "a"}) == "INVALID_VARIABLE"


def test_account_variable_must_be_a_valid_address() -> None:
    assert _runtime_error(SEND_VAR, {"amt": "COIN 1", "dest": "bad name"}) == "INVALID_VARIABLE"


def test_portion_variable_out_of_range_is_a_bad_portion() -> None:
    source = """vars { portion $p }
send [COIN 10] (
  source = @world
  destination = {
    $p to @a
    remaining kept
  }
)"""
    assert _runtime_error(source, {"p": "150%"}) == "BAD_PORTION"


def test_negative_amount_is_refused() -> None:
    assert _runtime_error(SEND_VAR, {"amt": "COIN -5", "dest": "a"}) == "NEGATIVE_AMOUNT"


def test_sending_more_than_the_balance_is_an_insufficient_fund() -> None:
    source = "send [COIN 10] (\n  source = @a\n  destination = @b\n)"
    assert _runtime_error(source, {}, balances={"a": {"COIN": 9}}) == "INSUFFICIENT_FUND"


def test_currency_mismatch_in_a_cap_is_refused() -> None:
    source = "send [COIN 10] (\n  source = max [GEM 5] from @world\n  destination = @b\n)"
    assert _runtime_error(source, {}) == "MISMATCHED_CURRENCY"


def test_metadata_not_found_has_its_own_code() -> None:
    source = 'vars { account $a = meta(@x, "owner") }\nset_tx_meta("o", $a)'
    assert _runtime_error(source, {}, meta={"x": {}}) == "METADATA_NOT_FOUND"


def test_send_all_from_world_is_refused() -> None:
    source = "send [COIN *] (\n  source = @world\n  destination = @b\n)"
    assert _runtime_error(source, {}) == "INVALID_UNBOUNDED_IN_SEND_ALL"


def test_experimental_feature_needs_its_flag() -> None:
    source = "send [COIN 1] (\n  source = oneof { @world }\n  destination = @b\n)"
    program = compile_script(source)
    with pytest.raises(NumscriptRuntimeError) as excinfo:
        program.run({}, {})
    assert excinfo.value.code == "EXPERIMENTAL_FEATURE"
    assert program.run({}, {}, feature_flags={"experimental-oneof"}).postings == [
        Posting("world", "b", 1, "COIN")
    ]


def test_float_balance_is_refused() -> None:
    source = "send [COIN 1] (\n  source = @a\n  destination = @b\n)"
    assert _runtime_error(source, {}, balances={"a": {"COIN": 1.0}}) == "INVALID_BALANCE"


def test_allotment_leftover_goes_to_first_parts_in_order() -> None:
    source = """send [COIN 10] (
  source = @world
  destination = {
    1/3 to @a
    1/3 to @b
    1/3 to @c
  }
)"""
    postings = compile_script(source).run({}, {}).postings
    assert [(p.destination, p.amount) for p in postings] == [("a", 4), ("b", 3), ("c", 3)]


def test_send_of_zero_emits_nothing() -> None:
    assert compile_script(SEND_VAR).run({"amt": "COIN 0", "dest": "a"}, {}).postings == []


def test_balances_are_tracked_across_sends() -> None:
    source = (
        "send [COIN 5] (\n  source = @world\n  destination = @a\n)\n"
        "send [COIN *] (\n  source = @a\n  destination = @b\n)"
    )
    postings = compile_script(source).run({}, {"a": {"COIN": 2}}).postings
    assert postings[-1] == Posting("a", "b", 7, "COIN")


def test_arbitrary_size_integers_are_exact() -> None:
    huge = 10**40 + 1
    postings = compile_script(SEND_VAR).run({"amt": f"USDT/18 {huge}", "dest": "a"}, {}).postings
    assert postings == [Posting("world", "a", huge, "USDT/18")]


def test_program_is_reusable_and_runs_do_not_share_state() -> None:
    source = "send [COIN 10] (\n  source = @a\n  destination = @b\n)"
    program = compile_script(source)
    balances = {"a": {"COIN": 10}}
    first = program.run({}, balances)
    second = program.run({}, balances)
    assert first.postings == second.postings
    assert balances == {"a": {"COIN": 10}}


def test_var_decls_expose_names_and_types() -> None:
    assert compile_script(SEND_VAR).var_decls == {"amt": "monetary", "dest": "account"}


def test_needed_balances_lists_bounded_sources_and_balance_calls() -> None:
    source = """vars {
  monetary $amt
  account $user
  monetary $seen = balance(@audit, EUR/2)
}
send $amt (
  source = {
    $user
    @credit allowing overdraft up to [EUR/2 100]
    @treasury allowing unbounded overdraft
    @world
  }
  destination = @dest
)
save [EUR/2 *] from @frozen
"""
    needed = compile_script(source).needed_balances({"amt": "EUR/2 10", "user": "users:1"})
    assert needed == {
        ("users:1", "EUR/2"),
        ("credit", "EUR/2"),
        ("audit", "EUR/2"),
        ("frozen", "EUR/2"),
    }


def test_needed_balances_skips_accounts_only_known_from_metadata() -> None:
    source = """vars {
  account $src = meta(@cfg, "src")
}
send [COIN 1] (
  source = $src
  destination = @b
)"""
    assert compile_script(source).needed_balances({}) == set()
