"""Numscript grammar (lark, LALR) and the transformation of its parse tree into the typed AST."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.tree import Meta

from walletflow.numscript import ast
from walletflow.numscript.errors import NumscriptCompileError

# Mirrors Formance's Lexer.g4/Numscript.g4. Two deliberate shapes keep it LALR(1):
# the asset of `[ASSET amount]` is an atom (so `[EUR/2 -100]` reads as a negative amount,
# as in Formance), and `{ ... }` blocks accept any mix of items which the transformer then
# classifies (allotment vs in-order), reporting mixed blocks as syntax errors.
GRAMMAR = r"""
start: feature_decl? vars_block? statement*

feature_decl: "#!" "[" "feature" "(" [STRING ("," STRING)*] ")" "]"

vars_block: "vars" "{" var_decl* "}"
var_decl: IDENTIFIER VARIABLE ["=" expr]

?statement: "send" sent_value "(" "source" "=" source "destination" "=" destination ")" -> send
          | "save" sent_value "from" expr -> save
          | fn_call -> fn_statement

?sent_value: expr
           | "[" atom "*" "]" -> sent_all

?expr: sum
?sum: product
    | sum "+" product -> add
    | sum "-" product -> sub
?product: unary
    | product "/" unary -> div
?unary: atom
      | "-" unary -> neg
?atom: NUMBER -> number
     | STRING -> string
     | ASSET -> asset
     | PERCENT -> percent
     | VARIABLE -> var
     | ACCOUNT -> account
     | "[" atom expr "]" -> monetary
     | fn_call
     | "(" expr ")"
fn_call: fn_name "(" [expr ("," expr)*] ")"
!fn_name: IDENTIFIER | "overdraft"

?source: expr [color] "allowing" "unbounded" "overdraft" -> src_unbounded
       | expr [color] "allowing" "overdraft" "up" "to" expr -> src_bounded
       | expr [color] -> src_account
       | "{" src_item* "}" -> src_block
       | "oneof" "{" source+ "}" -> src_oneof
       | "max" expr "from" source -> src_capped
color: "\\" expr
src_item: expr "from" source -> src_allot_item
        | "remaining" "from" source -> src_remaining_item
        | source -> src_plain_item

?destination: expr -> dest_account
            | "{" dest_item+ "}" -> dest_block
            | "oneof" "{" dest_item+ "}" -> dest_oneof
dest_item: expr kept_or_dest -> dest_allot_item
         | "max" expr kept_or_dest -> dest_max_item
         | "remaining" kept_or_dest -> dest_remaining_item
?kept_or_dest: "to" destination -> to_dest
             | "kept" -> kept

