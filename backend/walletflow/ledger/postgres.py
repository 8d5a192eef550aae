"""The built-in ledger on PostgreSQL: immutable postings, volumes kept in the same transaction.

Design
------
Writes. A post is, in one database transaction: claim the idempotency key (optional), read the
balances a script needs (scripts only), then ONE statement that inserts the transaction row
(`ON CONFLICT DO NOTHING` on `UNIQUE(reference)` / `UNIQUE(reverts_tx_id)`), its postings and
upserts the per-(account, asset, shard) volume rows, then store the claim's response. Balances
are derived: `ledger_volumes` is a cache of the postings maintained in that same transaction and
checked against them by `verify()`.

Overdraft. Every volume row carries `may_go_negative`, decided by the `OverdraftPolicy` when the
row is created, and `CHECK (may_go_negative OR input >= output)`. The check runs on the row
version the upsert writes while holding the row lock, so it is exact under any concurrency and
it is the database, not a check-then-write in Python, that refuses an overdraft. (PostgreSQL
checks the row an upsert proposes before it finds the conflict, so a debit of a protected
account proposes its row with `may_go_negative` NULL, which passes; the update keeps the
existing flag and the CHECK judges the real row; if no row existed, a trigger refuses the
insert.) A Numscript request first reads the balances it needs; rows of accounts that may not go
negative, and of the accounts its variables name, are read `FOR UPDATE` in sorted order, so the
script decides on balances that cannot move under it.

Lock order. Volume rows are upserted in one statement in (account, asset, shard) order, and the
locking read of a script is sorted the same way, so two writers always meet their common rows
in the same order: no deadlocks among posts. (A script that credits an account it did not name
as a variable can still meet a crossing writer; PostgreSQL then aborts one, which is retried in
standalone mode and reported as `Unavailable`, retryable, in bound mode.)

Hot accounts. `world`, fees, VAT and provider settlement accounts appear in nearly every pay-in.
Accounts the policy marks hot keep their volumes in `shard_count` rows; a write uses the home
shard of its pooled connection (handed out round robin), so concurrent writers do not meet on a
row lock while there are at least as many shards as busy connections; a balance is the sum of
the shards. Accounts that may go negative need no check at all, and a credit never needs one. A
debit of a hot account that may NOT go negative (say fees paid out) locks all its shards in
order and spreads the debit so that no shard goes negative, keeping the per-row CHECK valid and
the sum exact.

Idempotency. `idempotency_claims(scope="ledger", key)` with the sha256 of the request body,
claimed with `INSERT … ON CONFLICT DO NOTHING` in the same transaction as the write: a concurrent
duplicate waits on the claim's unique index until the first commits, then reads the stored
response. Replays return the original result forever; another body raises
`IdempotencyKeyReused`.

Hash chain without a global lock. Writers never touch the chain. Each transaction row records
the id of the database transaction that inserted it (`xid`). The sealer (`seal()`, one at a time
under `pg_try_advisory_xact_lock`) appends to `ledger_log`, in (xid, id) order, every
transaction whose inserting database transaction has finished: below a horizon that is the least
of the next xid and the xids of this database's running backends
(`pg_stat_activity.backend_xid`, read before the rows are selected). No unfinished transaction
can later appear before the sealed point, so the order is final and gap-free. (The sealer's role
must see the writers' backends in `pg_stat_activity`: the same role, or `pg_read_all_stats`.)
Each entry's hash is sha256(previous hash ‖ canonical JSON of the transaction and its postings).
`verify()` walks the log, recomputes every hash from the rows as they are now and names the
first broken link; it also checks that the volume cache equals the postings. The sealer runs
from `walletflow ledger verify`, and a worker may call `run_sealer()`.

Bi-temporal. Each transaction has `effective_at` (when it counts; defaults to now) and
`inserted_at` (when it was recorded). `balances(at=..., effective_at=...)` sums postings
recorded up to `at` and effective up to `effective_at`; without either it sums the volume shards.

Unit of work. `PostgresLedger(engine)` runs each call in its own transaction (a post that is
just the one write statement runs as that statement's implicit transaction: one round trip).
`ledger.bound(connection)` returns the same ledger on a caller's open transaction: it never
commits or rolls back; after an error the caller rolls back.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.domain.errors import (
    AlreadyReverted,
    IdempotencyKeyReused,
    InsufficientFunds,
    NotFound,
    ReferenceConflict,
    ScriptError,
    Unavailable,
    ValidationError,
    WalletflowError,
)
from walletflow.ledger.policy import DEFAULT_POLICY, OverdraftPolicy
from walletflow.ledger.port import (
    DEFAULT_PAGE_SIZE,
    Account,
    Page,
    Posting,
    PostRequest,
    PostResult,
    Transaction,
    TransactionFilter,
    check_balance_query,
    check_limit,
    check_prefix,
    net_movements,
)
from walletflow.ledger.scripts import ProgramCache, needed_balances, run_program
from walletflow.numscript import Program

log = logging.getLogger(__name__)

SHARD_INFO_KEY = "walletflow.ledger.home_shard"
_HOME_SHARDS = itertools.count(random.randrange(1 << 16))

R = TypeVar("R")

IDEMPOTENCY_SCOPE = "ledger"
MAX_ATTEMPTS = 4
RETRY_BACKOFF_S = 0.01
SEAL_LOCK_KEY = 0x5746_4C45_4447  # "WFLEDG"
SEAL_BATCH = 1_000
MAX_SEAL_BATCHES = 1_000
VERIFY_BATCH = 1_000
GENESIS_HASH = "0" * 64
RETRYABLE_SQLSTATES = {"40001", "40P01"}
UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53", "57")
FAILING_ROW = re.compile(r"Failing row contains \(([^,]*), ([^,]*),")


# ---------------------------------------------------------------------------------------------
# SQL


_TX_COLUMNS = """
    t.id, t.reference, t.metadata, t.effective_at, t.inserted_at, t.reverts_tx_id,
    EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.reverts_tx_id = t.id) AS reverted,
    (SELECT json_agg(json_build_array(p.source, p.destination, p.amount::text, p.asset)
                     ORDER BY p.ordinal)
       FROM ledger_postings p WHERE p.tx_id = t.id) AS postings
