"""A fake Formance Ledger v2 HTTP server for the contract tests: in memory, Starlette, following
the public v2 API shapes (`{"data": …}`, `{"cursor": {pageSize, hasMore, next, data}}`,
`{"errorCode", "errorMessage"}`). Scripts run on walletflow's Numscript engine.

Formance semantics kept: only `world` may go negative through plain postings; a script decides
its own overdraft; the revert transaction carries `com.formance.spec/state/reverts`; an
idempotency key replayed with another body is refused (`VALIDATION`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from walletflow.numscript import NumscriptCompileError, NumscriptRuntimeError, compile_script

REVERTS_KEY = "com.formance.spec/state/reverts"
MAX_PAGE_SIZE = 1000


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _error(code: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"errorCode": code, "errorMessage": message}, status_code=status)


@dataclass
class _Tx:
    id: int
    postings: list[dict[str, Any]]
    reference: str | None
    metadata: dict[str, str]
    timestamp: datetime
    inserted_at: datetime
    reverted: bool = False
    post_commit: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def to_json(self, *, volumes: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "postings": self.postings,
            "metadata": self.metadata,
            "timestamp": _iso(self.timestamp),
            "insertedAt": _iso(self.inserted_at),
            "reverted": self.reverted,
        }
        if self.reference is not None:
            body["reference"] = self.reference
        if volumes:
            body["postCommitVolumes"] = self.post_commit
        return body


@dataclass
class _Ledger:
    transactions: list[_Tx] = field(default_factory=list)
    account_metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)

    def volumes(
        self, end: datetime | None = None, insertion: bool = False
    ) -> dict[tuple[str, str], list[int]]:
        totals: dict[tuple[str, str], list[int]] = {}
        for tx in self.transactions:
            moment = tx.inserted_at if insertion else tx.timestamp
            if end is not None and moment > end:
                continue
            for p in tx.postings:
                totals.setdefault((p["destination"], p["asset"]), [0, 0])[0] += p["amount"]
                totals.setdefault((p["source"], p["asset"]), [0, 0])[1] += p["amount"]
        return totals

    def balance(self, account: str, asset: str) -> int:
        input_, output = self.volumes().get((account, asset), [0, 0])
        return input_ - output


def _encode(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def _decode(cursor: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    return decoded


def _matches(clause: dict[str, Any] | None, item: dict[str, Any]) -> bool:
    """A small evaluator of Formance's JSON query builder over a flat item."""
    if not clause:
        return True
    ((op, arg),) = clause.items()
    if op == "$and":
        return all(_matches(c, item) for c in arg)
    if op == "$or":
        return any(_matches(c, item) for c in arg)
    ((key, value),) = arg.items()
    if op == "$match":
        if key in {"account", "address"}:
            return any(a == value or a.startswith(value) for a in item.get("accounts", []))
        if key == "asset":
            return value in item.get("assets", [])
        return bool(item.get(key) == value)
    moment = item.get(key)
    if not isinstance(moment, datetime):
        return False
    if op == "$gte":
        return moment >= _parse(value)
    if op == "$lt":
        return moment < _parse(value)
    raise ValueError(f"unsupported operator {op}")


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw else None


def _page(request: Request, state: dict[str, Any] | None) -> tuple[int, int, Any]:
    """(page size, offset, filter) from a cursor or from the query and body."""
    if state is not None:
        return int(state["pageSize"]), int(state["offset"]), state.get("filter")
    size = int(request.query_params.get("pageSize", "15"))
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError("pageSize")
    return size, 0, None


