"""`walletflow numscript run|check`: run or check a Numscript file from the command line.

    walletflow numscript run FILE --vars JSON --balances JSON [--meta JSON]
      -> {"postings":[...],"txMetadata":{...},"accountsMetadata":{...}}  exit 0
      -> {"error":{"code":...,"message":...}}                            exit 1
    walletflow numscript check FILE  -> "FILE:line:column: message" lines (exit 1) or "ok"

Every failure is reported as JSON (run) or as lines (check); never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from walletflow.numscript import NumscriptError, check_script, compile_script


class _InputError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def add_parser(subparsers: Any) -> None:
    """Register `numscript` with its `run` and `check` sub-commands."""
    numscript = subparsers.add_parser("numscript", help="run or check Numscript files")
    commands = numscript.add_subparsers(dest="numscript_command", metavar="SUBCOMMAND")
    numscript.set_defaults(func=lambda args: _usage(numscript))

    run = commands.add_parser("run", help="run a script against balances; print postings as JSON")
    run.add_argument("file", metavar="FILE")
    run.add_argument("--vars", default="{}", help='JSON object, e.g. {"amt":"NGN/2 10000"}')
    run.add_argument("--balances", default="{}", help='JSON, e.g. {"a:b":{"NGN/2":500}}')
    run.add_argument("--meta", default="{}", help='accounts metadata, e.g. {"a:b":{"k":"v"}}')
    run.add_argument(
        "--feature",
        action="append",
        default=[],
        metavar="FLAG",
        help="enable an experimental Formance feature flag (repeatable)",
    )
    run.set_defaults(func=run_command)

    check = commands.add_parser("check", help="report compile errors with line:column")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=check_command)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_command(args: argparse.Namespace) -> int:
    try:
        source = _read(args.file)
        variables = _json_object(args.vars, "--vars")
        balances = _balances(_json_object(args.balances, "--balances"))
        meta = _meta(_json_object(args.meta, "--meta"))
        program = compile_script(source)
        result = program.run(variables, balances, meta, feature_flags=tuple(args.feature))
    except NumscriptError as exc:
        return _fail(exc.code, str(exc))
    except _InputError as exc:
        return _fail(exc.code, exc.message)
    except Exception as exc:  # the contract: a JSON error, never a traceback
        return _fail("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")
    _emit(
        {
            "postings": [
                {
                    "source": p.source,
                    "destination": p.destination,
                    "amount": p.amount,
                    "asset": p.asset,
                }
                for p in result.postings
            ],
            "txMetadata": result.tx_metadata,
            "accountsMetadata": result.accounts_metadata,
        }
    )
    return 0


def check_command(args: argparse.Namespace) -> int:
    try:
        source = _read(args.file)
    except _InputError as exc:
        print(f"{args.file}:1:1: {exc.message}")
        return 1
    errors = check_script(source)
    for error in errors:
        print(f"{args.file}:{error.line}:{error.column}: {error.message}")
    if errors:
        return 1
    print("ok")
    return 0


def _fail(code: str, message: str) -> int:
    _emit({"error": {"code": code, "message": message}})
    return 1


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, separators=(",", ":")) + "\n")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _InputError("FILE_NOT_FOUND", f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _InputError("FILE_UNREADABLE", f"cannot read {path}: {exc}") from None


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        # Floats are parsed as strings so that they can be refused, never rounded.
        value = json.loads(text, parse_float=lambda raw: _Float(raw))
    except json.JSONDecodeError as exc:
        raise _InputError("INVALID_JSON", f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _InputError("INVALID_JSON", f"{option} must be a JSON object")
    return value


class _Float(str):
    """Marker for a JSON number with a fraction or exponent (refused as an amount)."""


def _balances(raw: dict[str, Any]) -> dict[str, dict[str, int]]:
    balances: dict[str, dict[str, int]] = {}
    for account, by_asset in raw.items():
        if not isinstance(by_asset, dict):
            raise _InputError(
                "INVALID_BALANCE", f"balances of {account!r} must be an object of asset -> int"
            )
        for asset, amount in by_asset.items():
            if type(amount) is not int:
                raise _InputError(
                    "INVALID_BALANCE",
                    f"balance of {account!r} in {asset!r} must be an integer, got {amount!r}",
                )
        balances[account] = by_asset
    return balances


def _meta(raw: dict[str, Any]) -> dict[str, dict[str, str]]:
    for account, values in raw.items():
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise _InputError(
                "INVALID_METADATA", f"metadata of {account!r} must be an object of strings"
            )
    return raw


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (`python -m walletflow.entrypoints.numscript run ...`)."""
    parser = argparse.ArgumentParser(prog="walletflow")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["numscript", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