"""

_CLAIM = text(
    "INSERT INTO idempotency_claims (scope, key, request_hash, response) "
    "VALUES (:scope, :key, :hash, 'null'::jsonb) ON CONFLICT DO NOTHING RETURNING 1"
)
_READ_CLAIM = text(
    "SELECT request_hash, response FROM idempotency_claims WHERE scope = :scope AND key = :key"
)
_STORE_CLAIM = text(
    "UPDATE idempotency_claims SET response = CAST(:response AS jsonb) "
    "WHERE scope = :scope AND key = :key"
)

_VOLUME_ROWS = """
    SELECT u.account, u.asset, u.shard, u.input, u.output, u.neg, u.ord
      FROM unnest(CAST(:v_account AS text[]), CAST(:v_asset AS text[]),
                  CAST(:v_shard AS int2[]), CAST(:v_input AS numeric[]),
                  CAST(:v_output AS numeric[]), CAST(:v_neg AS bool[]))
           WITH ORDINALITY AS u(account, asset, shard, input, output, neg, ord)
"""

_UPSERT_TAIL = """
    ON CONFLICT (account, asset, shard) DO UPDATE
       SET input = ledger_volumes.input + excluded.input,
           output = ledger_volumes.output + excluded.output,
           may_go_negative = ledger_volumes.may_go_negative
    RETURNING account, asset, shard, input - output AS shard_balance
"""

# One statement: the transaction row, its postings and the volumes, in that order (the later
# CTEs read `tx`, so nothing is written when the reference or the revert already exists).
_WRITE = text(
    f"""
    WITH tx AS (
        INSERT INTO ledger_transactions (reference, metadata, effective_at, reverts_tx_id)
        VALUES (:reference, CAST(:metadata AS jsonb),
                coalesce(CAST(:effective_at AS timestamptz), now()), :reverts_tx_id)
        ON CONFLICT DO NOTHING
        RETURNING id, effective_at, inserted_at
    ), p AS (
        INSERT INTO ledger_postings
               (tx_id, ordinal, source, destination, asset, amount, effective_at, inserted_at)
        SELECT tx.id, u.ord, u.source, u.destination, u.asset, u.amount,
               tx.effective_at, tx.inserted_at
          FROM tx, unnest(CAST(:p_source AS text[]), CAST(:p_destination AS text[]),
                          CAST(:p_asset AS text[]), CAST(:p_amount AS numeric[]))
                   WITH ORDINALITY AS u(source, destination, asset, amount, ord)
    ), up AS (
        INSERT INTO ledger_volumes (account, asset, shard, input, output, may_go_negative)
        SELECT v.account, v.asset, v.shard, v.input, v.output, v.neg
          FROM ({_VOLUME_ROWS}) v
         WHERE EXISTS (SELECT 1 FROM tx)
         ORDER BY v.ord
        {_UPSERT_TAIL}
    )
    SELECT tx.id, tx.effective_at, tx.inserted_at, up.account, up.asset,
           up.shard_balance + coalesce(
               (SELECT sum(o.input - o.output) FROM ledger_volumes o
                 WHERE o.account = up.account AND o.asset = up.asset AND o.shard <> up.shard),
               0) AS balance
      FROM tx LEFT JOIN up ON true
    """
)

_UPSERT_VOLUMES = text(
    f"""
    WITH up AS (
        INSERT INTO ledger_volumes (account, asset, shard, input, output, may_go_negative)
        SELECT v.account, v.asset, v.shard, v.input, v.output, v.neg
          FROM ({_VOLUME_ROWS}) v ORDER BY v.ord
        {_UPSERT_TAIL}
    )
    SELECT up.account, up.asset,
           up.shard_balance + coalesce(
               (SELECT sum(o.input - o.output) FROM ledger_volumes o
                 WHERE o.account = up.account AND o.asset = up.asset AND o.shard <> up.shard),
               0) AS balance
      FROM up
    """
)

_LOCK_SHARDS = text(
    "SELECT shard, input - output AS balance FROM ledger_volumes "
    "WHERE account = :account AND asset = :asset ORDER BY shard FOR UPDATE"
)

_READ_VOLUMES = """
    SELECT v.account, v.asset, v.input - v.output AS balance FROM ledger_volumes v
     WHERE (v.account, v.asset) IN (
           SELECT * FROM unnest(CAST(:b_account AS text[]), CAST(:b_asset AS text[])))
     ORDER BY v.account, v.asset, v.shard
"""
_READ_VOLUMES_FOR_UPDATE = text(_READ_VOLUMES + " FOR UPDATE")
_READ_VOLUMES_PLAIN = text(_READ_VOLUMES)

_READ_ACCOUNT_META = text(
    "SELECT address, metadata FROM ledger_account_metadata "
    "WHERE address = ANY(CAST(:addresses AS text[]))"
)
_WRITE_ACCOUNT_META = text(
    """
    INSERT INTO ledger_account_metadata (address, metadata)
    SELECT u.address, u.metadata
      FROM unnest(CAST(:addresses AS text[]), CAST(:metadatas AS jsonb[])) AS u(address, metadata)
     ORDER BY u.address
    ON CONFLICT (address) DO UPDATE
       SET metadata = ledger_account_metadata.metadata || excluded.metadata, updated_at = now()
    """
)

_REFERENCE_EXISTS = text("SELECT id FROM ledger_transactions WHERE reference = :reference")
_REVERT_EXISTS = text("SELECT id FROM ledger_transactions WHERE reverts_tx_id = :tx_id")
_GET_TX = text(f"SELECT {_TX_COLUMNS} FROM ledger_transactions t WHERE t.id = :tx_id")


# ---------------------------------------------------------------------------------------------
# Errors


def _pg_details(error: BaseException) -> tuple[str | None, str | None, str | None]:
    """(sqlstate, constraint name, detail) of a database error, through SQLAlchemy's wrappers."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(seen) < 5:
        seen.append(current)
        current = getattr(current, "orig", None) or current.__cause__
    sqlstate = constraint = detail = None
    for item in seen:
        sqlstate = sqlstate or getattr(item, "sqlstate", None)
        constraint = constraint or getattr(item, "constraint_name", None)
        detail = detail or getattr(item, "detail", None)
    return sqlstate, constraint, detail


def _is_retryable(error: BaseException) -> bool:
    sqlstate, _, _ = _pg_details(error)
    return sqlstate in RETRYABLE_SQLSTATES


