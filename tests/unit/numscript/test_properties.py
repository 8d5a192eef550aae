"""Invariants that hold for any run: books foot to zero per asset, only overdraft-allowed
accounts go negative, and allotment parts always add up to the whole."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from walletflow.numscript import NumscriptRuntimeError, compile_script
from walletflow.numscript.interpreter import _allot

ACCOUNTS = ("a", "b", "c")
ASSETS = ("COIN", "UGX", "NGN/2")

accounts = st.sampled_from(ACCOUNTS)
overdraft_accounts = st.sampled_from(("od:x", "od:y"))


@st.composite
def sources(draw: st.DrawFn, depth: int = 0) -> str:
    leaf = st.one_of(
        accounts.map(lambda a: f"@{a}"),
        st.just("@world"),
        overdraft_accounts.map(lambda a: f"@{a} allowing unbounded overdraft"),
        st.tuples(overdraft_accounts, st.integers(0, 50)).map(
            lambda t: f"@{t[0]} allowing overdraft up to [$asset_placeholder {t[1]}]"
        ),
    )
    if depth >= 2:
        return draw(leaf)
    kind = draw(st.sampled_from(("leaf", "inorder", "capped")))
    if kind == "leaf":
        return draw(leaf)
    if kind == "capped":
        cap = draw(st.integers(0, 120))
        return f"max [$asset_placeholder {cap}] from {draw(sources(depth + 1))}"
    subs = draw(st.lists(sources(depth + 1), min_size=1, max_size=3))
    return "{\n" + "\n".join(subs) + "\n}"


@st.composite
def destinations(draw: st.DrawFn, depth: int = 0) -> str:
    leaf = accounts.map(lambda a: f"@{a}")
    if depth >= 2:
        return draw(leaf)
    kind = draw(st.sampled_from(("leaf", "allotment", "inorder")))
    if kind == "leaf":
        return draw(leaf)
    if kind == "allotment":
        count = draw(st.integers(1, 3))
        weights = draw(st.lists(st.integers(1, 9), min_size=count, max_size=count))
        total = sum(weights)
        parts = [f"{w}/{total} to {draw(destinations(depth + 1))}" for w in weights[:-1]]
        parts.append(f"remaining to {draw(destinations(depth + 1))}")
        if draw(st.booleans()):
            parts[-1] = "remaining kept"
        return "{\n" + "\n".join(parts) + "\n}"
    caps = draw(st.lists(st.integers(0, 60), min_size=1, max_size=2))
    clauses = [f"max [$asset_placeholder {c}] to {draw(destinations(depth + 1))}" for c in caps]
    clauses.append(f"remaining to {draw(destinations(depth + 1))}")
    return "{\n" + "\n".join(clauses) + "\n}"


@st.composite
def scripts(draw: st.DrawFn) -> str:
    statements = []
    for _ in range(draw(st.integers(1, 3))):
        asset = draw(st.sampled_from(ASSETS))
        amount = draw(st.one_of(st.integers(0, 150).map(str), st.just("*")))
        source = draw(sources())
        if amount == "*":
            source = source.replace("@world", "@a").replace(" allowing unbounded overdraft", "")
        destination = draw(destinations())
        statements.append(
            f"send [{asset} {amount}] (\nsource = {source}\ndestination = {destination}\n)"
        )
        statements[-1] = statements[-1].replace("$asset_placeholder", asset)
    return "\n".join(statements)


balances_strategy = st.dictionaries(
    accounts,
    st.dictionaries(st.sampled_from(ASSETS), st.integers(-20, 200), max_size=3),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(source=scripts(), balances=balances_strategy)
def test_any_run_foots_to_zero_and_overdraws_only_allowed_accounts(
    source: str, balances: dict[str, dict[str, int]]
) -> None:
    program = compile_script(source)
    try:
        result = program.run({}, balances)
    except NumscriptRuntimeError as exc:
        assert exc.code in ("INSUFFICIENT_FUND", "INVALID_UNBOUNDED_IN_SEND_ALL")
        return
    assets: set[str] = set()
    end: dict[tuple[str, str], int] = {
        (account, asset): amount for account, by in balances.items() for asset, amount in by.items()
    }
    for posting in result.postings:
        assert posting.amount > 0
        assets.add(posting.asset)
        key_out = (posting.source, posting.asset)
        key_in = (posting.destination, posting.asset)
        end[key_out] = end.get(key_out, 0) - posting.amount
        end[key_in] = end.get(key_in, 0) + posting.amount
    end_total = {asset: sum(v for (_, a), v in end.items() if a == asset) for asset in assets}
    initial_total = {asset: sum(by.get(asset, 0) for by in balances.values()) for asset in assets}
    assert end_total == initial_total  # postings sum to zero per asset
    for (account, asset), amount in end.items():
        initial = balances.get(account, {}).get(asset, 0)
        # a non-overdraft account never ends below zero, nor below an already negative start
        assert account not in ACCOUNTS or amount >= min(initial, 0), (account, asset)


@given(
    total=st.integers(0, 10**30),
    weights=st.lists(st.integers(0, 1000), min_size=1, max_size=8).filter(lambda w: sum(w) > 0),
    with_remaining=st.booleans(),
)
def test_allotment_parts_always_sum_to_the_whole(
    total: int, weights: list[int], with_remaining: bool
) -> None:
    denominator = sum(weights) + (1 if with_remaining else 0)
    portions = [Fraction(w, denominator) for w in weights]
    remaining_index = -1
    if with_remaining:
        portions.append(Fraction(0))
        remaining_index = len(portions) - 1
    parts = _allot(total, portions, remaining_index)
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)
    for part, portion in zip(parts, portions, strict=True):
        exact = portion * total if portion else None
        if exact is not None:
            # Each part is floored, then leftover units go one at a time to the parts in
            # declaration order (Formance), so a part whose exact share is whole can get +1.
            assert exact - 1 < part <= exact + 1
