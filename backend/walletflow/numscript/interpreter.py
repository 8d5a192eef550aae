"""Compile a checked AST into closures and run it with Formance's semantics.

Compiling once turns every node into a plain Python closure, so a run is a handful of
function calls over ints and tuples: no AST dispatch, no regex on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from walletflow.numscript import ast
from walletflow.numscript.checker import CheckResult
from walletflow.numscript.errors import (
    DivisionByZeroError,
    ExperimentalFeatureError,
    InsufficientFundError,
    InvalidAllotmentInSendAllError,
    InvalidAllotmentSumError,
    InvalidBalanceError,
    InvalidPostingError,
    InvalidUnboundedInSendAllError,
    MetadataNotFoundError,
    MismatchedCurrencyError,
    MissingVariableError,
    NegativeAmountError,
    NegativeBalanceError,
    NumscriptRuntimeError,
)
from walletflow.numscript.values import (
    check_account,
    format_value,
    is_valid_asset,
    parse_value,
)

WORLD = "world"
_KEPT = "<kept>"  # pseudo-destination: funds go back to their senders, no posting
_NO_BALANCES: Mapping[str, Mapping[str, int]] = {}
_EMPTY: Mapping[str, int] = {}


@dataclass(frozen=True, slots=True)
class Posting:
    source: str
    destination: str
    amount: int
    asset: str


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    postings: list[Posting]
    tx_metadata: dict[str, str] = field(default_factory=dict)
    accounts_metadata: dict[str, dict[str, str]] = field(default_factory=dict)


class _Run:
    """Mutable state of one execution."""

    __slots__ = (
        "accounts_meta",
        "asset",
        "balances_in",
        "cache",
        "head",
        "meta_in",
        "postings",
        "queue",
        "read_log",
        "tx_meta",
        "vars",
    )

    def __init__(
        self,
        balances: Mapping[str, Mapping[str, int]],
        meta: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.vars: dict[str, Any] = {}
        self.balances_in = balances
        self.meta_in = meta
        self.cache: dict[tuple[str, str], int] = {}
        self.queue: list[tuple[str, int]] = []
        self.head = 0
        self.postings: list[Posting] = []
        self.tx_meta: dict[str, str] = {}
        self.accounts_meta: dict[str, dict[str, str]] = {}
        self.asset = ""
        self.read_log: set[tuple[str, str]] | None = None

    def balance(self, account: str, asset: str) -> int:
        key = (account, asset)
        try:
            return self.cache[key]
        except KeyError:
            pass
        if self.read_log is not None:
            self.read_log.add(key)
        raw = self.balances_in.get(account, _EMPTY).get(asset, 0)
        if type(raw) is not int:
            raise InvalidBalanceError(account, asset, raw)
        self.cache[key] = raw
        return raw

    def push_sender(self, account: str, amount: int) -> None:
        if amount:
            asset = self.asset
            self.cache[(account, asset)] = self.balance(account, asset) - amount
            self.queue.append((account, amount))

    def push_receiver(self, name: str, amount: int) -> None:
        """Pull `amount` from the senders queue, first in first out, as Formance's funds stack.

        Consecutive queue cells of the same sender are merged before being pulled, so one
        receiver gets one posting per run of identical senders.
        """
        if not amount:
            return
        queue = self.queue
        head = self.head
        size = len(queue)
        asset = self.asset
        cache = self.cache
        while amount > 0 and head < size:
            sender, available = queue[head]
            nxt = head + 1
            while nxt < size and queue[nxt][0] == sender:
                available += queue[nxt][1]
                nxt += 1
            if available > amount:
                taken = amount
                queue[nxt - 1] = (sender, available - amount)
                head = nxt - 1
            else:
                taken = available
                head = nxt
            amount -= taken
            if name is _KEPT:
                key = (sender, asset)
                cache[key] = cache[key] + taken
            else:
                key = (name, asset)
                cache[key] = self.balance(name, asset) + taken
                self.postings.append(Posting(sender, name, taken, asset))
        self.head = head


Fn = Callable[[_Run], Any]
TrySend = Callable[[_Run, int], int]
SendAllFn = Callable[[_Run], int]
Receive = Callable[[_Run, int], None]
Exec = Callable[[_Run], None]


def _allot(total: int, portions: list[Fraction], remaining_index: int) -> list[int]:
    """Formance's allotment: floor each part, then hand leftover units one by one in order."""
    if remaining_index >= 0:
        given = Fraction(sum(portions))
        if given > 1:
            raise InvalidAllotmentSumError(_ratio(given))
        portions = list(portions)
        portions[remaining_index] = 1 - given
    else:
        given = Fraction(sum(portions))
        if given != 1:
            raise InvalidAllotmentSumError(_ratio(given))
    parts = [(p.numerator * total) // p.denominator for p in portions]
    allocated = sum(parts)
    index = 0
    while allocated < total and index < len(parts):
        parts[index] += 1
        allocated += 1
        index += 1
    return parts


def _ratio(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


class Compiler:
    def __init__(self, checked: CheckResult) -> None:
        self.types = checked.expr_types
        self.var_types = checked.var_types
        # (account, asset) readers for needed_balances(); asset reader is the statement's.
        self.balance_sites: list[tuple[Fn, Fn]] = []
        self._statement_asset: Fn = lambda st: st.asset

    # ------------------------------------------------------------ expressions
    def expr(self, e: ast.Expr) -> Fn:
        if isinstance(e, ast.NumberLit | ast.StringLit | ast.AssetLit):
            value: Any = e.value if not isinstance(e, ast.AssetLit) else e.name
            return lambda st: value
        if isinstance(e, ast.PercentLit):
            portion = e.value
            return lambda st: portion
        if isinstance(e, ast.VarRef):
            name = e.name

            def var(st: _Run) -> Any:
                return st.vars[name]

            return var
        if isinstance(e, ast.AccountLit):
            return self.account_lit(e)
        if isinstance(e, ast.MonetaryLit):
            asset_fn = self.expr(e.asset)
            amount_fn = self.expr(e.amount)
            if isinstance(e.asset, ast.AssetLit) and isinstance(e.amount, ast.NumberLit):
                constant = (e.asset.name, e.amount.value)
                return lambda st: constant
            return lambda st: (asset_fn(st), amount_fn(st))
        if isinstance(e, ast.Neg):
            inner = self.expr(e.operand)
            if self.types.get(id(e.operand)) == "monetary":
                return lambda st: _neg_monetary(inner(st))
            return lambda st: -inner(st)
        if isinstance(e, ast.Infix):
            return self.infix(e)
        return self.call(e)

    def account_lit(self, e: ast.AccountLit) -> Fn:
        if all(isinstance(p, str) for p in e.parts):
            name = ":".join(str(p) for p in e.parts)
            return lambda st: name
        parts: list[Fn] = []
        for part in e.parts:
            if isinstance(part, str):
                text = part
                parts.append(lambda st, text=text: text)  # type: ignore[misc]
            else:
                parts.append(self.expr(part))

        def interpolated(st: _Run) -> str:
            return check_account(":".join(str(p(st)) for p in parts))

        return interpolated

    def infix(self, e: ast.Infix) -> Fn:
        left = self.expr(e.left)
        right = self.expr(e.right)
        if e.op == "/":

            def div(st: _Run) -> Fraction:
                numerator = left(st)
                denominator = right(st)
                if denominator == 0:
                    raise DivisionByZeroError(numerator)
                return Fraction(numerator, denominator)

            return div
        sign = 1 if e.op == "+" else -1
        if self.types.get(id(e.left)) == "monetary":

            def monetary_op(st: _Run) -> tuple[str, int]:
                a_asset, a_amount = left(st)
                b_asset, b_amount = right(st)
                if a_asset != b_asset:
                    raise MismatchedCurrencyError(a_asset, b_asset)
                return (a_asset, a_amount + sign * b_amount)

            return monetary_op
        if sign == 1:
            return lambda st: left(st) + right(st)
        return lambda st: left(st) - right(st)

    def call(self, e: ast.FnCall, declared: str | None = None, var_name: str = "") -> Fn:
        args = [self.expr(a) for a in e.args]
        if e.name == "meta":
            account_fn, key_fn = args
            type_name = declared or "string"

            def meta(st: _Run) -> Any:
                account = account_fn(st)
                key = key_fn(st)
                value = st.meta_in.get(account, {}).get(key)
                if value is None:
                    raise MetadataNotFoundError(account, key)
                return parse_value(var_name, type_name, value)

            return meta
        if e.name in ("balance", "overdraft"):
            account_fn, asset_fn = args
            self.balance_sites.append((account_fn, asset_fn))
            if e.name == "balance":

                def balance(st: _Run) -> tuple[str, int]:
                    account = account_fn(st)
                    asset = asset_fn(st)
                    amount = st.balance(account, asset)
                    if amount < 0:
                        raise NegativeBalanceError(account)
                    return (asset, amount)

                return balance

            def overdraft(st: _Run) -> tuple[str, int]:
                asset = asset_fn(st)
                amount = st.balance(account_fn(st), asset)
                return (asset, -amount if amount < 0 else 0)

            return overdraft
        (monetary_fn,) = args
        if e.name == "get_asset":
            return lambda st: monetary_fn(st)[0]
        return lambda st: monetary_fn(st)[1]

    def monetary_of_asset(self, e: ast.Expr) -> Callable[[_Run], int]:
        """A monetary expression that must be in the asset being sent; yields its amount."""
        fn = self.expr(e)

        def amount(st: _Run) -> int:
            asset, value = fn(st)
            if asset != st.asset:
                raise MismatchedCurrencyError(st.asset, asset)
            return int(value)

        return amount

    # ------------------------------------------------------------ sources
    def try_send(self, s: ast.Source) -> TrySend:
        """Closure that sends up to `amount` from `s` and returns what it managed to send."""
        if isinstance(s, ast.SrcAccount):
            return self._try_account(s.account, None, bounded=True)
        if isinstance(s, ast.SrcOverdraft):
            return self._try_account(s.account, s.bound, bounded=s.bound is not None)
        if isinstance(s, ast.SrcInorder):
            subs = [self.try_send(sub) for sub in s.sources]

            def inorder(st: _Run, amount: int) -> int:
                left = amount
                for sub in subs:
                    left -= sub(st, left)
                return amount - left

            return inorder
        if isinstance(s, ast.SrcOneof):
            subs = [self.try_send(sub) for sub in s.sources]
            *leading, last = subs

            def oneof(st: _Run, amount: int) -> int:
                for sub in leading:
                    queue_backup = list(st.queue)
                    cache_backup = dict(st.cache)
                    if sub(st, amount) == amount:
                        return amount
                    st.queue = queue_backup
                    st.cache = cache_backup
                return last(st, amount)

            return oneof
        if isinstance(s, ast.SrcAllotment):
            allot = self.allotment([a for a, _ in s.items])
            exact = [self._exact(self.try_send(sub)) for _, sub in s.items]

            def allotment(st: _Run, amount: int) -> int:
                for part, sub in zip(allot(st, amount), exact, strict=True):
                    sub(st, part)
                return amount

            return allotment
        cap_fn = self.monetary_of_asset(s.cap)
        inner = self.try_send(s.source)

        def capped(st: _Run, amount: int) -> int:
            cap = cap_fn(st)
            return inner(st, max(min(amount, cap), 0))

        return capped

    def _exact(self, sub: TrySend) -> Callable[[_Run, int], None]:
        def exact(st: _Run, amount: int) -> None:
            sent = sub(st, amount)
            if sent != amount:
                raise InsufficientFundError(st.asset, amount, sent)

        return exact

    def _try_account(self, account: ast.Expr, bound: ast.Expr | None, *, bounded: bool) -> TrySend:
        account_fn = self.expr(account)
        if bounded:
            self.balance_sites.append((account_fn, self._statement_asset))
        if not bounded:

            def unbounded(st: _Run, amount: int) -> int:
                st.push_sender(account_fn(st), amount)
                return amount

            return unbounded
        bound_fn = self.monetary_of_asset(bound) if bound is not None else None

        def bounded_send(st: _Run, amount: int) -> int:
            name = account_fn(st)
            if name == WORLD:
                sent = amount
            else:
                overdraft = 0 if bound_fn is None else max(bound_fn(st), 0)
                safe = st.balance(name, st.asset) + overdraft
                sent = amount if safe >= amount else (safe if safe > 0 else 0)
            st.push_sender(name, sent)
            return sent

        return bounded_send

    def send_all(self, s: ast.Source) -> SendAllFn:
        """Closure that sends everything `s` can give and returns the total."""
        if isinstance(s, ast.SrcAccount | ast.SrcOverdraft):
            account_fn = self.expr(s.account)
            if isinstance(s, ast.SrcOverdraft) and s.bound is None:

                def unbounded(st: _Run) -> int:
                    raise InvalidUnboundedInSendAllError(account_fn(st))

                return unbounded
            self.balance_sites.append((account_fn, self._statement_asset))
            bound = s.bound if isinstance(s, ast.SrcOverdraft) else None
            bound_fn = self.monetary_of_asset(bound) if bound is not None else None

            def everything(st: _Run) -> int:
                name = account_fn(st)
                if name == WORLD:
                    raise InvalidUnboundedInSendAllError(name)
                overdraft = 0 if bound_fn is None else max(bound_fn(st), 0)
                sent = max(st.balance(name, st.asset) + overdraft, 0)
                st.push_sender(name, sent)
                return sent

            return everything
        if isinstance(s, ast.SrcInorder):
            subs = [self.send_all(sub) for sub in s.sources]
            return lambda st: sum(sub(st) for sub in subs)
        if isinstance(s, ast.SrcOneof):
            return self.send_all(s.sources[0])
        if isinstance(s, ast.SrcAllotment):

            def allotment(st: _Run) -> int:
                raise InvalidAllotmentInSendAllError()

            return allotment
        cap_fn = self.monetary_of_asset(s.cap)
        inner = self.try_send(s.source)
        return lambda st: inner(st, max(cap_fn(st), 0))

    # ------------------------------------------------------------ destinations
    def receive(self, d: ast.KeptOrDest) -> Receive:
        if isinstance(d, ast.Kept):
            return lambda st, amount: st.push_receiver(_KEPT, amount)
        if isinstance(d, ast.DestAccount):
            account_fn = self.expr(d.account)
            return lambda st, amount: st.push_receiver(account_fn(st), amount)
        if isinstance(d, ast.DestAllotment):
            allot = self.allotment([a for a, _ in d.items])
            subs = [self.receive(sub) for _, sub in d.items]

            def allotment(st: _Run, amount: int) -> None:
                for part, sub in zip(allot(st, amount), subs, strict=True):
                    sub(st, part)

            return allotment
        clauses = [(self.monetary_of_asset(cap), self.receive(sub)) for cap, sub in d.clauses]
        remaining = self.receive(d.remaining)
        if isinstance(d, ast.DestInorder):

            def inorder(st: _Run, amount: int) -> None:
                left = amount
                for cap_fn, sub in clauses:
                    cap = cap_fn(st)
                    if left == 0:
                        break
                    share = max(min(cap, left), 0)
                    if share:
                        sub(st, share)
                        left -= share
                if left:
                    remaining(st, left)

            return inorder

        def oneof(st: _Run, amount: int) -> None:
            for cap_fn, sub in clauses:
                if cap_fn(st) >= amount:
                    sub(st, amount)
                    return
            remaining(st, amount)

        return oneof

    def allotment(self, items: list[ast.Allotment]) -> Callable[[_Run, int], list[int]]:
        remaining_index = next(
            (i for i, item in enumerate(items) if isinstance(item, ast.Remaining)), -1
        )
        fns = [None if isinstance(i, ast.Remaining) else self.expr(i) for i in items]
        if all(isinstance(i, ast.Remaining | ast.PercentLit) for i in items):
            # Literal portions: resolve them once, here, instead of on every run.
            fixed = [i.value if isinstance(i, ast.PercentLit) else Fraction(0) for i in items]
            return lambda st, amount: _allot(amount, fixed, remaining_index)

        def portions(st: _Run, amount: int) -> list[int]:
            values = [Fraction(0) if fn is None else fn(st) for fn in fns]
            return _allot(amount, values, remaining_index)

        return portions

    # ------------------------------------------------------------ statements
    def statement(self, s: ast.Statement) -> Exec:
        if isinstance(s, ast.Send):
            return self.send(s)
        if isinstance(s, ast.Save):
            return self.save(s)
        return self.fn_statement(s.call)

    def send(self, s: ast.Send) -> Exec:
        receive = self.receive(s.destination)
        if isinstance(s.value, ast.SendAll):
            asset_fn = self.expr(s.value.asset)
            self._statement_asset = asset_fn
            send_all = self.send_all(s.source)

            def send_everything(st: _Run) -> None:
                st.asset = _checked_asset(asset_fn(st))
                st.queue = []
                st.head = 0
                receive(st, send_all(st))

            return send_everything
        monetary_fn = self.expr(s.value)
        self._statement_asset = lambda st: monetary_fn(st)[0]
        try_send = self.try_send(s.source)

        def send(st: _Run) -> None:
            asset, amount = monetary_fn(st)
            st.asset = _checked_asset(asset)
            if amount < 0:
                raise NegativeAmountError(amount)
            st.queue = []
            st.head = 0
            sent = try_send(st, amount)
            if sent != amount:
                raise InsufficientFundError(asset, amount, sent)
            receive(st, amount)

        return send

    def save(self, s: ast.Save) -> Exec:
        account_fn = self.expr(s.account)
        if isinstance(s.value, ast.SendAll):
            asset_fn = self.expr(s.value.asset)
            self.balance_sites.append((account_fn, asset_fn))

            def save_all(st: _Run) -> None:
                asset = asset_fn(st)
                account = account_fn(st)
                if st.balance(account, asset) > 0:
                    st.cache[(account, asset)] = 0

            return save_all
        monetary_fn = self.expr(s.value)
        self.balance_sites.append((account_fn, lambda st: monetary_fn(st)[0]))

        def save(st: _Run) -> None:
            asset, amount = monetary_fn(st)
            account = account_fn(st)
            if amount < 0:
                raise NegativeAmountError(amount)
            left = st.balance(account, asset) - amount
            st.cache[(account, asset)] = left if left > 0 else 0

        return save

    def fn_statement(self, call: ast.FnCall) -> Exec:
        args = [self.expr(a) for a in call.args]
        value_type = self.types.get(id(call.args[-1]), "string")
        value_fn = args[-1]
        if call.name == "set_tx_meta":
            key_fn = args[0]

            def set_tx_meta(st: _Run) -> None:
                st.tx_meta[key_fn(st)] = format_value(value_type, value_fn(st))

            return set_tx_meta
        account_fn, key_fn = args[0], args[1]

        def set_account_meta(st: _Run) -> None:
            account = account_fn(st)
            key = key_fn(st)
            st.accounts_meta.setdefault(account, {})[key] = format_value(value_type, value_fn(st))

        return set_account_meta


def _neg_monetary(value: tuple[str, int]) -> tuple[str, int]:
    return (value[0], -value[1])


def _checked_asset(asset: str) -> str:
    if not is_valid_asset(asset):
        raise InvalidPostingError(f"invalid asset name {asset!r}")
    return asset


@dataclass(frozen=True, slots=True)
class _VarSpec:
    name: str
    type_name: str
    origin: Fn | None


class Program:
    """A compiled script: compile once with `compile_script`, run many times."""

    def __init__(
        self,
        source: str,
        parsed: ast.Program,
        checked: CheckResult,
    ) -> None:
        compiler = Compiler(checked)
        self.source = source
        self.ast = parsed
        self.features: frozenset[str] = frozenset(parsed.features)
        self.required_features: frozenset[str] = frozenset(checked.required_features)
        self.var_decls: dict[str, str] = {d.name: d.type_name for d in parsed.vars}
        specs: list[_VarSpec] = []
        for decl in parsed.vars:
            origin: Fn | None = None
            if decl.origin is not None:
                if isinstance(decl.origin, ast.FnCall):
                    origin = compiler.call(decl.origin, decl.type_name, decl.name)
                else:
                    origin = compiler.expr(decl.origin)
            specs.append(_VarSpec(decl.name, decl.type_name, origin))
        self._vars = tuple(specs)
        self._statements = tuple(compiler.statement(s) for s in parsed.statements)
        self._balance_sites = tuple(compiler.balance_sites)

    def run(
        self,
        variables: Mapping[str, str],
        balances: Mapping[str, Mapping[str, int]] | None = None,
        accounts_meta: Mapping[str, Mapping[str, str]] | None = None,
        *,
        feature_flags: Collection[str] = (),
    ) -> ExecutionResult:
        """Execute against a snapshot of balances; raises a NumscriptRuntimeError subclass."""
        if self.required_features:
            self._check_features(feature_flags)
        st = _Run(balances or _NO_BALANCES, accounts_meta or {})
        self._bind(st, variables)
        for statement in self._statements:
            statement(st)
        return ExecutionResult(st.postings, st.tx_meta, st.accounts_meta)

    def _check_features(self, feature_flags: Collection[str]) -> None:
        for flag in sorted(self.required_features):
            if flag not in self.features and flag not in feature_flags:
                raise ExperimentalFeatureError(flag)

    def _bind(self, st: _Run, variables: Mapping[str, str]) -> None:
        values = st.vars
        for spec in self._vars:
            if spec.origin is None:
                try:
                    raw = variables[spec.name]
                except KeyError:
                    raise MissingVariableError(spec.name) from None
                values[spec.name] = parse_value(spec.name, spec.type_name, raw)
            else:
                values[spec.name] = spec.origin(st)

    def needed_balances(self, variables: Mapping[str, str]) -> set[tuple[str, str]]:
        """Best-effort set of (account, asset) whose balance a run may read.

        Covers every bounded source account (plain, `allowing overdraft up to`, send-all,
        `max` caps), `save` targets and `balance()`/`overdraft()` calls, evaluated with the
        given variables. Not covered: anything that depends on `meta()` (accounts or assets
        read from account metadata) or on a variable that is missing or invalid; those
        sites are skipped. `world` and `allowing unbounded overdraft` sources never read a
        balance. Destination accounts are not included: the caller locks them for writing
        from the postings of the run.
        """
        st = _Run(_NO_BALANCES, {})
        st.read_log = set()
        for spec in self._vars:
            try:
                if spec.origin is None:
                    raw = variables[spec.name]
                    st.vars[spec.name] = parse_value(spec.name, spec.type_name, raw)
                else:
                    st.vars[spec.name] = spec.origin(st)
            except (KeyError, NumscriptRuntimeError):
                continue
        needed = set(st.read_log)
        for account_fn, asset_fn in self._balance_sites:
            try:
                account = account_fn(st)
                asset = asset_fn(st)
            except (KeyError, NumscriptRuntimeError, TypeError, IndexError):
                continue
            if account != WORLD:
                needed.add((account, asset))
        return needed


__all__ = ["ExecutionResult", "Posting", "Program"]
