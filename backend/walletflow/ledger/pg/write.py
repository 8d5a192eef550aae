"""The write core of the built-in ledger: post and revert on one open connection, inside a
transaction it never commits.

A post is: claim the idempotency key (optional), read the balances a script needs (scripts
only), then ONE statement (`sql.WRITE`) that inserts the transaction row (`ON CONFLICT DO
NOTHING` on `UNIQUE(reference)` / `UNIQUE(reverts_tx_id)`), its postings and upserts the volume
rows, then store the claim's response. A Numscript request first reads the balances it needs;
rows of accounts that may not go negative, and of the accounts its variables name, are read
`FOR UPDATE` in sorted order, so the script decides on balances that cannot move under it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.domain.errors import (
    AlreadyReverted,
    IdempotencyKeyReused,
    InsufficientFunds,
    ReferenceConflict,
    ScriptError,
    ValidationError,
)
from walletflow.ledger.pg import reads, sql
from walletflow.ledger.pg.codec import as_int, canonical_json, request_hash
from walletflow.ledger.pg.volumes import (
    apply_in_order,
    home_shard,
    net_movements,
    plan_volumes,
    volume_params,
)
from walletflow.ledger.policy import OverdraftPolicy
from walletflow.ledger.port import Posting, PostRequest, PostResult, Transaction
from walletflow.ledger.scripts import ProgramCache, needed_balances, run_program
from walletflow.numscript import Program

IDEMPOTENCY_SCOPE = "ledger"


def fits_one_statement(request: PostRequest, policy: OverdraftPolicy) -> bool:
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


def merge_metadata(
    request_meta: Mapping[str, str], script_meta: Mapping[str, str]
) -> dict[str, str]:
    """The transaction's metadata: the request's and the script's, which must not disagree."""
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


class Writer:
    """Post and revert on an open connection inside a transaction. Never commits."""

    def __init__(
        self, connection: AsyncConnection, policy: OverdraftPolicy, programs: ProgramCache
    ) -> None:
        self._conn = connection
        self._policy = policy
        self._programs = programs
        self._home_shard = home_shard(connection)

    # -- idempotency ---------------------------------------------------------------------------

    async def _claim(self, key: str, body_hash: str) -> PostResult | None:
        """Claim the key; return the stored result when it was claimed before by this body."""
        params = {"scope": IDEMPOTENCY_SCOPE, "key": key, "hash": body_hash}
        fresh = (await self._conn.execute(sql.CLAIM, params)).first()
        if fresh is not None:
            return None
        claimed = (await self._conn.execute(sql.READ_CLAIM, params)).first()
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
            sql.STORE_CLAIM,
            {"scope": IDEMPOTENCY_SCOPE, "key": key, "response": canonical_json(result.to_json())},
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
            metadata=merge_metadata(request.metadata, tx_meta),
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
            (locked if lock else set(), sql.READ_VOLUMES_FOR_UPDATE),
            (plain, sql.READ_VOLUMES),
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
                assets_of[row.asset] = assets_of.get(row.asset, 0) + as_int(row.balance)
        for account, asset in needed:
            balances.setdefault(account, {}).setdefault(asset, 0)
        accounts_meta: dict[str, dict[str, str]] = {}
        if "meta(" in request.script:
            addresses = sorted(
                {a for a, _ in needed}
                | {v for v in variables.values() if ":" in v and " " not in v}
                | {"world"}
            )
            rows = await self._conn.execute(sql.READ_ACCOUNT_META, {"addresses": addresses})
            accounts_meta = {row.address: dict(row.metadata) for row in rows}
        outcome = run_program(program, variables, balances, accounts_meta)
        if not outcome.postings:
            raise ScriptError("the script moved nothing", details={"numscriptCode": "NO_POSTINGS"})
        return outcome.postings, outcome.tx_metadata, outcome.accounts_metadata

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
        rows, spread = plan_volumes(postings, self._policy, self._home_shard)
        params: dict[str, Any] = {
            "reference": reference,
            "metadata": canonical_json(dict(metadata)),
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
            params.update(volume_params([]))
        else:
            params.update(volume_params(rows))
        result = (await self._conn.execute(sql.WRITE, params)).all()
        if not result:
            await self._raise_conflict(reference, reverts_tx_id)
        tx_id = int(result[0].id)
        post_balances: dict[str, dict[str, int]] = {}
        for row in result:
            if row.account is not None:
                post_balances.setdefault(row.account, {})[row.asset] = as_int(row.balance)
        if spread:
            post_balances.update(await apply_in_order(self._conn, rows, spread))
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
            existing = (
                await self._conn.execute(sql.REVERT_EXISTS, {"tx_id": reverts_tx_id})
            ).first()
            if existing is not None:
                raise AlreadyReverted(
                    f"transaction {reverts_tx_id} is already reverted",
                    details={"txId": reverts_tx_id, "revertTxId": int(existing.id)},
                )
        raise ReferenceConflict(
            f"a transaction with reference {reference!r} exists",
            details={"reference": reference},
        )

    async def _write_account_metadata(self, account_meta: Mapping[str, Mapping[str, str]]) -> None:
        addresses = sorted(account_meta)
        await self._conn.execute(
            sql.WRITE_ACCOUNT_META,
            {
                "addresses": addresses,
                "metadatas": [canonical_json(dict(account_meta[a])) for a in addresses],
            },
        )

    async def _dry_run(self, request: PostRequest, program: Program | None) -> PostResult:
        if request.reference is not None:
            existing = (
                await self._conn.execute(sql.REFERENCE_EXISTS, {"reference": request.reference})
            ).first()
            if existing is not None:
                raise ReferenceConflict(
                    f"a transaction with reference {request.reference!r} exists",
                    details={"reference": request.reference},
                )
        postings, tx_meta, _ = await self._resolve(request, program, lock=False)
        movements = net_movements(postings)
        current = await reads.sum_volumes(self._conn, sorted(movements))
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
            metadata=merge_metadata(request.metadata, tx_meta),
            effective_at=request.effective_at or now,
            inserted_at=now,
        )
        return PostResult(transaction=transaction, post_balances=post_balances, dry_run=True)

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
        original = await reads.get_transaction(self._conn, tx_id)
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
