"""The ledger port over Formance Ledger v2's HTTP API (httpx), selected by LEDGER_BACKEND=formance.

Endpoints used (all under `/v2/{ledger}`):
- `POST /transactions` with `postings` or `script: {plain, vars}`, `reference`, `metadata`,
  `timestamp`; `?dryRun=true`; header `Idempotency-Key`.
- `POST /transactions/{id}/revert` (`?force=`), body `{metadata}`; header `Idempotency-Key`.
- `GET /transactions/{id}`, `GET /transactions` (cursor pagination, JSON filter body).
- `GET /volumes` (`endTime`, `insertionDate`) for balances; `GET /accounts` for accounts.

Formance has no reference on a revert, and its volumes take one time axis at a time, so those
two requests are refused here with a ValidationError. Account prefixes are sent as Formance
`$match` filters and re-checked client-side. Post-balances come from `postCommitVolumes` when
the server returns them, otherwise from a volumes read right after the write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

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
)

REVERTS_METADATA_KEY = "com.formance.spec/state/reverts"
DEFAULT_TIMEOUT_S = 10.0
MAX_VOLUME_PAGES = 100
VOLUME_PAGE_SIZE = 500


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _transaction(body: Mapping[str, Any]) -> Transaction:
    metadata = {str(k): str(v) for k, v in (body.get("metadata") or {}).items()}
    reverts = metadata.pop(REVERTS_METADATA_KEY, None)
    timestamp = _parse_time(body["timestamp"])
    inserted = body.get("insertedAt")
    return Transaction(
        id=int(body["id"]),
        postings=tuple(Posting.from_json(p) for p in body.get("postings") or []),
        reference=body.get("reference") or None,
        metadata=metadata,
        effective_at=timestamp,
        inserted_at=_parse_time(inserted) if inserted else timestamp,
        reverted=bool(body.get("reverted", False)),
        reverts_tx_id=int(reverts) if reverts is not None else None,
    )


def _error(response: httpx.Response) -> WalletflowError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = str(body.get("errorCode", "INTERNAL"))
    message = str(body.get("errorMessage", response.text[:200] or response.reason_phrase))
    details = {"formanceCode": code, "status": response.status_code}
    lowered = message.lower()
    if response.status_code >= 500 and code not in {"INSUFFICIENT_FUND"}:
        return Unavailable(f"Formance unavailable: {message}", details=details)
    if code == "INSUFFICIENT_FUND":
        return InsufficientFunds(message, details=details)
    if "idempotency" in lowered:
        return IdempotencyKeyReused(message, details=details)
    if code == "CONFLICT":
        return ReferenceConflict(message, details=details)
    if code == "ALREADY_REVERT":
        return AlreadyReverted(message, details=details)
    if code == "NOT_FOUND":
        return NotFound(message, details=details)
    if code in {"COMPILATION_FAILED", "INTERPRETER_PARSE", "INTERPRETER_RUNTIME", "NO_POSTINGS"}:
        return ScriptError(message, details=details)
    if code == "VALIDATION":
        return ValidationError(message)
    return WalletflowError(message, details=details)


def _filter(clauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class FormanceLedger:
    """`LedgerPort` over a Formance v2 ledger. The client may be given (tests pass one with an
    ASGI transport); otherwise one is created for `base_url`. Close with `aclose()`."""

    def __init__(
        self,
        base_url: str,
        ledger: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._ledger = ledger
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(base_url=base_url, timeout=timeout_s)
        self._prefix = f"{base_url.rstrip('/')}/v2/{ledger}"

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        try:
            response = await self._client.request(
                method,
                f"{self._prefix}{path}",
                params={k: v for k, v in (params or {}).items() if v is not None},
                json=json,
                headers=dict(headers or {}),
            )
        except httpx.HTTPError as error:
            raise Unavailable(f"Formance unreachable: {error.__class__.__name__}") from error
        if response.status_code >= 400:
            raise _error(response)
        if response.status_code == 204 or not response.content:
            return {}
        return response.json()

    async def _result(self, body: Mapping[str, Any], dry_run: bool) -> PostResult:
        transaction = _transaction(body)
        touched = sorted(
            {p.source for p in transaction.postings} | {p.destination for p in transaction.postings}
        )
        volumes = body.get("postCommitVolumes")
        post_balances: dict[str, dict[str, int]] = {}
        if isinstance(volumes, Mapping):
            for account in touched:
                for asset, volume in (volumes.get(account) or {}).items():
                    balance = volume.get("balance")
                    if balance is None:
                        balance = int(volume["input"]) - int(volume["output"])
                    post_balances.setdefault(account, {})[str(asset)] = int(balance)
        else:
            assets = {p.asset for p in transaction.postings}
            current = await self.balances(accounts=touched)
            post_balances = {
                account: {a: v for a, v in by_asset.items() if a in assets}
                for account, by_asset in current.items()
            }
        return PostResult(transaction=transaction, post_balances=post_balances, dry_run=dry_run)

    async def post(self, request: PostRequest) -> PostResult:
        body: dict[str, Any] = {"metadata": dict(request.metadata)}
        if request.script is not None:
            body["script"] = {"plain": request.script, "vars": dict(request.variables)}
        else:
            body["postings"] = [p.to_json() for p in request.postings]
        if request.reference is not None:
            body["reference"] = request.reference
        if request.effective_at is not None:
            body["timestamp"] = _iso(request.effective_at)
        headers = {"Idempotency-Key": request.idempotency_key} if request.idempotency_key else {}
        params = {"dryRun": "true"} if request.dry_run else {}
        answer = await self._request(
            "POST", "/transactions", params=params, json=body, headers=headers
        )
        result = await self._result(answer["data"], request.dry_run)
        if request.dry_run:
            tx = result.transaction
            result = PostResult(
                transaction=Transaction(
                    id=0,
                    postings=tx.postings,
                    reference=tx.reference,
                    metadata=tx.metadata,
                    effective_at=tx.effective_at,
                    inserted_at=tx.inserted_at,
                ),
                post_balances=result.post_balances,
                dry_run=True,
            )
        return result

    async def revert(
        self,
        tx_id: int,
        *,
        reference: str | None = None,
        idempotency_key: str | None = None,
        metadata: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> PostResult:
        if reference is not None:
            raise ValidationError(
                "Formance reverts carry no reference",
                field_errors={"reference": "not supported by Formance"},
            )
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        answer = await self._request(
            "POST",
            f"/transactions/{int(tx_id)}/revert",
            params={"force": "true" if force else None},
            json={"metadata": dict(metadata or {})},
            headers=headers,
        )
        return await self._result(answer["data"], False)

    async def get_transaction(self, tx_id: int) -> Transaction:
        answer = await self._request("GET", f"/transactions/{int(tx_id)}")
        return _transaction(answer["data"])

    async def list_transactions(
        self,
        filter: TransactionFilter | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Transaction]:
        check_limit(limit)
        if cursor is not None:
            answer = await self._request("GET", "/transactions", params={"cursor": cursor})
        else:
            criteria = filter or TransactionFilter()
            clauses: list[dict[str, Any]] = []
            if criteria.account is not None:
                clauses.append({"$match": {"account": criteria.account}})
            if criteria.asset is not None:
                clauses.append({"$match": {"asset": criteria.asset}})
            if criteria.reference is not None:
                clauses.append({"$match": {"reference": criteria.reference}})
            if criteria.start_time is not None:
                clauses.append({"$gte": {"timestamp": _iso(criteria.start_time)}})
            if criteria.end_time is not None:
                clauses.append({"$lt": {"timestamp": _iso(criteria.end_time)}})
            answer = await self._request(
                "GET", "/transactions", params={"pageSize": limit}, json=_filter(clauses)
            )
        page = answer["cursor"]
        items = tuple(_transaction(t) for t in page.get("data") or [])
        next_cursor = page.get("next") if page.get("hasMore") else None
        return Page(items=items, next_cursor=next_cursor or None)

    async def balances(
        self,
        accounts: Sequence[str] | None = None,
        prefix: str | None = None,
        asset: str | None = None,
        at: datetime | None = None,
        effective_at: datetime | None = None,
    ) -> dict[str, dict[str, int]]:
        check_balance_query(accounts, prefix, asset, at, effective_at)
        if at is not None and effective_at is not None:
            raise ValidationError(
                "Formance volumes take one time axis at a time",
                field_errors={"at": "give either at or effectiveAt"},
            )
        clauses: list[dict[str, Any]] = []
        if accounts is not None:
            clauses.append({"$or": [{"$match": {"account": a}} for a in accounts]})
        if prefix is not None:
            clauses.append({"$match": {"account": prefix}})
        params: dict[str, Any] = {"pageSize": VOLUME_PAGE_SIZE}
        if at is not None:
            params.update({"endTime": _iso(at), "insertionDate": "true"})
        elif effective_at is not None:
            params["endTime"] = _iso(effective_at)
        wanted = set(accounts) if accounts is not None else None
        balances: dict[str, dict[str, int]] = {}
        cursor: str | None = None
        for _ in range(MAX_VOLUME_PAGES):
            if cursor is None:
                answer = await self._request(
                    "GET", "/volumes", params=params, json=_filter(clauses)
                )
            else:
                answer = await self._request("GET", "/volumes", params={"cursor": cursor})
            page = answer["cursor"]
            for volume in page.get("data") or []:
                account = str(volume["account"])
                volume_asset = str(volume["asset"])
                if wanted is not None and account not in wanted:
                    continue
                if prefix is not None and not account.startswith(prefix):
                    continue
                if asset is not None and volume_asset != asset:
                    continue
                balances.setdefault(account, {})[volume_asset] = int(volume["balance"])
            cursor = page.get("next") if page.get("hasMore") else None
            if not cursor:
                return balances
        raise Unavailable("too many volume pages from Formance; narrow the query")

    async def accounts(
        self, prefix: str | None = None, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Account]:
        check_limit(limit)
        if cursor is not None:
            answer = await self._request("GET", "/accounts", params={"cursor": cursor})
        else:
            clause = None
            if prefix:
                check_prefix(prefix)
                clause = {"$match": {"address": prefix}}
            answer = await self._request(
                "GET", "/accounts", params={"pageSize": limit}, json=clause
            )
        page = answer["cursor"]
        items = tuple(
            Account(
                address=str(a["address"]),
                metadata={str(k): str(v) for k, v in (a.get("metadata") or {}).items()},
            )
            for a in page.get("data") or []
            if not prefix or str(a["address"]).startswith(prefix)
        )
        next_cursor = page.get("next") if page.get("hasMore") else None
        return Page(items=items, next_cursor=next_cursor or None)
