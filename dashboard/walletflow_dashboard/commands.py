"""Forms generated from the API's command registry (`query { commands { … } }`).

Nothing here names a command: the mutation document, the input variables and the result card are
all derived from a registry entry, so a new command appears in the dashboard with no code. The
registry entries stay the API's data (dicts): they describe forms, they are not read by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from walletflow import money
from walletflow_dashboard import documents
from walletflow_dashboard.api import ApiError, Credential, graphql
from walletflow_dashboard.formatting import fields_text, normalise_amount

# Shown first in currency selects; the rest of the scale table follows alphabetically.
COMMON_CURRENCIES = (
    "NGN", "USD", "EUR", "GBP", "KES", "GHS", "ZAR", "UGX", "XAF", "XOF", "USDC", "USDT",
)  # fmt: skip
GROUP_ORDER = ("wallet", "money", "payout", "treasury", "correction", "admin")
MAX_JSON_CHARS = 4096


def currency_codes() -> list[str]:
    rest = sorted(code for code in money.CURRENCY_SCALES if code not in COMMON_CURRENCIES)
    return [code for code in COMMON_CURRENCIES if code in money.CURRENCY_SCALES] + rest


def scale_hint(currency: str) -> str:
    """`NGN: 2 decimals` — the scale an amount in this currency is written with."""
    code = currency.strip().upper().split("/", 1)[0]
    scale = money.CURRENCY_SCALES.get(code)
    if scale is None:
        return "pick a currency first" if not code else f"{code}: unknown currency"
    if scale == 0:
        return f"{code}: whole units only (scale 0)"
    return f"{code}: up to {scale} decimals"


def format_minor(amount_minor: int, asset: str) -> str:
    """Integer minor units → `1,500.25 NGN` with the currency's scale (as the API writes it)."""
    code = asset.split("/", 1)[0]
    scale = money.CURRENCY_SCALES.get(code, 0)
    sign = "-" if amount_minor < 0 else ""
    whole, part = divmod(abs(amount_minor), 10**scale) if scale else (abs(amount_minor), 0)
    text = f"{whole:,}" + (f".{part:0{scale}d}" if scale else "")
    return f"{sign}{text} {code}"


@dataclass
class FormField:
    name: str
    kind: str
    label: str
    required: bool
    choices: list[str] = field(default_factory=list)
    help: str = ""
    currency_field: str = ""


@dataclass
class CommandBrief:
    name: str
    title: str
    description: str
    group: str
    moves_money: bool


@dataclass
class CommandGroup:
    group: str
    commands: list[CommandBrief] = field(default_factory=list)


def form_fields(command: dict[str, Any]) -> list[FormField]:
    return [
        FormField(
            name=str(f["name"]),
            kind=str(f["kind"]),
            label=str(f["label"]) + ("" if f["required"] else " (optional)"),
            required=bool(f["required"]),
            choices=[str(c) for c in f.get("choices") or []],
            help=str(f.get("help") or ""),
            currency_field=str(f.get("currencyField") or ""),
        )
        for f in command.get("fields", [])
    ]


