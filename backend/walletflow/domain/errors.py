"""Typed errors with stable codes. A code travels unchanged from where the error is raised (the
ledger, a handler, the boundary) to the GraphQL error union and the dashboard's red card.

`retryable` tells a client whether the same request (same idempotency key) may be sent again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class WalletflowError(Exception):
    """Base of every error a user can cause or see. Subclasses fix `code`."""

    code: ClassVar[str] = "INTERNAL"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationError(WalletflowError):
    """Bad input. `field_errors` maps a field path ("amount", "postings.0.asset") to a reason."""

    code = "VALIDATION_ERROR"

    def __init__(self, message: str, *, field_errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message, details={"fieldErrors": dict(field_errors or {})})
        self.field_errors: dict[str, str] = dict(field_errors or {})


class UnknownCurrency(ValidationError):
    code = "UNKNOWN_CURRENCY"


class WrongScale(ValidationError):
    code = "WRONG_SCALE"


class FractionalMinorUnit(ValidationError):
    code = "FRACTIONAL_MINOR_UNIT"


class InsufficientFunds(WalletflowError):
    code = "INSUFFICIENT_FUND"


class NegativeAmount(ValidationError):
    code = "NEGATIVE_AMOUNT"


class NotFound(WalletflowError):
    code = "NOT_FOUND"


class UnknownAccount(NotFound):
    code = "UNKNOWN_ACCOUNT"


class ReferenceConflict(WalletflowError):
    """A ledger transaction with this reference already exists (UNIQUE(reference))."""

    code = "REFERENCE_CONFLICT"


class Conflict(WalletflowError):
    """The request collides with existing state (e.g. a payout id that is already taken)."""

    code = "CONFLICT"


class IdempotencyKeyReused(WalletflowError):
    """The idempotency key was claimed before by a request with a different body."""

    code = "IDEMPOTENCY_KEY_REUSED"


class AlreadyReverted(WalletflowError):
    code = "ALREADY_REVERTED"


class IllegalStateTransition(WalletflowError):
    code = "ILLEGAL_STATE_TRANSITION"


class QuoteExpired(WalletflowError):
    code = "QUOTE_EXPIRED"


class QuoteAlreadyBooked(WalletflowError):
    code = "QUOTE_ALREADY_BOOKED"


class RateUnavailable(WalletflowError):
    code = "RATE_UNAVAILABLE"


class FlagDenied(WalletflowError):
    """The core wallet is not enabled for this merchant / currency / provider scope."""

    code = "FLAG_DENIED"


class Forbidden(WalletflowError):
    code = "FORBIDDEN"


class Unauthenticated(WalletflowError):
    code = "UNAUTHENTICATED"


class ScriptError(WalletflowError):
    """A Numscript program failed to compile or run for a reason other than funds."""

    code = "SCRIPT_ERROR"


class Unavailable(WalletflowError):
    """A dependency (database, Redis, provider, Formance) is unreachable; safe to retry."""

    code = "UNAVAILABLE"
    retryable = True


class ProviderError(WalletflowError):
    code = "PROVIDER_ERROR"


class UnknownProvider(NotFound):
    """No payout rail is configured under this name."""

    code = "UNKNOWN_PROVIDER"


class InvalidSignature(Unauthenticated):
    """A signed request or webhook carries a missing, malformed or wrong HMAC signature."""

    code = "INVALID_SIGNATURE"


class StaleSignature(Unauthenticated):
    """A correctly signed message whose timestamp is outside the tolerance (replay or skew)."""

    code = "STALE_SIGNATURE"


class UnsupportedByLedgerBackend(WalletflowError):
    """A read of the built-in ledger's own tables (postings, reporting) asked of a deployment
    whose ledger is another one (`LEDGER_BACKEND=formance`): it would answer nothing, so it
    refuses instead."""

    code = "UNSUPPORTED_BY_LEDGER_BACKEND"


class RateLimited(WalletflowError):
    """Too many requests (or money commands) from one principal in the current window; send
    again after `retry_after_s` seconds (the same idempotency key is safe)."""

    code = "RATE_LIMITED"
    retryable = True

    def __init__(self, message: str, *, retry_after_s: int, limit: str) -> None:
        super().__init__(message, details={"retryAfterS": retry_after_s, "limit": limit})
        self.retry_after_s = retry_after_s


class LimitExceeded(WalletflowError):
    """A request asks for more than the API serves in one go (document size, aliases, depth,
    cost, mutations, time, connections, subscriptions). Not retryable as it stands: ask for
    less, or spread the work over several requests."""

    code = "LIMIT_EXCEEDED"


class QueryTooLarge(LimitExceeded):
    """The GraphQL document is larger than allowed (bytes or selections), refused unparsed."""

    code = "QUERY_TOO_LARGE"


class TooManyAliases(LimitExceeded):
    code = "QUERY_TOO_MANY_ALIASES"


class QueryTooDeep(LimitExceeded):
    code = "QUERY_TOO_DEEP"


class QueryTooCostly(LimitExceeded):
    code = "QUERY_TOO_COSTLY"


class TooManyMutations(LimitExceeded):
    """More mutations in one document than allowed; batches go through a batch command."""

    code = "TOO_MANY_MUTATIONS"


class RequestTimeout(LimitExceeded):
    """The request ran out of time and was stopped. A mutation that timed out may still have
    committed: send it again with the same idempotency key to learn its outcome."""

    code = "REQUEST_TIMEOUT"
    retryable = True


class TooManyConnections(LimitExceeded):
    code = "TOO_MANY_CONNECTIONS"


class TooManySubscriptions(LimitExceeded):
    code = "TOO_MANY_SUBSCRIPTIONS"