def create_app() -> Starlette:
    ledgers: dict[str, _Ledger] = {}

    def ledger_of(request: Request) -> _Ledger:
        return ledgers.setdefault(request.path_params["ledger"], _Ledger())

    def commit(
        book: _Ledger,
        postings: list[dict[str, Any]],
        reference: str | None,
        metadata: dict[str, str],
        timestamp: datetime | None,
        dry_run: bool,
    ) -> _Tx:
        now = _now()
        tx = _Tx(
            id=len(book.transactions) + 1 if not dry_run else 0,
            postings=postings,
            reference=reference,
            metadata=metadata,
            timestamp=timestamp or now,
            inserted_at=now,
        )
        current = book.volumes()
        touched: dict[str, dict[str, dict[str, int]]] = {}
        for p in postings:
            for account, d_in, d_out in (
                (p["destination"], p["amount"], 0),
                (p["source"], 0, p["amount"]),
            ):
                key = (account, p["asset"])
                vol = current.setdefault(key, [0, 0])
                vol[0] += d_in
                vol[1] += d_out
        for p in postings:
            for account in (p["source"], p["destination"]):
                input_, output = current[(account, p["asset"])]
                touched.setdefault(account, {})[p["asset"]] = {
                    "input": input_,
                    "output": output,
                    "balance": input_ - output,
                }
        tx.post_commit = touched
        if not dry_run:
            book.transactions.append(tx)
        return tx

    async def create_transaction(request: Request) -> Response:
        book = ledger_of(request)
        body = await _json_body(request) or {}
        dry_run = request.query_params.get("dryRun") == "true"
        key = request.headers.get("Idempotency-Key")
        body_hash = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if key and not dry_run and key in book.idempotency:
            stored_hash, status, response = book.idempotency[key]
            if stored_hash != body_hash:
                return _error("VALIDATION", "invalid idempotency input: key used with other body")
            return JSONResponse(response, status_code=status)
        reference = body.get("reference")
        if reference and any(t.reference == reference for t in book.transactions):
            return _error("CONFLICT", f"transaction with reference {reference} already exists")
        metadata = {str(k): str(v) for k, v in (body.get("metadata") or {}).items()}
        timestamp = _parse(body["timestamp"]) if body.get("timestamp") else None
        if "script" in body:
            script = body["script"]
            try:
                program = compile_script(script["plain"])
                variables = {str(k): str(v) for k, v in (script.get("vars") or {}).items()}
                needed = program.needed_balances(variables)
                balances: dict[str, dict[str, int]] = {}
                for account, asset in needed:
                    balances.setdefault(account, {})[asset] = book.balance(account, asset)
                result = program.run(variables, balances, dict(book.account_metadata))
            except NumscriptCompileError as error:
                return _error("COMPILATION_FAILED", str(error))
            except NumscriptRuntimeError as error:
                code = "INSUFFICIENT_FUND" if error.code == "INSUFFICIENT_FUND" else "VALIDATION"
                if error.code not in {"INSUFFICIENT_FUND", "NEGATIVE_AMOUNT"}:
                    code = "INTERPRETER_RUNTIME"
                return _error(code, error.message)
            postings: list[dict[str, Any]] = [
                {
                    "source": p.source,
                    "destination": p.destination,
                    "amount": p.amount,
                    "asset": p.asset,
                }
                for p in result.postings
                if p.amount > 0
            ]
            for k, v in result.tx_metadata.items():
                if k in metadata and metadata[k] != v:
                    return _error("METADATA_OVERRIDE", f"metadata {k} overridden")
                metadata[k] = str(v)
            account_meta = result.accounts_metadata
        else:
            postings = [dict(p) for p in body.get("postings") or []]
            account_meta = {}
            volumes = book.volumes()
            need: dict[tuple[str, str], int] = {}
            for p in postings:
                if int(p["amount"]) < 0:
                    return _error("VALIDATION", "negative amount")
                if p["source"] != "world":
                    need[(p["source"], p["asset"])] = need.get((p["source"], p["asset"]), 0) + int(
                        p["amount"]
                    )
            for (account, asset), amount in need.items():
                input_, output = volumes.get((account, asset), [0, 0])
                received = sum(
                    int(p["amount"])
                    for p in postings
                    if p["destination"] == account and p["asset"] == asset
                )
                if input_ - output + received < amount:
                    return _error("INSUFFICIENT_FUND", f"account {account} has insufficient funds")
        if not postings:
            return _error("NO_POSTINGS", "transaction has no postings")
        tx = commit(book, postings, reference, metadata, timestamp, dry_run)
        if not dry_run:
            for account, meta in account_meta.items():
                book.account_metadata.setdefault(account, {}).update(meta)
        response = {"data": tx.to_json(volumes=True)}
        if key and not dry_run:
            book.idempotency[key] = (body_hash, 200, response)
        return JSONResponse(response)

    async def revert_transaction(request: Request) -> Response:
        book = ledger_of(request)
        tx_id = int(request.path_params["id"])
        body = await _json_body(request) or {}
        key = request.headers.get("Idempotency-Key")
        body_hash = hashlib.sha256(
            json.dumps({"id": tx_id, "body": body}, sort_keys=True).encode()
        ).hexdigest()
        if key and key in book.idempotency:
            stored_hash, status, response = book.idempotency[key]
            if stored_hash != body_hash:
                return _error("VALIDATION", "invalid idempotency input: key used with other body")
            return JSONResponse(response, status_code=status)
        if not 1 <= tx_id <= len(book.transactions):
            return _error("NOT_FOUND", f"transaction {tx_id} not found", 404)
        original = book.transactions[tx_id - 1]
        if original.reverted:
            return _error("ALREADY_REVERT", f"transaction {tx_id} already reverted")
        mirror = [
            {
                "source": p["destination"],
                "destination": p["source"],
                "amount": p["amount"],
                "asset": p["asset"],
            }
            for p in reversed(original.postings)
        ]
        if request.query_params.get("force") != "true":
            for p in mirror:
                if p["source"] != "world" and book.balance(p["source"], p["asset"]) < p["amount"]:
                    return _error("INSUFFICIENT_FUND", f"account {p['source']} is short")
        metadata = {str(k): str(v) for k, v in (body.get("metadata") or {}).items()}
        metadata[REVERTS_KEY] = str(tx_id)
        tx = commit(book, mirror, None, metadata, None, False)
        original.reverted = True
        response = {"data": tx.to_json(volumes=True)}
        if key:
            book.idempotency[key] = (body_hash, 201, response)
        return JSONResponse(response, status_code=201)

    async def get_transaction(request: Request) -> Response:
        book = ledger_of(request)
        tx_id = int(request.path_params["id"])
        if not 1 <= tx_id <= len(book.transactions):
            return _error("NOT_FOUND", f"transaction {tx_id} not found", 404)
        return JSONResponse({"data": book.transactions[tx_id - 1].to_json()})

    def paged(request: Request, items: list[Any], size: int, offset: int, flt: Any) -> Response:
        window = items[offset : offset + size]
        has_more = len(items) > offset + size
        cursor: dict[str, Any] = {"pageSize": size, "hasMore": has_more, "data": window}
        if has_more:
            cursor["next"] = _encode({"pageSize": size, "offset": offset + size, "filter": flt})
        return JSONResponse({"cursor": cursor})

    async def list_transactions(request: Request) -> Response:
        book = ledger_of(request)
        raw_cursor = request.query_params.get("cursor")
        state = _decode(raw_cursor) if raw_cursor else None
        size, offset, flt = _page(request, state)
        if state is None:
            flt = await _json_body(request)
        items = [
            tx.to_json()
            for tx in reversed(book.transactions)
            if _matches(
                flt,
                {
                    "accounts": [p["source"] for p in tx.postings]
                    + [p["destination"] for p in tx.postings],
                    "assets": [p["asset"] for p in tx.postings],
                    "reference": tx.reference,
                    "timestamp": tx.timestamp,
                },
            )
        ]
        return paged(request, items, size, offset, flt)

    async def volumes(request: Request) -> Response:
        book = ledger_of(request)
        raw_cursor = request.query_params.get("cursor")
        state = _decode(raw_cursor) if raw_cursor else None
        size, offset, flt = _page(request, state)
        if state is None:
            flt = {
                "filter": await _json_body(request),
                "endTime": request.query_params.get("endTime"),
                "insertion": request.query_params.get("insertionDate") == "true",
            }
        end = _parse(flt["endTime"]) if flt.get("endTime") else None
        totals = book.volumes(end, bool(flt.get("insertion")))
        items = [
            {
                "account": account,
                "asset": asset,
                "input": vol[0],
                "output": vol[1],
                "balance": vol[0] - vol[1],
            }
            for (account, asset), vol in sorted(totals.items())
            if _matches(flt.get("filter"), {"accounts": [account]})
        ]
        return paged(request, items, size, offset, flt)

    async def accounts(request: Request) -> Response:
        book = ledger_of(request)
        raw_cursor = request.query_params.get("cursor")
        state = _decode(raw_cursor) if raw_cursor else None
        size, offset, flt = _page(request, state)
        if state is None:
            flt = await _json_body(request)
        addresses = {account for account, _ in book.volumes()} | set(book.account_metadata)
        items = [
            {"address": address, "metadata": book.account_metadata.get(address, {})}
            for address in sorted(addresses)
            if _matches(flt, {"accounts": [address]})
        ]
        return paged(request, items, size, offset, flt)

    return Starlette(
        routes=[
            Route("/v2/{ledger}/transactions", create_transaction, methods=["POST"]),
            Route("/v2/{ledger}/transactions", list_transactions, methods=["GET"]),
            Route("/v2/{ledger}/transactions/{id:int}", get_transaction, methods=["GET"]),
            Route(
                "/v2/{ledger}/transactions/{id:int}/revert", revert_transaction, methods=["POST"]
            ),
            Route("/v2/{ledger}/volumes", volumes, methods=["GET"]),
            Route("/v2/{ledger}/accounts", accounts, methods=["GET"]),
        ]
    )