def _map_error(error: BaseException) -> WalletflowError | None:
    """A typed error for a database failure, or None when it is not one we know."""
    if isinstance(error, WalletflowError):
        return error
    if isinstance(error, (PoolTimeoutError, OSError, asyncio.TimeoutError, InterfaceError)):
        return Unavailable(f"database unavailable: {error.__class__.__name__}")
    if not isinstance(error, DBAPIError):
        return None
    sqlstate, constraint, detail = _pg_details(error)
    if error.connection_invalidated:
        return Unavailable("database connection lost")
    if sqlstate == "23514" and constraint == "ck_ledger_volumes_no_overdraft":
        details: dict[str, Any] = {}
        match = FAILING_ROW.search(detail or "")
        if match:
            details = {"account": match.group(1), "asset": match.group(2)}
        return InsufficientFunds("insufficient funds", details=details)
    if sqlstate == "23505" and constraint == "uq_ledger_transactions_reference":
        return ReferenceConflict("a transaction with this reference exists")
    if sqlstate == "23505" and constraint == "uq_ledger_transactions_reverts_tx_id":
        return AlreadyReverted("transaction already reverted")
    if sqlstate in RETRYABLE_SQLSTATES:
        return Unavailable("database conflict (serialization or deadlock); retry")
    if sqlstate and sqlstate.startswith(UNAVAILABLE_SQLSTATE_PREFIXES):
        return Unavailable(f"database unavailable ({sqlstate})")
    return None


# ---------------------------------------------------------------------------------------------
# Helpers


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _encode_cursor(position: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(_canonical(position).encode()).decode()


def _decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise ValidationError("malformed cursor", field_errors={"cursor": "malformed"}) from None
    if not isinstance(decoded, dict):
        raise ValidationError("malformed cursor", field_errors={"cursor": "malformed"})
    return decoded


def _like_prefix(prefix: str) -> str:
    check_prefix(prefix)
    return prefix.replace("_", "\\_") + "%"


def _int(value: Any) -> int:
    if isinstance(value, Decimal):
        assert value == value.to_integral_value(), value
        return int(value)
    return int(value)


def _transaction_from_row(row: Row[Any]) -> Transaction:
    postings = tuple(
        Posting(source=s, destination=d, amount_minor=int(a), asset=asset)
        for s, d, a, asset in (row.postings or [])
    )
    return Transaction(
        id=int(row.id),
        postings=postings,
        reference=row.reference,
        metadata={str(k): str(v) for k, v in (row.metadata or {}).items()},
        effective_at=row.effective_at,
        inserted_at=row.inserted_at,
        reverted=bool(row.reverted),
        reverts_tx_id=None if row.reverts_tx_id is None else int(row.reverts_tx_id),
    )


def chain_hash(prev_hash: str, tx: Transaction) -> str:
    """The log entry hash: sha256(previous hash ‖ canonical content of the transaction)."""
    body = {
        "id": tx.id,
        "reference": tx.reference,
        "metadata": dict(tx.metadata),
        "effectiveAt": _iso(tx.effective_at),
        "insertedAt": _iso(tx.inserted_at),
        "revertsTxId": tx.reverts_tx_id,
        "postings": [[p.source, p.destination, str(p.amount_minor), p.asset] for p in tx.postings],
    }
    return hashlib.sha256(f"{prev_hash}\n{_canonical(body)}".encode()).hexdigest()


def _merge_metadata(
    request_meta: Mapping[str, str], script_meta: Mapping[str, str]
) -> dict[str, str]:
    merged = dict(request_meta)
    for key, value in script_meta.items():
        if key in merged and merged[key] != value:
            raise ScriptError(
                f"metadata {key!r} set by both the request and the script",
                details={"numscriptCode": "METADATA_OVERRIDE"},
            )
        merged[key] = value
    return merged


def _monetary_asset(value: str) -> str | None:
    head, _, tail = value.strip().partition(" ")
    return head if tail and head[:1].isalpha() and head[:1].isupper() else None


def _fits_one_statement(request: PostRequest, policy: OverdraftPolicy) -> bool:
    """True when the whole post is the single write statement (explicit postings, no
    idempotency key, no dry run, no debit of a hot protected account), so it may run as its
    own implicit transaction: one round trip instead of BEGIN, write, COMMIT."""
    if request.script is not None or request.idempotency_key is not None or request.dry_run:
        return False
    for (account, _), (_, output_minor) in net_movements(request.postings).items():
        hot = policy.is_hot(account)
        if hot and output_minor > 0 and not policy.may_go_negative(account):
            return False
    return True


@dataclass(frozen=True)
class _VolumeRow:
    account: str
    asset: str
    shard: int
    input_minor: int
    output_minor: int
    may_go_negative: bool


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    tx_id: int | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "txId": self.tx_id, "reason": self.reason}


@dataclass(frozen=True)
class VerifyReport:
    """The result of walking the hash chain and comparing volumes with postings."""

    sealed_entries: int
    unsealed_transactions: int
    first_broken_link: BrokenLink | None
    volume_mismatches: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.first_broken_link is None and not self.volume_mismatches

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "sealedEntries": self.sealed_entries,
            "unsealedTransactions": self.unsealed_transactions,
            "firstBrokenLink": self.first_broken_link.to_json() if self.first_broken_link else None,
            "volumeMismatches": list(self.volume_mismatches),
        }


# ---------------------------------------------------------------------------------------------
# The work, on one connection


