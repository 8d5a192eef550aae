"""The sandbox rail's scripts and what they answer, as pure functions (no HTTP, no clock).

`sandbox` serves HTTP, keeps the payouts in memory and sleeps; it asks these functions what to
do: which script a payout gets (`choose_script`), whether a submit is refused before any payout
exists (`submit_refusal`), the status a new payout is recorded with (`initial_status`), how a
submit or a query is answered (`submit_answer`, `query_answer`), what a `callback_later`
payout becomes (`callback_outcome`), and how long to wait between webhook attempts
(`callback_delay_s`). The behaviours are documented in `sandbox`'s module docstring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from walletflow.domain.errors import ValidationError
from walletflow.providers.events import ProviderEventType
from walletflow.providers.port import MERCHANT_ID_PATTERN, PayoutRequest

MAX_HANG_S = 120.0
MAX_DELAY_S = 3_600.0
MAX_UNKNOWN_COUNT = 1_000
MAX_REASON_LENGTH = 512
MAX_PENDING_CALLBACKS = 10_000
CALLBACK_BACKOFF_BASE_S = 0.2
CALLBACK_BACKOFF_CAP_S = 5.0
MAX_BACKOFF_EXPONENT = 32
DEFAULT_REASON = "declined by sandbox"

SUCCEEDED = "succeeded"
FAILED = "failed"
PENDING = "pending"
SERVER_ERROR = 500
"""The status code of the scripted server error (its body is fixed: see `sandbox`)."""


class Behaviour(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    REJECT = "reject"
    HANG = "hang"
    ERROR_500 = "error_500"
    UNKNOWN_THEN_SUCCEED = "unknown_then_succeed"
    UNKNOWN_THEN_FAIL = "unknown_then_fail"
    CALLBACK_LATER = "callback_later"


UNKNOWN_FIRST = frozenset({Behaviour.UNKNOWN_THEN_SUCCEED, Behaviour.UNKNOWN_THEN_FAIL})

_SCRIPT_FIELDS = {
    "behaviour",
    "reason",
    "hang_s",
    "then",
    "hang_queries",
    "unknown_count",
    "unknown_as",
    "delay_s",
    "outcome",
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "then": (SUCCEEDED, FAILED, PENDING),
    "unknown_as": ("error_500", PENDING),
    "outcome": (SUCCEEDED, FAILED),
}


@dataclass(frozen=True, slots=True)
class Script:
    behaviour: Behaviour = Behaviour.SUCCEED
    reason: str = DEFAULT_REASON
    hang_s: float = 30.0
    then: str = SUCCEEDED
    hang_queries: bool = False
    unknown_count: int = 2
    unknown_as: str = "error_500"
    delay_s: float = 1.0
    outcome: str = SUCCEEDED

    @classmethod
    def parse(cls, data: Any) -> Script:
        """Validate a script body; raise `ValidationError` naming the bad field."""
        if not isinstance(data, dict):
            raise ValidationError("a script must be an object", field_errors={"script": "object"})
        errors: dict[str, str] = {}
        for key in sorted(set(data) - _SCRIPT_FIELDS):
            errors[key] = "unknown field"
        values: dict[str, Any] = {}
        try:
            values["behaviour"] = Behaviour(str(data.get("behaviour")))
        except (ValueError, TypeError):
            errors["behaviour"] = f"must be one of {', '.join(b.value for b in Behaviour)}"
        if "reason" in data:
            reason = data["reason"]
            if not isinstance(reason, str) or not 0 < len(reason) <= MAX_REASON_LENGTH:
                errors["reason"] = (
                    f"must be a non-empty string of at most {MAX_REASON_LENGTH} characters"
                )
            else:
                values["reason"] = reason
        for key, upper in (("hang_s", MAX_HANG_S), ("delay_s", MAX_DELAY_S)):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    errors[key] = "must be a number of seconds"
                elif not 0 <= value <= upper:
                    errors[key] = f"must be within [0, {upper:g}]"
                else:
                    values[key] = float(value)
        if "unknown_count" in data:
            value = data["unknown_count"]
            if isinstance(value, bool) or not isinstance(value, int):
                errors["unknown_count"] = "must be an integer"
            elif not 0 <= value <= MAX_UNKNOWN_COUNT:
                errors["unknown_count"] = f"must be within [0, {MAX_UNKNOWN_COUNT}]"
            else:
                values["unknown_count"] = value
        for key, allowed in _CHOICES.items():
            if key in data:
                if data[key] not in allowed:
                    errors[key] = f"must be one of {', '.join(allowed)}"
                else:
                    values[key] = data[key]
        if "hang_queries" in data:
            if not isinstance(data["hang_queries"], bool):
                errors["hang_queries"] = "must be a boolean"
            else:
                values["hang_queries"] = data["hang_queries"]
        if errors:
            raise ValidationError("invalid script", field_errors=errors)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {
            "behaviour": self.behaviour.value,
            "reason": self.reason,
            "hang_s": self.hang_s,
            "then": self.then,
            "hang_queries": self.hang_queries,
            "unknown_count": self.unknown_count,
            "unknown_as": self.unknown_as,
            "delay_s": self.delay_s,
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True)
class Rule:
    script: Script
    merchant_id: str | None = None
    amount_minor: int | None = None

    @classmethod
    def parse(cls, data: Any) -> Rule:
        """Validate a rule body (`merchant_id`?, `amount_minor`?, `script`)."""
        if not isinstance(data, dict):
            raise ValidationError("a rule must be an object", field_errors={"body": "not object"})
        errors: dict[str, str] = {}
        merchant_id = data.get("merchant_id")
        amount_minor = data.get("amount_minor")
        if merchant_id is not None and (
            not isinstance(merchant_id, str) or not MERCHANT_ID_PATTERN.match(merchant_id)
        ):
            errors["merchant_id"] = "must be a merchant id"
        if amount_minor is not None and (
            isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0
        ):
            errors["amount_minor"] = "must be a positive integer"
        script: Script | None = None
        try:
            script = Script.parse(data.get("script"))
        except ValidationError as error:
            errors.update({f"script.{key}": reason for key, reason in error.field_errors.items()})
        if errors or script is None:
            raise ValidationError("invalid rule", field_errors=errors)
        return cls(script=script, merchant_id=merchant_id, amount_minor=amount_minor)

    def matches(self, request: PayoutRequest) -> bool:
        return (self.merchant_id is None or self.merchant_id == request.merchant_id) and (
            self.amount_minor is None or self.amount_minor == request.amount_minor
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "amount_minor": self.amount_minor,
            "script": self.script.to_json(),
        }


def choose_script(
    request: PayoutRequest,
    scripts: Mapping[str, Script],
    rules: Sequence[Rule],
    default: Script,
) -> Script:
    """The payout's own script, else the first matching rule's, else the default."""
    if request.payout_id in scripts:
        return scripts[request.payout_id]
    for rule in rules:
        if rule.matches(request):
            return rule.script
    return default


@dataclass(frozen=True, slots=True)
class Refusal:
    """A submit refused before any payout is recorded."""

    status_code: int
    code: str
    message: str


def submit_refusal(script: Script, *, pending_callbacks: int) -> Refusal | None:
    """`reject` refuses as a validation error (422); a `callback_later` payout is refused (503)
    while the bounded set of pending callbacks is full."""
    if script.behaviour is Behaviour.REJECT:
        return Refusal(422, "INVALID_DESTINATION", script.reason)
    if script.behaviour is Behaviour.CALLBACK_LATER and pending_callbacks >= (
        MAX_PENDING_CALLBACKS
    ):
        return Refusal(503, "UNAVAILABLE", "too many pending callbacks")
    return None


def initial_status(script: Script) -> str:
    """The status a new payout is recorded with."""
    behaviour = script.behaviour
    if behaviour is Behaviour.SUCCEED:
        return SUCCEEDED
    if behaviour is Behaviour.FAIL:
        return FAILED
    if behaviour is Behaviour.HANG:
        return script.then
    return PENDING


def reason_for(status: str, script: Script) -> str | None:
    """A payout carries the script's reason only while it is failed."""
    return script.reason if status == FAILED else None


