"""Typed syntax tree of a Numscript program (what the parser produces, what the checker reads)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class Pos:
    line: int
    column: int


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class NumberLit:
    pos: Pos
    value: int


@dataclass(frozen=True, slots=True)
class StringLit:
    pos: Pos
    value: str


@dataclass(frozen=True, slots=True)
class AssetLit:
    pos: Pos
    name: str


@dataclass(frozen=True, slots=True)
class PercentLit:
    pos: Pos
    value: Fraction
    text: str


@dataclass(frozen=True, slots=True)
class VarRef:
    pos: Pos
    name: str


@dataclass(frozen=True, slots=True)
class AccountLit:
    """`@a:b:$c`: text segments are str, interpolated segments are VarRef."""

    pos: Pos
    parts: tuple[str | VarRef, ...]


@dataclass(frozen=True, slots=True)
class MonetaryLit:
    pos: Pos
    asset: Expr
    amount: Expr


@dataclass(frozen=True, slots=True)
class Infix:
    pos: Pos
    op: str  # "+", "-" or "/"
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Neg:
    pos: Pos
    operand: Expr


@dataclass(frozen=True, slots=True)
class FnCall:
    pos: Pos
    name: str
    args: tuple[Expr, ...]


Expr = (
    NumberLit
    | StringLit
    | AssetLit
    | PercentLit
    | VarRef
    | AccountLit
    | MonetaryLit
    | Infix
    | Neg
    | FnCall
)

# ---------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class Remaining:
    pos: Pos


Allotment = Expr | Remaining


@dataclass(frozen=True, slots=True)
class SrcAccount:
    pos: Pos
    account: Expr
    color: Expr | None


@dataclass(frozen=True, slots=True)
class SrcOverdraft:
    """`allowing overdraft up to bound`; bound None means `allowing unbounded overdraft`."""

    pos: Pos
    account: Expr
    bound: Expr | None
    color: Expr | None


@dataclass(frozen=True, slots=True)
class SrcInorder:
    pos: Pos
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class SrcOneof:
    pos: Pos
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class SrcAllotment:
    pos: Pos
    items: tuple[tuple[Allotment, Source], ...]


@dataclass(frozen=True, slots=True)
class SrcCapped:
    pos: Pos
    cap: Expr
    source: Source


Source = SrcAccount | SrcOverdraft | SrcInorder | SrcOneof | SrcAllotment | SrcCapped

# ---------------------------------------------------------------- destinations


@dataclass(frozen=True, slots=True)
class Kept:
    pos: Pos


@dataclass(frozen=True, slots=True)
class DestAccount:
    pos: Pos
    account: Expr


@dataclass(frozen=True, slots=True)
class DestAllotment:
    pos: Pos
    items: tuple[tuple[Allotment, KeptOrDest], ...]


@dataclass(frozen=True, slots=True)
class DestInorder:
    pos: Pos
    clauses: tuple[tuple[Expr, KeptOrDest], ...]
    remaining: KeptOrDest


@dataclass(frozen=True, slots=True)
class DestOneof:
    pos: Pos
    clauses: tuple[tuple[Expr, KeptOrDest], ...]
    remaining: KeptOrDest


Destination = DestAccount | DestAllotment | DestInorder | DestOneof
KeptOrDest = Kept | Destination

# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class SendAll:
    """`[ASSET *]`: send everything the source can give."""

    pos: Pos
    asset: Expr


SentValue = Expr | SendAll


@dataclass(frozen=True, slots=True)
class Send:
    pos: Pos
    value: SentValue
    source: Source
    destination: Destination


@dataclass(frozen=True, slots=True)
class Save:
    pos: Pos
    value: SentValue
    account: Expr


@dataclass(frozen=True, slots=True)
class FnStatement:
    pos: Pos
    call: FnCall


Statement = Send | Save | FnStatement


@dataclass(frozen=True, slots=True)
class VarDecl:
    pos: Pos
    type_name: str
    type_pos: Pos
    name: str
    origin: Expr | None


@dataclass(frozen=True, slots=True)
class Program:
    features: tuple[str, ...]
    vars: tuple[VarDecl, ...]
    statements: tuple[Statement, ...]