def initial_values(command: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for f in command.get("fields", []):
        default = f.get("default")
        if f["kind"] == "boolean":
            values[f["name"]] = "true" if default else "false"
        elif f["kind"] == "emails" and isinstance(default, list):
            values[f["name"]] = "\n".join(str(v) for v in default)
        elif default is None or (f["kind"] == "amount" and default == 0):
            values[f["name"]] = ""
        else:
            values[f["name"]] = str(default)
    return values


def grouped(commands: list[dict[str, Any]]) -> list[CommandGroup]:
    groups: dict[str, CommandGroup] = {}
    for command in commands:
        if not command.get("allowed", True):
            continue
        name = str(command.get("group") or "other")
        groups.setdefault(name, CommandGroup(group=name)).commands.append(
            CommandBrief(
                name=str(command["name"]),
                title=str(command["title"]),
                description=str(command["description"]),
                group=name,
                moves_money=bool(command.get("movesMoney")),
            )
        )
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    return sorted(groups.values(), key=lambda g: (order.get(g.group, len(order)), g.group))


async def registry(credential: Credential) -> list[dict[str, Any]]:
    """The commands this credential may see, as the API publishes them."""
    data = await graphql(credential, documents.COMMANDS_QUERY)
    commands = data.get("commands")
    if not isinstance(commands, list):
        raise ApiError("unexpected answer: no `commands`", "BAD_RESPONSE")
    return commands


def mutation_document(command: dict[str, Any]) -> str:
    name = str(command["name"])
    input_type = name[0].upper() + name[1:] + "Input" if command.get("fields") else None
    return documents.command_mutation(name, input_type)


def input_variables(
    command: dict[str, Any], values: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Form strings → GraphQL input; returns (input, local field errors)."""
    result: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in command.get("fields", []):
        name, kind = str(f["name"]), str(f["kind"])
        raw = values.get(name, "")
        if kind == "boolean":
            result[name] = raw == "true"
            continue
        text = raw.strip()
        if not text:
            if f["required"]:
                errors[name] = "required"
            continue
        if kind == "json":
            if len(text) > MAX_JSON_CHARS:
                errors[name] = f"at most {MAX_JSON_CHARS} characters"
                continue
            try:
                result[name] = json.loads(text)
            except json.JSONDecodeError as error:
                errors[name] = f"not valid JSON: {error.msg} (line {error.lineno})"
        elif kind == "emails":
            result[name] = [part.strip() for part in text.replace(",", "\n").splitlines() if part]
        elif kind == "currency":
            result[name] = text.upper()
        elif kind == "amount":
            result[name] = normalise_amount(text)  # `1,000.00` as pasted → `1000.00`
        else:
            result[name] = text
    return result, errors


@dataclass
class BalanceLine:
    account: str
    formatted: str


@dataclass
class CommandResult:
    """What the result card shows."""

    ok: bool = False
    command: str = ""
    status: str = ""
    reference: str = ""
    transaction_id: str = ""
    replayed: bool = False
    balances: list[BalanceLine] = field(default_factory=list)
    data: str = ""
    code: str = ""
    message: str = ""
    quote_id: str = ""
    """An FX quote's id (`fxQuote`), to prefill the deal; with the merchant it was quoted for."""
    quote_merchant_id: str = ""


def parse_result(result: dict[str, Any]) -> tuple[CommandResult, dict[str, str]]:
    """A mutation's union value → the card, plus field errors by input name."""
    if result.get("__typename") == "CommandSuccess":
        data = result.get("data") or {}
        quote = data if isinstance(data, dict) and data.get("quoteId") else {}
        return (
            CommandResult(
                ok=True,
                command=str(result.get("command", "")),
                status=str(result.get("status", "")),
                reference=str(result.get("reference") or ""),
                transaction_id=str(result.get("transactionId") or ""),
                replayed=bool(result.get("replayed")),
                balances=[
                    BalanceLine(account=str(b["account"]), formatted=str(b["formatted"]))
                    for b in result.get("balances") or []
                ],
                data=json.dumps(data, indent=2, sort_keys=True) if data else "",
                quote_id=str(quote["quoteId"]) if quote else "",
                quote_merchant_id=str(quote.get("merchantId") or "") if quote else "",
            ),
            {},
        )
    field_errors = {
        _input_name(str(e["path"])): str(e["message"]) for e in result.get("fieldErrors") or []
    }
    return (
        CommandResult(
            ok=False,
            code=str(result.get("code", result.get("__typename", "ERROR"))),
            message=error_text(str(result.get("message", "")), result.get("details")),
        ),
        field_errors,
    )


async def run(
    credential: Credential, command: dict[str, Any], key: str, variables: dict[str, Any]
) -> tuple[CommandResult, dict[str, str]]:
    """Send one registry command under its idempotency key; the card and its field errors."""
    payload: dict[str, Any] = {"key": key}
    if command.get("fields"):
        payload["input"] = variables
    data = await graphql(credential, mutation_document(command), payload)
    result = data.get("result")
    if not isinstance(result, dict):
        raise ApiError("unexpected answer: no `result`", "BAD_RESPONSE")
    return parse_result(result)


def error_text(message: str, details: Any) -> str:
    """An error's message and its details as labelled fields, amounts (`…Minor` with an
    `asset`) written with their currency and separators."""
    if not isinstance(details, dict) or not details:
        return message
    asset = str(details.get("asset") or details.get("currency") or "")
    shown: dict[str, Any] = {}
    for key, value in details.items():
        if key == "fieldErrors":
            continue
        if key.endswith("Minor") and asset and str(value).lstrip("-").isdigit():
            shown[key] = format_minor(int(value), asset)
        else:
            shown[key] = value
    return f"{message} ({fields_text(shown)})" if shown else message


def _input_name(path: str) -> str:
    # Paths may be `input.amount` or `amount`; forms key errors by the input's own name.
    return path.removeprefix("input.").split(".", 1)[0].split("[", 1)[0]