class _Core:
    """Every ledger operation on an open connection inside a transaction. Never commits."""

    def __init__(
        self, connection: AsyncConnection, policy: OverdraftPolicy, programs: ProgramCache
    ) -> None:
        self._conn = connection
        self._policy = policy
        self._programs = programs
        # Each pooled connection keeps its own home shard for hot accounts, handed out round
        # robin (from a random start per process): as long as there are at least as many shards
        # as busy connections, two writers never meet on a hot account's row lock.
        info = connection.info
        if SHARD_INFO_KEY not in info:
            info[SHARD_INFO_KEY] = next(_HOME_SHARDS)
        self._home_shard = int(info[SHARD_INFO_KEY])

    # -- idempotency ---------------------------------------------------------------------------

    async def _claim(self, key: str, body_hash: str) -> PostResult | None:
        """Claim the key; return the stored result when it was claimed before by this body."""
        params = {"scope": IDEMPOTENCY_SCOPE, "key": key, "hash": body_hash}
        fresh = (await self._conn.execute(_CLAIM, params)).first()
        if fresh is not None:
            return None
        claimed = (await self._conn.execute(_READ_CLAIM, params)).first()
        assert claimed is not None, "a conflicting claim is visible once its writer committed"
        if claimed.request_hash != body_hash:
            raise IdempotencyKeyReused(
                "idempotency key already used with a different request",
                details={"idempotencyKey": key},
            )
        if claimed.response is None:
            raise ValidationError(
                "idempotency key used twice in one unit of work",
                field_errors={"idempotencyKey": "used twice in one transaction"},
            )
        return PostResult.from_json(claimed.response)

    async def _store_claim(self, key: str, result: PostResult) -> None:
        await self._conn.execute(
            _STORE_CLAIM,
            {"scope": IDEMPOTENCY_SCOPE, "key": key, "response": _canonical(result.to_json())},
        )

    # -- post ----------------------------------------------------------------------------------

    async def post(self, request: PostRequest) -> PostResult:
        program = self._programs.get(request.script) if request.script is not None else None
        if request.dry_run:
            return await self._dry_run(request, program)
        key = request.idempotency_key
        if key is not None:
            replay = await self._claim(key, request_hash({"post": request.fingerprint_body()}))
            if replay is not None:
                return replay
        postings, tx_meta, account_meta = await self._resolve(request, program, lock=True)
        result = await self._write(
            postings,
            reference=request.reference,
            metadata=_merge_metadata(request.metadata, tx_meta),
            effective_at=request.effective_at,
            reverts_tx_id=None,
        )
        if account_meta:
            await self._write_account_metadata(account_meta)
        if key is not None:
            await self._store_claim(key, result)
        return result

    async def _resolve(
        self, request: PostRequest, program: Program | None, *, lock: bool
    ) -> tuple[tuple[Posting, ...], dict[str, str], dict[str, dict[str, str]]]:
        """The postings of a request: given, or computed by its script on current balances."""
        if program is None:
            return request.postings, {}, {}
        assert request.script is not None
        variables = request.variables
        needed = needed_balances(program, variables)
        locked = {
            (account, asset)
            for account, asset in needed
            if not self._policy.may_go_negative(account)
        }
        if lock and locked:
            # Also lock the rows of the accounts the variables name, so that the credits this
            # script will make meet other writers in the same (sorted) order.
            assets = {asset for _, asset in needed} | {
                a for a in (_monetary_asset(v) for v in variables.values()) if a is not None
            }
            for name, type_name in getattr(program, "var_decls", {}).items():
                value = variables.get(name)
                if type_name == "account" and value is not None and not self._policy.is_hot(value):
                    locked |= {(value, asset) for asset in assets}
        balances: dict[str, dict[str, int]] = {}
        plain = needed - locked if lock else needed
        for pairs, statement in (
            (locked if lock else set(), _READ_VOLUMES_FOR_UPDATE),
            (plain, _READ_VOLUMES_PLAIN),
        ):
            if not pairs:
                continue
            ordered = sorted(pairs)
            rows = await self._conn.execute(
                statement,
                {"b_account": [a for a, _ in ordered], "b_asset": [s for _, s in ordered]},
            )
            for row in rows:
                assets_of = balances.setdefault(row.account, {})
                assets_of[row.asset] = assets_of.get(row.asset, 0) + _int(row.balance)
        for account, asset in needed:
            balances.setdefault(account, {}).setdefault(asset, 0)
        accounts_meta: dict[str, dict[str, str]] = {}
        if "meta(" in request.script:
            addresses = sorted(
                {a for a, _ in needed}
                | {v for v in variables.values() if ":" in v and " " not in v}
                | {"world"}
            )
            rows = await self._conn.execute(_READ_ACCOUNT_META, {"addresses": addresses})
            accounts_meta = {row.address: dict(row.metadata) for row in rows}
        outcome = run_program(program, variables, balances, accounts_meta)
        if not outcome.postings:
            raise ScriptError("the script moved nothing", details={"numscriptCode": "NO_POSTINGS"})
        return outcome.postings, outcome.tx_metadata, outcome.accounts_metadata

    def _volume_rows(
        self, postings: Sequence[Posting]
    ) -> tuple[list[_VolumeRow], list[tuple[str, str, int, int]]]:
        """Split the net movements into volume rows to upsert (sorted) and debits of hot
        never-negative accounts that must be spread over their shards."""
        rows: list[_VolumeRow] = []
        spread: list[tuple[str, str, int, int]] = []
        for (account, asset), (input_minor, output_minor) in sorted(
            net_movements(postings).items()
        ):
            negative_ok = self._policy.may_go_negative(account)
            if self._policy.is_hot(account):
                if output_minor > 0 and not negative_ok:
                    spread.append((account, asset, input_minor, output_minor))
                    continue
                shard = self._home_shard % self._policy.shard_count
            else:
                shard = 0
            rows.append(_VolumeRow(account, asset, shard, input_minor, output_minor, negative_ok))
        return rows, spread

    @staticmethod
    def _volume_params(rows: Sequence[_VolumeRow]) -> dict[str, Any]:
        return {
            "v_account": [r.account for r in rows],
            "v_asset": [r.asset for r in rows],
            "v_shard": [r.shard for r in rows],
            "v_input": [Decimal(r.input_minor) for r in rows],
            "v_output": [Decimal(r.output_minor) for r in rows],
            # NULL for a debit of a protected account: see `ledger_volumes.may_go_negative`.
            "v_neg": [
                r.may_go_negative if r.may_go_negative or r.input_minor >= r.output_minor else None
                for r in rows
            ],
        }

    async def _write(
        self,
        postings: Sequence[Posting],
        *,
        reference: str | None,
        metadata: Mapping[str, str],
        effective_at: datetime | None,
        reverts_tx_id: int | None,
    ) -> PostResult:
        assert postings, "a transaction moves something"
        rows, spread = self._volume_rows(postings)
        params: dict[str, Any] = {
            "reference": reference,
            "metadata": _canonical(dict(metadata)),
            "effective_at": effective_at,
            "reverts_tx_id": reverts_tx_id,
            "p_source": [p.source for p in postings],
            "p_destination": [p.destination for p in postings],
            "p_asset": [p.asset for p in postings],
            "p_amount": [Decimal(p.amount_minor) for p in postings],
        }
        if spread:
            # Rare path (a debit of a hot account that may not go negative): apply the volumes
            # statement by statement, still in global (account, asset, shard) order.
            params.update(self._volume_params([]))
        else:
            params.update(self._volume_params(rows))
        result = (await self._conn.execute(_WRITE, params)).all()
        if not result:
            await self._raise_conflict(reference, reverts_tx_id)
        tx_id = int(result[0].id)
        post_balances: dict[str, dict[str, int]] = {}
        for row in result:
            if row.account is not None:
                post_balances.setdefault(row.account, {})[row.asset] = _int(row.balance)
        if spread:
            post_balances.update(await self._apply_in_order(rows, spread))
        transaction = Transaction(
            id=tx_id,
            postings=tuple(postings),
            reference=reference,
            metadata=dict(metadata),
            effective_at=result[0].effective_at,
            inserted_at=result[0].inserted_at,
            reverted=False,
            reverts_tx_id=reverts_tx_id,
        )
        return PostResult(transaction=transaction, post_balances=post_balances)

    async def _raise_conflict(self, reference: str | None, reverts_tx_id: int | None) -> None:
        if reverts_tx_id is not None:
            existing = (await self._conn.execute(_REVERT_EXISTS, {"tx_id": reverts_tx_id})).first()
            if existing is not None:
                raise AlreadyReverted(
                    f"transaction {reverts_tx_id} is already reverted",
                    details={"txId": reverts_tx_id, "revertTxId": int(existing.id)},
                )
        raise ReferenceConflict(
            f"a transaction with reference {reference!r} exists",
            details={"reference": reference},
        )

    async def _apply_in_order(
        self, rows: Sequence[_VolumeRow], spread: Sequence[tuple[str, str, int, int]]
    ) -> dict[str, dict[str, int]]:
        """Apply plain rows in batches and spread debits one by one, in (account, asset)
        order, so the locks are taken in the same global order as the one-statement path."""
        post_balances: dict[str, dict[str, int]] = {}
        items: list[tuple[tuple[str, str], _VolumeRow | tuple[str, str, int, int]]] = [
            ((r.account, r.asset), r) for r in rows
        ] + [((s[0], s[1]), s) for s in spread]
        items.sort(key=lambda item: item[0])
        batch: list[_VolumeRow] = []

        async def flush() -> None:
            if batch:
                result = await self._conn.execute(_UPSERT_VOLUMES, self._volume_params(batch))
                for row in result:
                    post_balances.setdefault(row.account, {})[row.asset] = _int(row.balance)
                batch.clear()

        for _, item in items:
            if isinstance(item, _VolumeRow):
                batch.append(item)
                continue
            await flush()
            account, asset, input_minor, output_minor = item
            shards = (
                await self._conn.execute(_LOCK_SHARDS, {"account": account, "asset": asset})
            ).all()
            available = {int(s.shard): _int(s.balance) for s in shards}
            if not available:
                available = {0: 0}
            # The credit lands on the lowest shard first, then the debit is taken shard by
            # shard; if the total is short the last shard goes negative and the CHECK refuses.
            first = min(available)
            available[first] += input_minor
            outputs: dict[int, int] = {}
            remaining = output_minor
            for shard in sorted(available):
                take = min(remaining, max(available[shard], 0))
                if take:
                    outputs[shard] = take
                    remaining -= take
            if remaining:
                last = max(available)
                outputs[last] = outputs.get(last, 0) + remaining
            spread_rows = [
                _VolumeRow(
                    account,
                    asset,
                    shard,
                    input_minor if shard == first else 0,
                    outputs.get(shard, 0),
                    False,
                )
                for shard in sorted(set(outputs) | {first})
            ]
            assert sum(r.output_minor for r in spread_rows) == output_minor
            result = await self._conn.execute(_UPSERT_VOLUMES, self._volume_params(spread_rows))
            result.all()
            balance = sum(available.values()) - output_minor
            post_balances.setdefault(account, {})[asset] = balance
        await flush()
        return post_balances

    async def _write_account_metadata(self, account_meta: Mapping[str, Mapping[str, str]]) -> None:
        addresses = sorted(account_meta)
        await self._conn.execute(
            _WRITE_ACCOUNT_META,
            {
                "addresses": addresses,
                "metadatas": [_canonical(dict(account_meta[a])) for a in addresses],
            },
        )

    async def _dry_run(self, request: PostRequest, program: Program | None) -> PostResult:
        if request.reference is not None:
            existing = (
                await self._conn.execute(_REFERENCE_EXISTS, {"reference": request.reference})
            ).first()
            if existing is not None:
                raise ReferenceConflict(
                    f"a transaction with reference {request.reference!r} exists",
                    details={"reference": request.reference},
                )
        postings, tx_meta, _ = await self._resolve(request, program, lock=False)
        movements = net_movements(postings)
        current = await self._sum_volumes(sorted(movements))
        post_balances: dict[str, dict[str, int]] = {}
        for (account, asset), (input_minor, output_minor) in sorted(movements.items()):
            balance = current.get((account, asset), 0) + input_minor - output_minor
            if balance < 0 and output_minor > 0 and not self._policy.may_go_negative(account):
                raise InsufficientFunds(
                    "insufficient funds", details={"account": account, "asset": asset}
                )
            post_balances.setdefault(account, {})[asset] = balance
        now = datetime.now(UTC)
        transaction = Transaction(
            id=0,
            postings=tuple(postings),
            reference=request.reference,
            metadata=_merge_metadata(request.metadata, tx_meta),
            effective_at=request.effective_at or now,
            inserted_at=now,
        )
        return PostResult(transaction=transaction, post_balances=post_balances, dry_run=True)

    async def _sum_volumes(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        if not pairs:
            return {}
        rows = await self._conn.execute(
            _READ_VOLUMES_PLAIN,
            {"b_account": [a for a, _ in pairs], "b_asset": [s for _, s in pairs]},
        )
        sums: dict[tuple[str, str], int] = {}
        for row in rows:
            key = (row.account, row.asset)
            sums[key] = sums.get(key, 0) + _int(row.balance)
        return sums

    # -- revert --------------------------------------------------------------------------------

    async def revert(
        self,
        tx_id: int,
        *,
        reference: str | None,
        idempotency_key: str | None,
        metadata: Mapping[str, str] | None,
    ) -> PostResult:
        meta = dict(metadata or {})
        for key_name, value in meta.items():
            if not isinstance(value, str):
                raise ValidationError(
                    "metadata values are strings", field_errors={f"metadata.{key_name}": "string"}
                )
        if idempotency_key is not None:
            body = {"revert": tx_id, "reference": reference, "metadata": meta}
            replay = await self._claim(idempotency_key, request_hash(body))
            if replay is not None:
                return replay
        original = await self.get_transaction(tx_id)
        if original.reverted:
            raise AlreadyReverted(
                f"transaction {tx_id} is already reverted", details={"txId": tx_id}
            )
        mirror = tuple(
            Posting(
                source=p.destination,
                destination=p.source,
                amount_minor=p.amount_minor,
                asset=p.asset,
            )
            for p in reversed(original.postings)
        )
        result = await self._write(
            mirror,
            reference=reference,
            metadata=meta,
            effective_at=None,
            reverts_tx_id=tx_id,
        )
        if idempotency_key is not None:
            await self._store_claim(idempotency_key, result)
        return result

    # -- reads ---------------------------------------------------------------------------------

    async def get_transaction(self, tx_id: int) -> Transaction:
        row = (await self._conn.execute(_GET_TX, {"tx_id": tx_id})).first()
        if row is None:
            raise NotFound(f"no transaction {tx_id}", details={"txId": tx_id})
        return _transaction_from_row(row)

    async def list_transactions(
        self, filter: TransactionFilter | None, cursor: str | None, limit: int
    ) -> Page[Transaction]:
        check_limit(limit)
        position = _decode_cursor(cursor)
        where = ["true"]
        params: dict[str, Any] = {"limit": limit + 1}
        if position is not None:
            where.append("t.id < :before_id")
            params["before_id"] = int(position.get("id", 0))
        criteria = filter or TransactionFilter()
        if criteria.reference is not None:
            where.append("t.reference = :reference")
            params["reference"] = criteria.reference
        if criteria.start_time is not None:
            where.append("t.effective_at >= :start_time")
            params["start_time"] = criteria.start_time
        if criteria.end_time is not None:
            where.append("t.effective_at < :end_time")
            params["end_time"] = criteria.end_time
        if criteria.account is not None or criteria.asset is not None:
            posting_where = ["p.tx_id = t.id"]
            if criteria.account is not None:
                posting_where.append(
                    "(p.source LIKE :account_like OR p.destination LIKE :account_like)"
                )
                params["account_like"] = _like_prefix(criteria.account)
            if criteria.asset is not None:
                posting_where.append("p.asset = :asset")
                params["asset"] = criteria.asset
            where.append(
                f"EXISTS (SELECT 1 FROM ledger_postings p WHERE {' AND '.join(posting_where)})"
            )
        statement = text(
            f"SELECT {_TX_COLUMNS} FROM ledger_transactions t WHERE {' AND '.join(where)} "
            "ORDER BY t.id DESC LIMIT :limit"
        )
        rows = (await self._conn.execute(statement, params)).all()
        items = tuple(_transaction_from_row(row) for row in rows[:limit])
        next_cursor = _encode_cursor({"id": items[-1].id}) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)

    async def balances(
        self,
        accounts: Sequence[str] | None,
        prefix: str | None,
        asset: str | None,
        at: datetime | None,
        effective_at: datetime | None,
    ) -> dict[str, dict[str, int]]:
        check_balance_query(accounts, prefix, asset, at, effective_at)
        params: dict[str, Any] = {}
        if at is None and effective_at is None:
            where = []
            if accounts is not None:
                where.append("account = ANY(CAST(:accounts AS text[]))")
                params["accounts"] = list(accounts)
            if prefix is not None:
                where.append("account LIKE :prefix")
                params["prefix"] = _like_prefix(prefix)
            if asset is not None:
                where.append("asset = :asset")
                params["asset"] = asset
            statement = text(
                "SELECT account, asset, sum(input - output) AS balance FROM ledger_volumes "
                f"WHERE {' AND '.join(where)} GROUP BY account, asset ORDER BY account, asset"
            )
        else:
            legs = []
            for column, sign in (("destination", ""), ("source", "-")):
                where = []
                if accounts is not None:
                    where.append(f"{column} = ANY(CAST(:accounts AS text[]))")
                    params["accounts"] = list(accounts)
                if prefix is not None:
                    where.append(f"{column} LIKE :prefix")
                    params["prefix"] = _like_prefix(prefix)
                if asset is not None:
                    where.append("asset = :asset")
                    params["asset"] = asset
                if at is not None:
                    where.append("inserted_at <= :at")
                    params["at"] = at
                if effective_at is not None:
                    where.append("effective_at <= :effective_at")
                    params["effective_at"] = effective_at
                legs.append(
                    f"SELECT {column} AS account, asset, {sign}amount AS delta "
                    f"FROM ledger_postings WHERE {' AND '.join(where)}"
                )
            statement = text(
                f"SELECT account, asset, sum(delta) AS balance FROM ({' UNION ALL '.join(legs)}) x "
                "GROUP BY account, asset ORDER BY account, asset"
            )
        balances: dict[str, dict[str, int]] = {}
        for row in await self._conn.execute(statement, params):
            balances.setdefault(row.account, {})[row.asset] = _int(row.balance)
        return balances

    async def accounts(self, prefix: str | None, cursor: str | None, limit: int) -> Page[Account]:
        check_limit(limit)
        position = _decode_cursor(cursor)
        params: dict[str, Any] = {
            "after": str(position.get("address", "")) if position else "",
            "like": _like_prefix(prefix or ""),
            "limit": limit + 1,
        }
        statement = text(
            """
            SELECT a.address, coalesce(m.metadata, '{}'::jsonb) AS metadata
              FROM (SELECT DISTINCT account AS address FROM ledger_volumes
                     WHERE account > :after AND account LIKE :like
                    UNION
                    SELECT address FROM ledger_account_metadata
                     WHERE address > :after AND address LIKE :like) a
              LEFT JOIN ledger_account_metadata m ON m.address = a.address
             ORDER BY a.address LIMIT :limit
            """
        )
        rows = (await self._conn.execute(statement, params)).all()
        items = tuple(
            Account(address=row.address, metadata={str(k): str(v) for k, v in row.metadata.items()})
            for row in rows[:limit]
        )
        next_cursor = _encode_cursor({"address": items[-1].address}) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)


