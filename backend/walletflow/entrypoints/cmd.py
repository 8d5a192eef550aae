"""`walletflow cmd NAME …`: run any registry command from the shell, through the same bus.

Generated from the registry: every entry is a sub-command whose options are its fields
(`--merchant-id`, `--amount` …), or pass the whole input as `--json '{...}'`. The idempotency key
is mandatory. Prints the typed result as JSON (exit 0) or `{"error": {...}}` (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from walletflow.config import load_settings
from walletflow.domain.errors import WalletflowError
from walletflow.domain.principals import SYSTEM_CLI
from walletflow.entrypoints.startup import started
from walletflow.service.catalog import build_registry
from walletflow.service.fields import FieldKind, FieldSpec
from walletflow.service.registry import CommandSpec


def _option(spec: FieldSpec) -> str:
    return "--" + spec.name.replace("_", "-")


def _describe(spec: FieldSpec) -> str:
    parts = [spec.label, f"[{spec.kind.value}]"]
    if spec.choices:
        parts.append("one of " + ", ".join(spec.choices))
    if spec.kind is FieldKind.AMOUNT:
        parts.append(f"in {spec.currency_field}, e.g. 1500.25")
    parts.append("required" if spec.required and spec.default is None else "optional")
    if spec.help:
        parts.append(spec.help)
    return " ".join(parts)


def add_parser(subparsers: Any) -> None:
    registry = build_registry()
    listing = "\n".join(
        f"  {spec.name:<26} {spec.title} — " + ", ".join(field.name for field in spec.fields)
        for spec in registry
    )
    cmd = subparsers.add_parser(
        "cmd",
        help="run a wallet command through the registry (walletflow cmd --help lists them)",
        description="Run one registry command as an operator. Commands and their fields:\n"
        + listing,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = cmd.add_subparsers(dest="command_name", metavar="NAME", required=True)
    for spec in registry:
        _add_command(commands, spec)


def _add_command(commands: Any, spec: CommandSpec) -> None:
    parser = commands.add_parser(spec.name, help=spec.title, description=spec.description)
    parser.add_argument(
        "--idempotency-key", required=True, help="mandatory; a replay returns the first result"
    )
    parser.add_argument("--json", dest="json_input", help="the whole input as a JSON object")
    for field in spec.fields:
        if field.kind is FieldKind.BOOLEAN:
            parser.add_argument(
                _option(field),
                dest=f"field_{field.name}",
                choices=("true", "false"),
                help=_describe(field),
            )
        else:
            parser.add_argument(_option(field), dest=f"field_{field.name}", help=_describe(field))
    parser.set_defaults(func=_run, spec=spec)


def _raw_input(args: argparse.Namespace, spec: CommandSpec) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    if args.json_input:
        loaded = json.loads(args.json_input)
        if not isinstance(loaded, dict):
            raise ValueError("--json must be a JSON object")
        raw.update(loaded)
    for field in spec.fields:
        value = getattr(args, f"field_{field.name}")
        if value is None:
            continue
        if field.kind is FieldKind.BOOLEAN:
            raw[field.name] = value == "true"
        elif field.kind in {FieldKind.JSON, FieldKind.INTEGER}:
            raw[field.name] = json.loads(value) if field.kind is FieldKind.JSON else value
        elif field.kind is FieldKind.EMAILS:
            raw[field.name] = [part for part in value.split(",") if part.strip()]
        else:
            raw[field.name] = value
    return raw


def _run(args: argparse.Namespace) -> int:
    spec: CommandSpec = args.spec
    try:
        raw = _raw_input(args, spec)
    except ValueError as error:
        print(json.dumps({"error": {"code": "VALIDATION_ERROR", "message": str(error)}}))
        return 1
    return asyncio.run(_execute(spec.name, raw, args.idempotency_key))


async def _execute(name: str, raw: dict[str, Any], key: str) -> int:
    async with started(load_settings()) as container:
        try:
            outcome = await container.bus.execute(name, raw, SYSTEM_CLI, key)
        except WalletflowError as error:
            print(json.dumps({"error": error.to_dict()}, default=str))
            return 1
    print(json.dumps({"replayed": outcome.replayed, **outcome.result.to_json()}, default=str))
    sys.stdout.flush()
    return 0