@dataclass(frozen=True, slots=True)
class Answer:
    """How one call is answered: wait `delay_s` (None: answer at once; `hang` waits even when
    it is 0), record the payout as `becomes` (if set), then answer `status_code` — the scripted
    server error, or the payout's wire form shown with `shown_status` (None: its own status)."""

    status_code: int
    delay_s: float | None = None
    shown_status: str | None = None
    becomes: str | None = None

    def __post_init__(self) -> None:
        assert self.status_code in (200, 201, 202, SERVER_ERROR), self.status_code
        assert self.delay_s is None or self.delay_s >= 0.0, self.delay_s

    @property
    def is_server_error(self) -> bool:
        return self.status_code == SERVER_ERROR


def submit_answer(script: Script, status: str, *, first: bool) -> Answer:
    """The answer to a submit of a payout recorded as `status`; `first` for its first submit
    (201), a resubmit of the same payout answers 200; a pending payout answers 202."""
    behaviour = script.behaviour
    delay_s = script.hang_s if behaviour is Behaviour.HANG else None
    if behaviour is Behaviour.ERROR_500:
        return Answer(SERVER_ERROR, delay_s)
    if behaviour in UNKNOWN_FIRST and status == PENDING and script.unknown_as == "error_500":
        return Answer(SERVER_ERROR, delay_s)
    status_code = 202 if status == PENDING else (201 if first else 200)
    return Answer(status_code, delay_s)


def query_answer(script: Script, status: str, *, queries: int) -> Answer:
    """The answer to the `queries`-th query (counting this one) of a payout recorded as
    `status`. `unknown_then_*` answers `unknown_as` for the first `unknown_count` queries, then
    settles the payout on its final status."""
    assert queries >= 1
    behaviour = script.behaviour
    delay_s = script.hang_s if behaviour is Behaviour.HANG and script.hang_queries else None
    if behaviour is Behaviour.ERROR_500:
        return Answer(SERVER_ERROR, delay_s)
    if behaviour in UNKNOWN_FIRST:
        if queries <= script.unknown_count:
            if script.unknown_as == "error_500":
                return Answer(SERVER_ERROR, delay_s)
            return Answer(200, delay_s, shown_status=PENDING)
        if status == PENDING:
            final = SUCCEEDED if behaviour is Behaviour.UNKNOWN_THEN_SUCCEED else FAILED
            return Answer(200, delay_s, becomes=final)
    return Answer(200, delay_s)


def callback_outcome(script: Script) -> tuple[str, ProviderEventType]:
    """What a `callback_later` payout becomes after its delay, and the webhook announcing it."""
    event_type = (
        ProviderEventType.PAYOUT_SUCCEEDED
        if script.outcome == SUCCEEDED
        else ProviderEventType.PAYOUT_FAILED
    )
    return script.outcome, event_type


def callback_delay_s(attempt: int) -> float:
    """Wait after the `attempt`-th failed webhook attempt (0-based): capped exponential."""
    assert attempt >= 0
    exponent = min(attempt, MAX_BACKOFF_EXPONENT)
    return float(min(CALLBACK_BACKOFF_CAP_S, CALLBACK_BACKOFF_BASE_S * 2**exponent))
