"""The authority matrix, read off the registry: for each command, which roles may run it, whether
a person's entry needs a second person, and whether it is a provider fact.

It is computed by asking `registry.may_run` with one principal per role, so the table shows what
is enforced, not what was meant. The README's "Authority matrix" section is this table; a test
(tests/unit/service/test_authority_matrix.py) fails when the two differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from walletflow.domain.principals import Principal, Role, provider_principal
from walletflow.service.registry import CommandSpec, Permission, Registry, may_run

MATRIX_PRINCIPALS: tuple[tuple[str, Principal], ...] = (
    ("admin", Principal(Role.ADMIN, "admin@example.com")),
    ("operator", Principal(Role.OPERATOR, "operator@example.com")),
    ("merchant", Principal(Role.MERCHANT, "key_merchant", merchant_id="m1")),
    ("analyst", Principal(Role.ANALYST, "key_analyst")),
    ("provider", provider_principal("sandbox")),
)
ROLE_COLUMNS: tuple[str, ...] = tuple(name for name, _ in MATRIX_PRINCIPALS)
YES, NO = "✓", "—"


@dataclass(frozen=True)
class MatrixRow:
    command: str
    roles: dict[str, str]
    """Role column → "✓", "own" (a merchant, on its own merchant id only) or "—"."""
    four_eyes: bool
    provider_only: bool

    def cells(self) -> list[str]:
        return [
            f"`{self.command}`",
            *(self.roles[name] for name in ROLE_COLUMNS),
            "yes" if self.four_eyes else NO,
            "yes" if self.provider_only else NO,
        ]


def _cell(spec: CommandSpec, column: str, principal: Principal) -> str:
    if not may_run(spec, principal):
        return NO
    if column == "merchant" and spec.permission is Permission.MERCHANT:
        return "own"
    if column == "provider":
        return "webhook"
    return YES


def matrix_rows(registry: Registry) -> list[MatrixRow]:
    return [
        MatrixRow(
            command=spec.name,
            roles={name: _cell(spec, name, principal) for name, principal in MATRIX_PRINCIPALS},
            four_eyes=spec.four_eyes,
            provider_only=spec.provider_only,
        )
        for spec in registry
    ]


def matrix_markdown(registry: Registry) -> str:
    """The README table (GitHub markdown), one row per command in registry order."""
    header = ["command", *ROLE_COLUMNS, "four eyes", "provider only"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines.extend("| " + " | ".join(row.cells()) + " |" for row in matrix_rows(registry))
    return "\n".join(lines) + "\n"
