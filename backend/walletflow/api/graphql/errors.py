"""Typed error results: every `WalletflowError` maps to one GraphQL type with its stable `code`.

Mutations return `<Command>Result = CommandSuccess | ValidationError | InsufficientFunds | …`;
never a bare string error. The code travels unchanged from where the error was raised.
"""

from __future__ import annotations

from typing import Any

import strawberry

from walletflow.api.graphql.scalars import JSON
from walletflow.domain import errors as e


@strawberry.type(description="One bad input field: its path (camelCase) and the reason.")
class FieldError:
    path: str
    message: str


@strawberry.interface(name="Error", description="Every typed error: a stable code and a message.")
class ErrorBase:
    code: str
    message: str
    retryable: bool
    details: JSON | None


@strawberry.type(name="ValidationError", description="Bad input, with every bad field by path.")
class ValidationProblem(ErrorBase):
    field_errors: list[FieldError]


@strawberry.type(description="The ledger refused an overdraft (INSUFFICIENT_FUND).")
class InsufficientFunds(ErrorBase):
    pass


@strawberry.type(description="The core wallet is not enabled for this scope.")
class FlagDenied(ErrorBase):
    pass


@strawberry.type(description="The idempotency key was used before with a different request.")
class IdempotencyKeyReused(ErrorBase):
    pass


@strawberry.type(description="Something the command names does not exist.")
class NotFound(ErrorBase):
    pass


@strawberry.type(description="The caller's role may not run this command on this data.")
class Forbidden(ErrorBase):
    pass


@strawberry.type(description="The caller is not signed in, or its credentials are no longer valid.")
class Unauthenticated(ErrorBase):
    pass


@strawberry.type(description="The request collides with existing state (reference, id, revert).")
class Conflict(ErrorBase):
    pass


@strawberry.type(description="The object is not in a state that allows this transition.")
class IllegalState(ErrorBase):
    pass


@strawberry.type(description="The FX quote expired; ask for a new one.")
class QuoteExpired(ErrorBase):
    pass


@strawberry.type(description="A dependency is unreachable; retry with the same idempotency key.")
class Unavailable(ErrorBase):
    pass


@strawberry.type(description="Too many requests or money commands this minute (RATE_LIMITED).")
class RateLimited(ErrorBase):
    retry_after_s: int
    """Seconds until the window ends; the same idempotency key is safe to send again."""


@strawberry.type(description="Any other typed failure (script, provider, rate); see `code`.")
class CommandFailed(ErrorBase):
    pass


ERROR_TYPES: tuple[type[ErrorBase], ...] = (
    ValidationProblem,
    InsufficientFunds,
    FlagDenied,
    IdempotencyKeyReused,
    NotFound,
    Forbidden,
    Unauthenticated,
    Conflict,
    IllegalState,
    QuoteExpired,
    Unavailable,
    RateLimited,
    CommandFailed,
)

# Most specific first: the first class the error is an instance of wins.
_MAPPING: tuple[tuple[type[e.WalletflowError], type[ErrorBase]], ...] = (
    (e.ValidationError, ValidationProblem),
    (e.InsufficientFunds, InsufficientFunds),
    (e.FlagDenied, FlagDenied),
    (e.IdempotencyKeyReused, IdempotencyKeyReused),
    (e.NotFound, NotFound),
    (e.Forbidden, Forbidden),
    (e.Unauthenticated, Unauthenticated),
    (e.Conflict, Conflict),
    (e.ReferenceConflict, Conflict),
    (e.AlreadyReverted, Conflict),
    (e.QuoteAlreadyBooked, Conflict),
    (e.IllegalStateTransition, IllegalState),
    (e.QuoteExpired, QuoteExpired),
    (e.Unavailable, Unavailable),
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_graphql_error(error: e.WalletflowError) -> ErrorBase:
    kind: type[ErrorBase] = CommandFailed
    for domain_type, graphql_type in _MAPPING:
        if isinstance(error, domain_type):
            kind = graphql_type
            break
    details: dict[str, Any] | None = dict(error.details) or None
    json_details = None if details is None else JSON(details)
    if isinstance(error, e.RateLimited):
        return RateLimited(
            code=error.code,
            message=error.message,
            retryable=error.retryable,
            details=json_details,
            retry_after_s=error.retry_after_s,
        )
    if kind is ValidationProblem:
        assert isinstance(error, e.ValidationError)
        field_errors = [
            FieldError(path=camel(path), message=reason)
            for path, reason in sorted(error.field_errors.items())
        ]
        return ValidationProblem(
            code=error.code,
            message=error.message,
            retryable=error.retryable,
            details=json_details,
            field_errors=field_errors,
        )
    return kind(
        code=error.code, message=error.message, retryable=error.retryable, details=json_details
    )
