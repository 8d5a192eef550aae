"""The ledger port: what the service layer may ask of a ledger, whichever one is behind it.

Two implementations pass the same contract tests: the built-in PostgreSQL ledger
(`ledger/pg/`, the default) and the Formance Ledger v2 adapter (`ledger/formance.py`).

A request is either explicit postings or Numscript source text plus its variables (Formance's
string form: `"NGN/2 10000"`, `"merchants:m1:NGN:available"`). The service resolves template
names to source text; the ledger compiles (with a cache keyed by the source's hash) and runs it.

Every value here is a plain frozen dataclass: money is an `int` of minor units (`amount_minor`),
never a float; times are timezone-aware `datetime`s; metadata values are strings (as Formance).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from walletflow.domain.errors import ValidationError

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
MAX_POSTINGS_PER_TRANSACTION = 1_000
MAX_SCRIPT_CHARS = 64 * 1024
MAX_METADATA_KEYS = 64
MAX_REFERENCE_CHARS = 256
MAX_IDEMPOTENCY_KEY_CHARS = 256
MAX_BALANCE_ACCOUNTS = 1_000

ACCOUNT_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+(:[a-zA-Z0-9_-]+)*\Z")
ASSET_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,16}(/[0-9]{1,3})?\Z")
PREFIX_PATTERN = re.compile(r"^[a-zA-Z0-9_:-]*\Z")

T = TypeVar("T")

# account -> asset -> balance in minor units (may be negative for accounts allowed to be).
Balances = Mapping[str, Mapping[str, int]]


def check_account(address: str, field_name: str = "account") -> str:
    if not ACCOUNT_PATTERN.match(address):
        raise ValidationError(
            f"invalid account address {address!r}",
            field_errors={field_name: "must match ^[a-zA-Z0-9_-]+(:[a-zA-Z0-9_-]+)*$"},
        )
    return address


def check_asset(asset: str, field_name: str = "asset") -> str:
    if not ASSET_PATTERN.match(asset):
        raise ValidationError(
            f"invalid asset {asset!r}", field_errors={field_name: "must look like NGN/2 or UGX"}
        )
    return asset


def check_prefix(prefix: str, field_name: str = "prefix") -> str:
    if not PREFIX_PATTERN.match(prefix):
        raise ValidationError(
            f"invalid account prefix {prefix!r}",
            field_errors={field_name: "letters, digits, '_', '-' and ':' only"},
        )
    return prefix


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(
            f"page size must be between 1 and {MAX_PAGE_SIZE}",
            field_errors={"limit": f"1..{MAX_PAGE_SIZE}"},
        )
    return limit


def check_aware(moment: datetime | None, field_name: str) -> datetime | None:
    if moment is not None and moment.utcoffset() is None:
        raise ValidationError(
            f"{field_name} must carry a timezone", field_errors={field_name: "timezone required"}
        )
    return moment


def _check_metadata(metadata: Mapping[str, str], field_name: str) -> None:
    if len(metadata) > MAX_METADATA_KEYS:
        raise ValidationError(
            "too many metadata keys", field_errors={field_name: f"at most {MAX_METADATA_KEYS}"}
        )
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValidationError(
                "metadata keys and values are strings",
                field_errors={f"{field_name}.{key}": "must be a string"},
            )


@dataclass(frozen=True)
class Posting:
    """One movement of `amount_minor` units of `asset` from `source` to `destination`."""

    source: str
    destination: str
    amount_minor: int
    asset: str

    def __post_init__(self) -> None:
        check_account(self.source, "source")
        check_account(self.destination, "destination")
        if self.source == self.destination:
            raise ValidationError(
                "a posting moves money between two different accounts",
                field_errors={"destination": "must differ from source"},
            )
        check_asset(self.asset)
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise ValidationError(
                "amount must be an integer of minor units",
                field_errors={"amount": "integer minor units"},
            )
        if self.amount_minor <= 0:
            raise ValidationError(
                "a posting moves a positive amount", field_errors={"amount": "must be > 0"}
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "amount": self.amount_minor,
            "asset": self.asset,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Posting:
        try:
            return cls(
                source=str(body["source"]),
                destination=str(body["destination"]),
                amount_minor=int(body["amount"]),
                asset=str(body["asset"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValidationError(
                f"malformed posting: {error}", field_errors={"postings": "malformed"}
            ) from None


@dataclass(frozen=True)
class PostRequest:
    """Either `postings` or `script` (Numscript source) + `variables`, never both."""

    postings: tuple[Posting, ...] = ()
    script: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    reference: str | None = None
    idempotency_key: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    effective_at: datetime | None = None
    dry_run: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "postings", tuple(self.postings))
        object.__setattr__(self, "variables", dict(self.variables))
        object.__setattr__(self, "metadata", dict(self.metadata))
        if (self.script is None) == (not self.postings):
            raise ValidationError(
                "a request carries either postings or a script",
                field_errors={"postings": "exactly one of postings or script"},
            )
        if len(self.postings) > MAX_POSTINGS_PER_TRANSACTION:
            raise ValidationError(
                "too many postings",
                field_errors={"postings": f"at most {MAX_POSTINGS_PER_TRANSACTION}"},
            )
        if self.script is not None and len(self.script) > MAX_SCRIPT_CHARS:
            raise ValidationError("script too long", field_errors={"script": "too long"})
        for name, value in self.variables.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise ValidationError(
                    "variables are strings in Formance form",
                    field_errors={f"variables.{name}": "must be a string"},
                )
        if self.reference is not None and not 0 < len(self.reference) <= MAX_REFERENCE_CHARS:
            raise ValidationError("bad reference", field_errors={"reference": "1..256 chars"})
        if (
            self.idempotency_key is not None
            and not 0 < len(self.idempotency_key) <= MAX_IDEMPOTENCY_KEY_CHARS
        ):
            raise ValidationError(
                "bad idempotency key", field_errors={"idempotencyKey": "1..256 chars"}
            )
        _check_metadata(self.metadata, "metadata")
        check_aware(self.effective_at, "effectiveAt")

    def fingerprint_body(self) -> dict[str, Any]:
        """What the idempotency hash covers: everything that shapes the result."""
        return {
            "postings": [posting.to_json() for posting in self.postings],
            "script": self.script,
            "variables": dict(sorted(self.variables.items())),
            "reference": self.reference,
            "metadata": dict(sorted(self.metadata.items())),
            "effectiveAt": self.effective_at.isoformat() if self.effective_at else None,
        }


@dataclass(frozen=True)
class Transaction:
    """A committed (or, in a dry run, would-be: `id == 0`) ledger transaction."""

    id: int
    postings: tuple[Posting, ...]
    reference: str | None
    metadata: Mapping[str, str]
    effective_at: datetime
    inserted_at: datetime
    reverted: bool = False
    reverts_tx_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "postings": [posting.to_json() for posting in self.postings],
            "reference": self.reference,
            "metadata": dict(self.metadata),
            "effectiveAt": self.effective_at.isoformat(),
            "insertedAt": self.inserted_at.isoformat(),
            "reverted": self.reverted,
            "revertsTxId": self.reverts_tx_id,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Transaction:
        reverts = body.get("revertsTxId")
        return cls(
            id=int(body["id"]),
            postings=tuple(Posting.from_json(p) for p in body["postings"]),
            reference=body.get("reference"),
            metadata={str(k): str(v) for k, v in (body.get("metadata") or {}).items()},
            effective_at=datetime.fromisoformat(str(body["effectiveAt"])),
            inserted_at=datetime.fromisoformat(str(body["insertedAt"])),
            reverted=bool(body.get("reverted", False)),
            reverts_tx_id=None if reverts is None else int(reverts),
        )


@dataclass(frozen=True)
class PostResult:
    """The transaction and the balances of every account it touched, right after it."""

    transaction: Transaction
    post_balances: Balances
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "transaction": self.transaction.to_json(),
            "postBalances": {
                account: dict(sorted(assets.items()))
                for account, assets in sorted(self.post_balances.items())
            },
            "dryRun": self.dry_run,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> PostResult:
        return cls(
            transaction=Transaction.from_json(body["transaction"]),
            post_balances={
                str(account): {str(asset): int(v) for asset, v in assets.items()}
                for account, assets in body["postBalances"].items()
            },
            dry_run=bool(body.get("dryRun", False)),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paginated listing; `next_cursor` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None = None


@dataclass(frozen=True)
class TransactionFilter:
    """All given criteria must hold. `account` matches a source or destination that equals it
    or starts with it (use a trailing ':' for a subtree); times bound `effective_at`,
    `start_time` inclusive and `end_time` exclusive."""

    account: str | None = None
    asset: str | None = None
    reference: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None

    def __post_init__(self) -> None:
        if self.account is not None:
            check_prefix(self.account, "account")
        if self.asset is not None:
            check_asset(self.asset)
        check_aware(self.start_time, "startTime")
        check_aware(self.end_time, "endTime")


@dataclass(frozen=True)
class Account:
    address: str
    metadata: Mapping[str, str] = field(default_factory=dict)


class LedgerPort(Protocol):
    """An immutable double-entry ledger. Errors are `walletflow.domain.errors` subclasses:
    InsufficientFunds, ReferenceConflict, IdempotencyKeyReused, AlreadyReverted, NotFound,
    UnknownAccount, ScriptError, ValidationError, Unavailable (retryable)."""

    async def post(self, request: PostRequest) -> PostResult: ...

    async def revert(
        self,
        tx_id: int,
        *,
        reference: str | None = None,
        idempotency_key: str | None = None,
        metadata: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> PostResult: ...

    async def get_transaction(self, tx_id: int) -> Transaction: ...

    async def list_transactions(
        self,
        filter: TransactionFilter | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Transaction]: ...

    async def balances(
        self,
        accounts: Sequence[str] | None = None,
        prefix: str | None = None,
        asset: str | None = None,
        at: datetime | None = None,
        effective_at: datetime | None = None,
    ) -> dict[str, dict[str, int]]: ...

    async def accounts(
        self, prefix: str | None = None, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Account]: ...


def check_balance_query(
    accounts: Sequence[str] | None,
    prefix: str | None,
    asset: str | None,
    at: datetime | None,
    effective_at: datetime | None,
) -> None:
    """Shared validation of `LedgerPort.balances` arguments."""
    if accounts is not None:
        if len(accounts) > MAX_BALANCE_ACCOUNTS:
            raise ValidationError(
                "too many accounts", field_errors={"accounts": f"at most {MAX_BALANCE_ACCOUNTS}"}
            )
        for address in accounts:
            check_account(address, "accounts")
    if prefix is not None:
        check_prefix(prefix)
    if accounts is None and prefix is None:
        raise ValidationError(
            "balances need accounts or a prefix",
            field_errors={"accounts": "give accounts or a prefix"},
        )
    if asset is not None:
        check_asset(asset)
    check_aware(at, "at")
    check_aware(effective_at, "effectiveAt")