# ---------------------------------------------------------------------------------------------
# The two faces: standalone (own transactions) and bound (a caller's transaction)


class BoundPostgresLedger:
    """The Postgres ledger on a caller's open transaction. Never commits or rolls back."""

    def __init__(
        self, connection: AsyncConnection, policy: OverdraftPolicy, programs: ProgramCache
    ) -> None:
        self._core = _Core(connection, policy, programs)

    async def _guard(self, work: Awaitable[R]) -> R:
        try:
            return await work
        except WalletflowError:
            raise
        except Exception as error:
            mapped = _map_error(error)
            if mapped is None:
                raise
            raise mapped from error

    async def post(self, request: PostRequest) -> PostResult:
        return await self._guard(self._core.post(request))

    async def revert(
        self,
        tx_id: int,
        *,
        reference: str | None = None,
        idempotency_key: str | None = None,
        metadata: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> PostResult:
        return await self._guard(
            self._core.revert(
                tx_id, reference=reference, idempotency_key=idempotency_key, metadata=metadata
            )
        )

    async def get_transaction(self, tx_id: int) -> Transaction:
        return await self._guard(self._core.get_transaction(tx_id))

    async def list_transactions(
        self,
        filter: TransactionFilter | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Transaction]:
        return await self._guard(self._core.list_transactions(filter, cursor, limit))

    async def balances(
        self,
        accounts: Sequence[str] | None = None,
        prefix: str | None = None,
        asset: str | None = None,
        at: datetime | None = None,
        effective_at: datetime | None = None,
    ) -> dict[str, dict[str, int]]:
        return await self._guard(self._core.balances(accounts, prefix, asset, at, effective_at))

    async def accounts(
        self, prefix: str | None = None, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Account]:
        return await self._guard(self._core.accounts(prefix, cursor, limit))


class PostgresLedger:
    """The built-in ledger. Each call runs in its own database transaction (retried on a
    deadlock or serialization failure, at most MAX_ATTEMPTS times); `bound(connection)` gives
    the same ledger inside a caller's unit of work.

    `force` on `revert` is accepted for port compatibility and ignored: this ledger never lets
    an account the policy protects go negative (rule 3 cannot bend).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        policy: OverdraftPolicy = DEFAULT_POLICY,
        programs: ProgramCache | None = None,
    ) -> None:
        self._engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.policy = policy
        self._programs = programs or ProgramCache()

    def bound(self, connection: AsyncConnection) -> BoundPostgresLedger:
        return BoundPostgresLedger(connection, self.policy, self._programs)

    async def _run(self, work: Callable[[_Core], Awaitable[R]], *, autocommit: bool = False) -> R:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if autocommit:
                    async with self._autocommit.connect() as connection:
                        return await work(_Core(connection, self.policy, self._programs))
                async with self._engine.begin() as connection:
                    return await work(_Core(connection, self.policy, self._programs))
            except WalletflowError:
                raise
            except Exception as error:
                if _is_retryable(error) and attempt < MAX_ATTEMPTS:
                    log.info("ledger retry %d after %s", attempt, error.__class__.__name__)
                    await asyncio.sleep(RETRY_BACKOFF_S * attempt * random.random())
                    continue
                mapped = _map_error(error)
                if mapped is None:
                    raise
                raise mapped from error
        raise AssertionError("unreachable: the loop returns or raises")

    async def post(self, request: PostRequest) -> PostResult:
        single = _fits_one_statement(request, self.policy)
        return await self._run(lambda core: core.post(request), autocommit=single)

    async def revert(
        self,
        tx_id: int,
        *,
        reference: str | None = None,
        idempotency_key: str | None = None,
        metadata: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> PostResult:
        return await self._run(
            lambda core: core.revert(
                tx_id, reference=reference, idempotency_key=idempotency_key, metadata=metadata
            )
        )

    async def get_transaction(self, tx_id: int) -> Transaction:
        return await self._run(lambda core: core.get_transaction(tx_id))

    async def list_transactions(
        self,
        filter: TransactionFilter | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Transaction]:
        return await self._run(lambda core: core.list_transactions(filter, cursor, limit))

    async def balances(
        self,
        accounts: Sequence[str] | None = None,
        prefix: str | None = None,
        asset: str | None = None,
        at: datetime | None = None,
        effective_at: datetime | None = None,
    ) -> dict[str, dict[str, int]]:
        return await self._run(
            lambda core: core.balances(accounts, prefix, asset, at, effective_at)
        )

    async def accounts(
        self, prefix: str | None = None, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Account]:
        return await self._run(lambda core: core.accounts(prefix, cursor, limit))

    # -- the hash chain ------------------------------------------------------------------------

    async def seal(self, max_batches: int = MAX_SEAL_BATCHES) -> int:
        """Append every finished, unsealed transaction to the hash chain; return how many.
        Returns 0 at once when another sealer holds the lock."""
        sealed = 0
        for _ in range(max_batches):
            count = await self._seal_batch()
            sealed += max(count, 0)
            if count < SEAL_BATCH:
                break
        return sealed

    async def _seal_batch(self) -> int:
        async with self._engine.begin() as connection:
            got = await connection.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEAL_LOCK_KEY}
            )
            if not got:
                return -1
            last = (
                await connection.execute(
                    text(
                        "SELECT seq, tx_xid, tx_id, hash FROM ledger_log ORDER BY seq DESC LIMIT 1"
                    )
                )
            ).first()
            seq, after_xid, after_id, prev_hash = (
                (int(last.seq), int(last.tx_xid), int(last.tx_id), str(last.hash))
                if last is not None
                else (0, -1, -1, GENESIS_HASH)
            )
            horizon = await self._finished_horizon(connection)
            rows = (
                await connection.execute(
                    text(
                        f"SELECT {_TX_COLUMNS}, t.xid FROM ledger_transactions t "
                        "WHERE (t.xid, t.id) > (:after_xid, :after_id) AND t.xid < :horizon "
                        "ORDER BY t.xid, t.id LIMIT :batch"
                    ),
                    {
                        "after_xid": after_xid,
                        "after_id": after_id,
                        "horizon": horizon,
                        "batch": SEAL_BATCH,
                    },
                )
            ).all()
            if not rows:
                return 0
            seqs: list[int] = []
            tx_ids: list[int] = []
            xids: list[int] = []
            prevs: list[str] = []
            hashes: list[str] = []
            for row in rows:
                seq += 1
                digest = chain_hash(prev_hash, _transaction_from_row(row))
                seqs.append(seq)
                tx_ids.append(int(row.id))
                xids.append(int(row.xid))
                prevs.append(prev_hash)
                hashes.append(digest)
                prev_hash = digest
            await connection.execute(
                text(
                    "INSERT INTO ledger_log (seq, tx_id, tx_xid, prev_hash, hash) "
                    "SELECT * FROM unnest(CAST(:seqs AS bigint[]), CAST(:tx_ids AS bigint[]), "
                    "CAST(:xids AS bigint[]), CAST(:prevs AS text[]), CAST(:hashes AS text[]))"
                ),
                {"seqs": seqs, "tx_ids": tx_ids, "xids": xids, "prevs": prevs, "hashes": hashes},
            )
            return len(rows)

    @staticmethod
    async def _finished_horizon(connection: AsyncConnection) -> int:
        """A full transaction id below which every transaction that could write ledger rows
        has finished: the least of the next xid and the xids of this database's backends that
        are running now. Read BEFORE the statement that selects the rows to seal, so that
        anything below it is already final in that later statement's snapshot. Backends of
        other databases (which cannot write our rows) do not hold sealing back."""
        row = (
            await connection.execute(
                text(
                    "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next_xid, "
                    "array(SELECT backend_xid::text::bigint FROM pg_stat_activity "
                    "      WHERE datname = current_database() AND backend_xid IS NOT NULL"
                    "      AND pid <> pg_backend_pid()) AS running"
                )
            )
        ).one()
        next_xid = int(row.next_xid)
        horizon = next_xid
        epoch_base = next_xid & ~0xFFFF_FFFF
        for short_xid in row.running or []:
            full = epoch_base | int(short_xid)
            if full > next_xid:
                full -= 1 << 32
            horizon = min(horizon, full)
        return horizon

    async def verify(self) -> VerifyReport:
        """Walk the chain from the start, recomputing every hash; name the first broken link.
        Also compare the volume cache with the postings."""
        broken: BrokenLink | None = None
        expected_prev = GENESIS_HASH
        expected_seq = 1
        checked = 0
        async with self._engine.connect() as connection:
            while broken is None:
                rows = (
                    await connection.execute(
                        text(
                            f"SELECT l.seq, l.tx_id AS log_tx_id, l.prev_hash, l.hash AS log_hash, "
                            f"t.id IS NOT NULL AS present, {_TX_COLUMNS} "
                            "FROM ledger_log l LEFT JOIN ledger_transactions t ON t.id = l.tx_id "
                            "WHERE l.seq >= :from_seq ORDER BY l.seq LIMIT :batch"
                        ),
                        {"from_seq": expected_seq, "batch": VERIFY_BATCH},
                    )
                ).all()
                if not rows:
                    break
                for row in rows:
                    broken = self._check_link(row, expected_seq, expected_prev)
                    if broken is not None:
                        break
                    expected_prev = str(row.log_hash)
                    expected_seq += 1
                    checked += 1
            unsealed = int(
                await connection.scalar(
                    text(
                        "SELECT count(*) FROM ledger_transactions t WHERE NOT EXISTS "
                        "(SELECT 1 FROM ledger_log l WHERE l.tx_id = t.id)"
                    )
                )
                or 0
            )
            mismatches = (
                await connection.execute(
                    text(
                        """
                        WITH p AS (
                            SELECT account, asset, sum(delta) AS balance FROM (
                                SELECT destination AS account, asset, amount AS delta
                                  FROM ledger_postings
                                UNION ALL
                                SELECT source, asset, -amount FROM ledger_postings) x
                             GROUP BY account, asset
                        ), v AS (
                            SELECT account, asset, sum(input - output) AS balance
                              FROM ledger_volumes GROUP BY account, asset
                        )
                        SELECT coalesce(p.account, v.account) AS account,
                               coalesce(p.asset, v.asset) AS asset,
                               coalesce(p.balance, 0) AS postings_balance,
                               coalesce(v.balance, 0) AS volumes_balance
                          FROM p FULL JOIN v ON p.account = v.account AND p.asset = v.asset
                         WHERE coalesce(p.balance, 0) <> coalesce(v.balance, 0)
                         ORDER BY 1, 2 LIMIT 100
                        """
                    )
                )
            ).all()
        return VerifyReport(
            sealed_entries=checked,
            unsealed_transactions=unsealed,
            first_broken_link=broken,
            volume_mismatches=tuple(
                {
                    "account": m.account,
                    "asset": m.asset,
                    "postingsBalance": _int(m.postings_balance),
                    "volumesBalance": _int(m.volumes_balance),
                }
                for m in mismatches
            ),
        )

    @staticmethod
    def _check_link(row: Row[Any], expected_seq: int, expected_prev: str) -> BrokenLink | None:
        seq = int(row.seq)
        tx_id = int(row.log_tx_id)
        if seq != expected_seq:
            return BrokenLink(expected_seq, None, f"log entry {expected_seq} is missing")
        if row.prev_hash != expected_prev:
            return BrokenLink(seq, tx_id, "previous-hash link does not match the entry before")
        if not row.present:
            return BrokenLink(seq, tx_id, f"transaction {tx_id} is missing")
        recomputed = chain_hash(expected_prev, _transaction_from_row(row))
        if recomputed != row.log_hash:
            return BrokenLink(
                seq, tx_id, f"transaction {tx_id}: content does not match its sealed hash"
            )
        return None


async def run_sealer(ledger: PostgresLedger, interval_s: float, stop: asyncio.Event) -> None:
    """Seal periodically until `stop` is set (for a worker process)."""
    assert interval_s > 0
    while not stop.is_set():
        try:
            await ledger.seal()
        except Exception:
            log.exception("ledger sealer failed; retrying in %.1fs", interval_s)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except TimeoutError:
            continue
