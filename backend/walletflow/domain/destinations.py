"""Where a payout goes: the one rule a payout destination must meet before any money is held.

A destination is a small JSON object: `account` (required: an account number or IBAN, 6-34
letters and digits), and optionally `bank` (a bank or sort code, 1-32 of letters, digits, `_`,
`-`), `name` (the beneficiary, 1-140 printable characters) and `country` (ISO 3166 alpha-2).
Nothing else: a payout never carries free-form data to a rail. Every bad part is a field error
under `destination.<key>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from walletflow.domain.errors import ValidationError

ACCOUNT_RE = re.compile(r"[A-Za-z0-9]{6,34}")
BANK_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
COUNTRY_RE = re.compile(r"[A-Z]{2}")
MAX_NAME_LENGTH = 140
RULES: dict[str, tuple[re.Pattern[str] | None, str]] = {
    "account": (ACCOUNT_RE, "an account number or IBAN: 6-34 letters and digits"),
    "bank": (BANK_RE, "a bank code: 1-32 of letters, digits, '_' or '-'"),
    "name": (None, f"the beneficiary: 1-{MAX_NAME_LENGTH} printable characters"),
    "country": (COUNTRY_RE, "an ISO 3166 alpha-2 country code such as NG"),
}


def destination_errors(destination: Mapping[str, Any]) -> dict[str, str]:
    """Field errors (`destination.<key>` → reason) of a payout destination; empty when valid."""
    errors: dict[str, str] = {}
    if "account" not in destination:
        errors["destination.account"] = "required: " + RULES["account"][1]
    for key, value in destination.items():
        path = f"destination.{key}"
        if key not in RULES:
            errors[path] = f"unknown field (allowed: {', '.join(RULES)})"
            continue
        pattern, reason = RULES[key]
        if not isinstance(value, str):
            errors[path] = "must be text: " + reason
        elif (pattern is not None and not pattern.fullmatch(value)) or (
            pattern is None
            and not (0 < len(value.strip()) <= MAX_NAME_LENGTH and value.isprintable())
        ):
            errors[path] = "must be " + reason
    return errors


def check_destination(destination: Mapping[str, Any]) -> None:
    errors = destination_errors(destination)
    if errors:
        raise ValidationError("invalid payout destination", field_errors=errors)
