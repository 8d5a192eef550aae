"""Static checks at compile time: each error here would otherwise fail or misbehave at runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from walletflow.numscript import ast
from walletflow.numscript.errors import NumscriptCompileError

TYPES = ("monetary", "account", "portion", "number", "string", "asset")

FLAG_ONEOF = "experimental-oneof"
FLAG_OVERDRAFT_FN = "experimental-overdraft-function"
FLAG_MID_SCRIPT_CALL = "experimental-mid-script-function-call"
FLAG_ACCOUNT_INTERPOLATION = "experimental-account-interpolation"
FLAG_GET_ASSET = "experimental-get-asset-function"
FLAG_GET_AMOUNT = "experimental-get-amount-function"

# Functions usable inside expressions: name -> (argument types, result type, feature flag).
# `meta` returns the declared type of the variable it initialises, hence "*".
EXPR_FUNCTIONS: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "meta": (("account", "string"), "*", None),
    "balance": (("account", "asset"), "monetary", None),
    "overdraft": (("account", "asset"), "monetary", FLAG_OVERDRAFT_FN),
    "get_asset": (("monetary",), "asset", FLAG_GET_ASSET),
    "get_amount": (("monetary",), "number", FLAG_GET_AMOUNT),
}
# Functions usable as statements: name -> argument types ("any" accepts every type).
STATEMENT_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "set_tx_meta": ("string", "any"),
    "set_account_meta": ("account", "string", "any"),
}


@dataclass
class CheckResult:
    errors: list[NumscriptCompileError] = field(default_factory=list)
    var_types: dict[str, str] = field(default_factory=dict)
    required_features: set[str] = field(default_factory=set)
    # Static type of every expression node we typed, keyed by id(); the compiler uses it to
    # format metadata values without any runtime type tagging.
    expr_types: dict[int, str] = field(default_factory=dict)


class _Checker:
    def __init__(self) -> None:
        self.result = CheckResult()
        self.env: dict[str, str] = {}

    def error(self, code: str, message: str, pos: ast.Pos) -> None:
        self.result.errors.append(NumscriptCompileError(code, message, pos.line, pos.column))

    # ------------------------------------------------------------ program
    def program(self, program: ast.Program) -> CheckResult:
        for decl in program.vars:
            self.var_decl(decl)
        for statement in program.statements:
            self.statement(statement)
        self.result.var_types = dict(self.env)
        return self.result

    def var_decl(self, decl: ast.VarDecl) -> None:
        if decl.type_name not in TYPES:
            self.error(
                "INVALID_TYPE",
                f"'{decl.type_name}' is not a valid type. Allowed types are: {', '.join(TYPES)}",
                decl.type_pos,
            )
        if decl.name in self.env:
            self.error(
                "DUPLICATE_VARIABLE",
                f"A variable with the name '${decl.name}' was already declared",
                decl.pos,
            )
        if decl.origin is not None:
            origin = decl.origin
            if isinstance(origin, ast.FnCall) and origin.name == "meta":
                self.fn_call(origin, decl.type_name, in_origin=True)
            else:
                if not isinstance(origin, ast.FnCall):
                    self.result.required_features.add(FLAG_MID_SCRIPT_CALL)
                self.expect(origin, decl.type_name, in_origin=True)
        if decl.type_name in TYPES and decl.name not in self.env:
            self.env[decl.name] = decl.type_name

    # ------------------------------------------------------------ statements
    def statement(self, statement: ast.Statement) -> None:
        if isinstance(statement, ast.Send):
            self.sent_value(statement.value)
            self.source(statement.source)
            self.destination(statement.destination)
        elif isinstance(statement, ast.Save):
            self.sent_value(statement.value)
            self.expect(statement.account, "account")
        else:
            self.statement_call(statement.call)

    def statement_call(self, call: ast.FnCall) -> None:
        signature = STATEMENT_FUNCTIONS.get(call.name)
        if signature is None:
            if call.name in EXPR_FUNCTIONS:
                message = f"The function '{call.name}' returns a value and cannot be a statement"
            else:
                message = f"The function '{call.name}' does not exist"
            self.error("UNKNOWN_FUNCTION", message, call.pos)
            for arg in call.args:
                self.infer(arg)
            return
        self.arguments(call, signature)

    def arguments(self, call: ast.FnCall, signature: tuple[str, ...]) -> None:
        if len(call.args) != len(signature):
            self.error(
                "BAD_ARITY",
                f"Wrong number of arguments for '{call.name}' "
                f"(expected {len(signature)}, got {len(call.args)} instead)",
                call.pos,
            )
        for arg, expected in zip(call.args, signature, strict=False):
            if expected == "any":
                self.infer(arg)
            else:
                self.expect(arg, expected)

    def sent_value(self, value: ast.SentValue) -> None:
        if isinstance(value, ast.SendAll):
            self.expect(value.asset, "asset")
        else:
            self.expect(value, "monetary")

    # ------------------------------------------------------------ sources
    def source(self, source: ast.Source) -> None:
        if isinstance(source, ast.SrcAccount | ast.SrcOverdraft):
            self.expect(source.account, "account")
            if source.color is not None:
                self.error(
                    "UNSUPPORTED_FEATURE", "asset colors are not supported", source.color.pos
                )
            if isinstance(source, ast.SrcOverdraft) and source.bound is not None:
                self.expect(source.bound, "monetary")
        elif isinstance(source, ast.SrcInorder):
            for sub in source.sources:
                self.source(sub)
        elif isinstance(source, ast.SrcOneof):
            self.result.required_features.add(FLAG_ONEOF)
            for sub in source.sources:
                self.source(sub)
        elif isinstance(source, ast.SrcAllotment):
            self.allotment([a for a, _ in source.items])
            for _, sub in source.items:
                self.source(sub)
        else:
            self.expect(source.cap, "monetary")
            self.source(source.source)

    # ------------------------------------------------------------ destinations
    def destination(self, destination: ast.KeptOrDest) -> None:
        if isinstance(destination, ast.Kept):
            return
        if isinstance(destination, ast.DestAccount):
            self.expect(destination.account, "account")
        elif isinstance(destination, ast.DestAllotment):
            self.allotment([a for a, _ in destination.items])
            for _, sub in destination.items:
                self.destination(sub)
        else:
            if isinstance(destination, ast.DestOneof):
                self.result.required_features.add(FLAG_ONEOF)
            for cap, sub in destination.clauses:
                self.expect(cap, "monetary")
                self.destination(sub)
            self.destination(destination.remaining)

    def allotment(self, items: list[ast.Allotment]) -> None:
        remaining = [i for i in items if isinstance(i, ast.Remaining)]
        if len(remaining) > 1:
            self.error(
                "BAD_ALLOTMENT",
                "An allotment can have only one 'remaining' clause",
                remaining[1].pos,
            )
        known = Fraction(0)
        all_known = True
        for item in items:
            if isinstance(item, ast.Remaining):
                continue
            self.expect(item, "portion")
            value = _literal_portion(item)
            if value is None:
                all_known = False
            else:
                known += value
        first = items[0]
        pos = first.pos
        if known > 1:
            self.error(
                "BAD_ALLOTMENT_SUM",
                f"Allotment portions are greater than one (got {_ratio(known)})",
                pos,
            )
        elif all_known and not remaining and known != 1:
            self.error(
                "BAD_ALLOTMENT_SUM",
                f"Allotment portions are lesser than one (got {_ratio(known)}). "
                "Maybe try adding a 'remaining' clause?",
                pos,
            )

    # ------------------------------------------------------------ expressions
    def expect(self, expr: ast.Expr, expected: str, *, in_origin: bool = False) -> None:
        got = self.infer(expr, in_origin=in_origin)
        if got is not None and expected in TYPES and got != expected:
            self.error(
                "TYPE_MISMATCH",
                f"Type mismatch (expected '{expected}', got '{got}' instead)",
                expr.pos,
            )

    def infer(self, expr: ast.Expr, *, in_origin: bool = False) -> str | None:
        """Type of `expr`, or None when an error was already reported for it."""
        result = self._infer(expr, in_origin)
        if result is not None:
            self.result.expr_types[id(expr)] = result
        return result

    def _infer(self, expr: ast.Expr, in_origin: bool) -> str | None:
        if isinstance(expr, ast.NumberLit):
            return "number"
        if isinstance(expr, ast.StringLit):
            return "string"
        if isinstance(expr, ast.AssetLit):
            return "asset"
        if isinstance(expr, ast.PercentLit):
            if expr.value > 1:
                self.error(
                    "BAD_PORTION",
                    f"Bad portion {expr.text}: a portion must be between 0% and 100%",
                    expr.pos,
                )
                return None
            return "portion"
        if isinstance(expr, ast.VarRef):
            return self.var(expr)
        if isinstance(expr, ast.AccountLit):
            for part in expr.parts:
                if isinstance(part, ast.VarRef):
                    self.result.required_features.add(FLAG_ACCOUNT_INTERPOLATION)
                    got = self.var(part)
                    if got is not None and got not in ("account", "number", "string"):
                        self.error(
                            "TYPE_MISMATCH",
                            f"Cannot interpolate a value of type '{got}' in an account name",
                            part.pos,
                        )
            return "account"
        if isinstance(expr, ast.MonetaryLit):
            self.expect(expr.asset, "asset", in_origin=in_origin)
            self.expect(expr.amount, "number", in_origin=in_origin)
            return "monetary"
        if isinstance(expr, ast.Neg):
            got = self.infer(expr.operand, in_origin=in_origin)
            if got is not None and got not in ("number", "monetary"):
                self.error("TYPE_MISMATCH", f"Cannot negate a value of type '{got}'", expr.pos)
                return None
            return got
        if isinstance(expr, ast.Infix):
            return self.infix(expr, in_origin)
        return self.fn_call(expr, None, in_origin=in_origin)

    def var(self, ref: ast.VarRef) -> str | None:
        found = self.env.get(ref.name)
        if found is None:
            self.error("UNBOUND_VARIABLE", f"The variable '${ref.name}' was not declared", ref.pos)
        return found

    def infix(self, expr: ast.Infix, in_origin: bool) -> str | None:
        left = self.infer(expr.left, in_origin=in_origin)
        right = self.infer(expr.right, in_origin=in_origin)
        if expr.op == "/":
            for side, got in ((expr.left, left), (expr.right, right)):
                if got is not None and got != "number":
                    self.error(
                        "TYPE_MISMATCH",
                        f"Type mismatch (expected 'number', got '{got}' instead)",
                        side.pos,
                    )
            if isinstance(expr.right, ast.NumberLit) and expr.right.value == 0:
                self.error("DIVISION_BY_ZERO", "Cannot divide by zero", expr.right.pos)
            return "portion"
        if left is None or right is None:
            return None
        if left not in ("number", "monetary"):
            self.error(
                "TYPE_MISMATCH",
                f"Operator '{expr.op}' expects numbers or monetaries, got '{left}'",
                expr.left.pos,
            )
            return None
        if right != left:
            self.error(
                "TYPE_MISMATCH",
                f"Type mismatch (expected '{left}', got '{right}' instead)",
                expr.right.pos,
            )
            return None
        return left

    def fn_call(self, call: ast.FnCall, declared: str | None, *, in_origin: bool) -> str | None:
        spec = EXPR_FUNCTIONS.get(call.name)
        if spec is None:
            if call.name in STATEMENT_FUNCTIONS:
                message = f"The function '{call.name}' can only be used as a statement"
            else:
                message = f"The function '{call.name}' does not exist"
            self.error("UNKNOWN_FUNCTION", message, call.pos)
            for arg in call.args:
                self.infer(arg, in_origin=in_origin)
            return None
        signature, result, flag = spec
        if flag is not None:
            self.result.required_features.add(flag)
        if not in_origin:
            self.result.required_features.add(FLAG_MID_SCRIPT_CALL)
        self.arguments(call, signature)
        if result == "*":
            if declared is None:
                self.error(
                    "INVALID_NESTED_META",
                    "meta() can only be used as the whole origin of a variable",
                    call.pos,
                )
                return None
            return declared
        return result


def _literal_portion(expr: ast.Expr) -> Fraction | None:
    if isinstance(expr, ast.PercentLit):
        return expr.value
    if (
        isinstance(expr, ast.Infix)
        and expr.op == "/"
        and isinstance(expr.left, ast.NumberLit)
        and isinstance(expr.right, ast.NumberLit)
        and expr.right.value != 0
    ):
        return Fraction(expr.left.value, expr.right.value)
    return None


def _ratio(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def check(program: ast.Program) -> CheckResult:
    """Type-check a parsed program; errors are collected, not raised."""
    return _Checker().program(program)
