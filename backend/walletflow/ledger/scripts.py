"""Numscript for the ledgers: a compile cache keyed by the source's hash, and error mapping.

Both ledger implementations (and the fake Formance server in the tests) run scripts through
here, so a script behaves the same whichever ledger is behind the port.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock

from walletflow.domain.errors import InsufficientFunds, NegativeAmount, ScriptError, WalletflowError
from walletflow.ledger.port import Posting
from walletflow.numscript import (
    NumscriptCompileError,
    NumscriptRuntimeError,
    Program,
    compile_script,
)

MAX_CACHED_PROGRAMS = 512


@dataclass(frozen=True)
class ScriptOutcome:
    postings: tuple[Posting, ...]
    tx_metadata: dict[str, str]
    accounts_metadata: dict[str, dict[str, str]]


class ProgramCache:
    """A bounded LRU of compiled programs keyed by sha256(source)."""

    def __init__(self, capacity: int = MAX_CACHED_PROGRAMS) -> None:
        assert capacity > 0
        self._capacity = capacity
        self._programs: OrderedDict[str, Program] = OrderedDict()
        self._lock = Lock()

    def get(self, source: str) -> Program:
        digest = hashlib.sha256(source.encode()).hexdigest()
        with self._lock:
            program = self._programs.get(digest)
            if program is not None:
                self._programs.move_to_end(digest)
                return program
        try:
            program = compile_script(source)
        except NumscriptCompileError as error:
            raise ScriptError(
                f"script does not compile: {error}",
                details={
                    "numscriptCode": error.code,
                    "line": error.line,
                    "column": error.column,
                },
            ) from None
        with self._lock:
            self._programs[digest] = program
            while len(self._programs) > self._capacity:
                self._programs.popitem(last=False)
        return program


def needed_balances(program: Program, variables: Mapping[str, str]) -> set[tuple[str, str]]:
    try:
        return set(program.needed_balances(dict(variables)))
    except NumscriptRuntimeError as error:
        raise map_runtime_error(error) from None


def run_program(
    program: Program,
    variables: Mapping[str, str],
    balances: Mapping[str, Mapping[str, int]],
    accounts_meta: Mapping[str, Mapping[str, str]] | None = None,
) -> ScriptOutcome:
    """Run a compiled program; map its errors to typed walletflow errors."""
    try:
        result = program.run(
            dict(variables),
            {account: dict(assets) for account, assets in balances.items()},
            {account: dict(meta) for account, meta in (accounts_meta or {}).items()},
        )
    except NumscriptRuntimeError as error:
        raise map_runtime_error(error) from None
    postings = tuple(
        Posting(source=p.source, destination=p.destination, amount_minor=p.amount, asset=p.asset)
        for p in result.postings
        # A zero send emits nothing; a posting from an account to itself changes no balance.
        if p.amount > 0 and p.source != p.destination
    )
    return ScriptOutcome(
        postings=postings,
        tx_metadata={str(k): str(v) for k, v in result.tx_metadata.items()},
        accounts_metadata={
            str(account): {str(k): str(v) for k, v in meta.items()}
            for account, meta in result.accounts_metadata.items()
        },
    )


def map_runtime_error(error: NumscriptRuntimeError) -> WalletflowError:
    details = {"numscriptCode": error.code}
    if error.code == "INSUFFICIENT_FUND":
        return InsufficientFunds(error.message, details=details)
    if error.code == "NEGATIVE_AMOUNT":
        mapped = NegativeAmount(error.message, field_errors={"script": error.code})
        mapped.details.update(details)
        return mapped
    return ScriptError(error.message, details=details)