VARIABLE: /\$[a-z_]+[a-z0-9_]*/
ACCOUNT: /@(\$[a-z_]+[a-z0-9_]*|[a-zA-Z0-9_-]+)(:(\$[a-z_]+[a-z0-9_]*|[a-zA-Z0-9_-]+))*/
PERCENT: /[0-9]+(\.[0-9]+)?%/
NUMBER: /[0-9]+(_[0-9]+)*/
ASSET: /[A-Z][A-Z0-9]*(\/[0-9]+)?/
STRING: /"(\\\\"|[^\r\n"])*"/
IDENTIFIER: /[a-z]+[a-z_]*/

LINE_COMMENT: /\/\/[^\n]*/
BLOCK_COMMENT: /\/\*(.|\n)*?\*\//
%import common.WS
%ignore WS
%ignore LINE_COMMENT
%ignore BLOCK_COMMENT
"""

_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)

# Readable names for the lark terminals that can show up in "expected ..." messages.
_TERMINAL_NAMES = {
    "VARIABLE": "a variable",
    "ACCOUNT": "an account",
    "PERCENT": "a percentage",
    "NUMBER": "a number",
    "ASSET": "an asset",
    "STRING": "a string",
    "IDENTIFIER": "an identifier",
    "$END": "end of script",
}


def _pos(meta: Meta) -> ast.Pos:
    return ast.Pos(getattr(meta, "line", 1), getattr(meta, "column", 1))


def _tok_pos(token: Token) -> ast.Pos:
    return ast.Pos(token.line or 1, token.column or 1)


def _syntax(message: str, pos: ast.Pos) -> NumscriptCompileError:
    return NumscriptCompileError("SYNTAX_ERROR", message, pos.line, pos.column)


def parse_percent(text: str) -> Fraction:
    """`12.5%` -> 1/8; exact, no floats."""
    return Fraction(text[:-1]) / 100


def _parse_account(token: Token) -> ast.AccountLit:
    pos = _tok_pos(token)
    parts: list[str | ast.VarRef] = []
    column = pos.column + 1
    for segment in str(token)[1:].split(":"):
        if segment.startswith("$"):
            parts.append(ast.VarRef(ast.Pos(pos.line, column), segment[1:]))
        else:
            parts.append(segment)
        column += len(segment) + 1
    return ast.AccountLit(pos, tuple(parts))


@v_args(meta=True)
class _ToAst(Transformer[Token, ast.Program]):
    # ------------------------------------------------------------ program
    def start(self, meta: Meta, children: list[Any]) -> ast.Program:
        features: tuple[str, ...] = ()
        decls: tuple[ast.VarDecl, ...] = ()
        statements: list[ast.Statement] = []
        for child in children:
            if child is None:
                continue
            if isinstance(child, _Features):
                features = child.flags
            elif isinstance(child, _Vars):
                decls = child.decls
            else:
                statements.append(child)
        return ast.Program(features, decls, tuple(statements))

    def feature_decl(self, meta: Meta, children: list[Token | None]) -> _Features:
        return _Features(tuple(_unquote(t) for t in children if t is not None))

    def vars_block(self, meta: Meta, children: list[ast.VarDecl]) -> _Vars:
        return _Vars(tuple(children))

    def var_decl(self, meta: Meta, children: list[Any]) -> ast.VarDecl:
        type_tok, name_tok, origin = children
        return ast.VarDecl(_pos(meta), str(type_tok), _tok_pos(type_tok), str(name_tok)[1:], origin)

    # ------------------------------------------------------------ statements
    def send(self, meta: Meta, children: list[Any]) -> ast.Send:
        value, source, destination = children
        return ast.Send(_pos(meta), value, source, destination)

    def save(self, meta: Meta, children: list[Any]) -> ast.Save:
        value, account = children
        return ast.Save(_pos(meta), value, account)

    def fn_statement(self, meta: Meta, children: list[ast.FnCall]) -> ast.FnStatement:
        return ast.FnStatement(_pos(meta), children[0])

    def sent_all(self, meta: Meta, children: list[ast.Expr]) -> ast.SendAll:
        return ast.SendAll(_pos(meta), children[0])

    # ------------------------------------------------------------ expressions
    def number(self, meta: Meta, children: list[Token]) -> ast.NumberLit:
        return ast.NumberLit(_pos(meta), int(str(children[0]).replace("_", "")))

    def string(self, meta: Meta, children: list[Token]) -> ast.StringLit:
        return ast.StringLit(_pos(meta), _unquote(children[0]))

    def asset(self, meta: Meta, children: list[Token]) -> ast.AssetLit:
        return ast.AssetLit(_pos(meta), str(children[0]))

    def percent(self, meta: Meta, children: list[Token]) -> ast.PercentLit:
        text = str(children[0])
        return ast.PercentLit(_pos(meta), parse_percent(text), text)

    def var(self, meta: Meta, children: list[Token]) -> ast.VarRef:
        return ast.VarRef(_pos(meta), str(children[0])[1:])

    def account(self, meta: Meta, children: list[Token]) -> ast.AccountLit:
        return _parse_account(children[0])

    def monetary(self, meta: Meta, children: list[ast.Expr]) -> ast.MonetaryLit:
        return ast.MonetaryLit(_pos(meta), children[0], children[1])

    def add(self, meta: Meta, children: list[ast.Expr]) -> ast.Infix:
        return ast.Infix(_pos(meta), "+", children[0], children[1])

    def sub(self, meta: Meta, children: list[ast.Expr]) -> ast.Infix:
        return ast.Infix(_pos(meta), "-", children[0], children[1])

    def div(self, meta: Meta, children: list[ast.Expr]) -> ast.Infix:
        return ast.Infix(_pos(meta), "/", children[0], children[1])

    def neg(self, meta: Meta, children: list[ast.Expr]) -> ast.Neg:
        return ast.Neg(_pos(meta), children[0])

    def fn_call(self, meta: Meta, children: list[Any]) -> ast.FnCall:
        name = children[0]
        args = tuple(a for a in children[1:] if a is not None)
        return ast.FnCall(_pos(meta), name, args)

    def fn_name(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0])

    # ------------------------------------------------------------ sources
    def src_account(self, meta: Meta, children: list[Any]) -> ast.SrcAccount:
        return ast.SrcAccount(_pos(meta), children[0], children[1])

    def src_unbounded(self, meta: Meta, children: list[Any]) -> ast.SrcOverdraft:
        return ast.SrcOverdraft(_pos(meta), children[0], None, children[1])

    def src_bounded(self, meta: Meta, children: list[Any]) -> ast.SrcOverdraft:
        return ast.SrcOverdraft(_pos(meta), children[0], children[2], children[1])

    def color(self, meta: Meta, children: list[ast.Expr]) -> ast.Expr:
        return children[0]

    def src_oneof(self, meta: Meta, children: list[ast.Source]) -> ast.SrcOneof:
        return ast.SrcOneof(_pos(meta), tuple(children))

    def src_capped(self, meta: Meta, children: list[Any]) -> ast.SrcCapped:
        return ast.SrcCapped(_pos(meta), children[0], children[1])

    def src_allot_item(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("allot", _pos(meta), children[0], children[1])

    def src_remaining_item(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("allot", _pos(meta), ast.Remaining(_pos(meta)), children[0])

    def src_plain_item(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("plain", _pos(meta), None, children[0])

    def src_block(self, meta: Meta, children: list[_Item]) -> ast.Source:
        kinds = {item.kind for item in children}
        if kinds == {"allot"}:
            return ast.SrcAllotment(_pos(meta), tuple((i.head, i.body) for i in children))
        if "allot" in kinds:
            bad = next(i for i in children if i.kind == "plain")
            raise _syntax("cannot mix allotment and in-order sources in one block", bad.pos)
        return ast.SrcInorder(_pos(meta), tuple(i.body for i in children))

    # ------------------------------------------------------------ destinations
    def dest_account(self, meta: Meta, children: list[ast.Expr]) -> ast.DestAccount:
        return ast.DestAccount(_pos(meta), children[0])

    def to_dest(self, meta: Meta, children: list[ast.Destination]) -> ast.Destination:
        return children[0]

    def kept(self, meta: Meta, children: list[Any]) -> ast.Kept:
        return ast.Kept(_pos(meta))

    def dest_allot_item(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("allot", _pos(meta), children[0], children[1])

    def dest_max_item(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("max", _pos(meta), children[0], children[1])

    def dest_remaining_item(self, meta: Meta, children: list[Any]) -> _Item:
        return _Item("remaining", _pos(meta), ast.Remaining(_pos(meta)), children[0])

    def dest_block(self, meta: Meta, children: list[_Item]) -> ast.Destination:
        kinds = [item.kind for item in children]
        if "max" not in kinds:
            # `{ remaining kept }` is read as an allotment, as Formance's parser does.
            return ast.DestAllotment(_pos(meta), tuple((i.head, i.body) for i in children))
        clauses, remaining = _inorder_clauses(children)
        return ast.DestInorder(_pos(meta), clauses, remaining)

    def dest_oneof(self, meta: Meta, children: list[_Item]) -> ast.DestOneof:
        clauses, remaining = _inorder_clauses(children)
        return ast.DestOneof(_pos(meta), clauses, remaining)


class _Features:
    def __init__(self, flags: tuple[str, ...]) -> None:
        self.flags = flags


class _Vars:
    def __init__(self, decls: tuple[ast.VarDecl, ...]) -> None:
        self.decls = decls


class _Item:
    """One line of a `{ ... }` block before we know which kind of block it is."""

    def __init__(self, kind: str, pos: ast.Pos, head: Any, body: Any) -> None:
        self.kind = kind
        self.pos = pos
        self.head = head
        self.body = body


def _inorder_clauses(
    items: list[_Item],
) -> tuple[tuple[tuple[ast.Expr, ast.KeptOrDest], ...], ast.KeptOrDest]:
    *clauses, last = items
    for item in clauses:
        if item.kind != "max":
            raise _syntax("in an in-order destination every clause but the last is 'max'", item.pos)
    if last.kind != "remaining":
        raise _syntax("an in-order destination must end with a 'remaining' clause", last.pos)
    return tuple((i.head, i.body) for i in clauses), last.body


def _unquote(token: Token) -> str:
    return str(token)[1:-1].replace('\\"', '"')


def _describe_expected(expected: set[str]) -> str:
    names = sorted(
        _TERMINAL_NAMES.get(name, _PARSER.get_terminal(name).pattern.value)
        if name in _TERMINAL_NAMES or _is_literal(name)
        else name
        for name in expected
    )
    return ", ".join(f"'{n}'" if not n.startswith(("a ", "an ", "end")) else n for n in names)


def _is_literal(name: str) -> bool:
    try:
        return _PARSER.get_terminal(name).pattern.type == "str"
    except KeyError:
        return False


def parse(source: str) -> ast.Program:
    """Parse a script into its AST; any syntax problem raises NumscriptCompileError."""
    try:
        tree = _PARSER.parse(source)
    except UnexpectedEOF as exc:
        line, column = _end_position(source)
        raise NumscriptCompileError(
            "SYNTAX_ERROR",
            f"unexpected end of script, expected {_describe_expected(set(exc.expected))}",
            line,
            column,
        ) from None
    except UnexpectedToken as exc:
        token = exc.token
        found = "end of script" if token.type == "$END" else f"'{token}'"
        line, column = (exc.line, exc.column) if token.type != "$END" else _end_position(source)
        raise NumscriptCompileError(
            "SYNTAX_ERROR",
            f"unexpected {found}, expected {_describe_expected(set(exc.expected))}",
            line,
            column,
        ) from None
    except UnexpectedCharacters as exc:
        index = exc.pos_in_stream or 0
        char = source[index] if index < len(source) else "?"
        raise NumscriptCompileError(
            "SYNTAX_ERROR", f"unexpected character {char!r}", exc.line, exc.column
        ) from None
    except UnexpectedInput as exc:  # any other lark input error
        raise NumscriptCompileError("SYNTAX_ERROR", str(exc), exc.line, exc.column) from None
    try:
        return _ToAst().transform(tree)
    except Exception as exc:  # lark wraps transformer errors in VisitError
        inner = getattr(exc, "orig_exc", exc)
        if isinstance(inner, NumscriptCompileError):
            raise inner from None
        raise


def _end_position(source: str) -> tuple[int, int]:
    lines = source.split("\n")
    return len(lines), len(lines[-1]) + 1
