"""Rate limits per principal, in Redis: requests per minute and money commands per minute.

A fixed window per (kind, principal): one Redis key, incremented and given its expiry by one
atomic Lua script, so concurrent requests on several API processes count exactly and a key
never outlives its window (bounded memory: one short key per active principal and kind). The
answer past the limit is `RATE_LIMITED` with the seconds until the window ends.

Who is limited: merchants and analysts at the configured rates; admins and operators at
`STAFF_RATE_LIMIT_FACTOR` times them (people at a dashboard in an incident must not be locked
out, a stolen session still cannot run unbounded); walletflow itself (provider webhooks, the
saga, the CLI) never. A rate of 0 turns that limit off. When Redis cannot be reached the limit
is not applied (logged): the ledger's guarantees never depend on it, and payments stop only for
reasons of money.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from walletflow.config import Settings
from walletflow.domain.errors import RateLimited
from walletflow.domain.principals import Principal, Role

log = logging.getLogger(__name__)

WINDOW_MS = 60_000
STAFF_RATE_LIMIT_FACTOR = 10
KEY_PREFIX = "walletflow:ratelimit"
SUBJECT_DIGEST_CHARS = 32

# KEYS[1] the window's counter; ARGV[1] the window in ms. Returns {count, ms left}.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RateKind(StrEnum):
    REQUESTS = "requests"
    MONEY = "money"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    limit_per_min: int
    retry_after_s: int

    @property
    def first_refusal(self) -> bool:
        """The first refused hit of its window: the one worth an audit entry."""
        return not self.allowed and self.count == self.limit_per_min + 1

    def error(self, kind: RateKind) -> RateLimited:
        return RateLimited(
            f"more than {self.limit_per_min} {kind.value} per minute; "
            f"retry after {self.retry_after_s} s",
            retry_after_s=self.retry_after_s,
            limit=kind.value,
        )


ALLOWED = Verdict(allowed=True, count=0, limit_per_min=0, retry_after_s=0)


def rate_key(kind: RateKind, principal: Principal) -> str:
    """A bounded key: the subject (an email, a key id) is hashed, never stored in clear."""
    subject = f"{principal.role.value}\x00{principal.subject}".encode()
    digest = hashlib.sha256(subject).hexdigest()[:SUBJECT_DIGEST_CHARS]
    return f"{KEY_PREFIX}:{kind.value}:{digest}"


class RateLimiter:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._rates = {
            RateKind.REQUESTS: settings.rate_limit_requests_per_min,
            RateKind.MONEY: settings.rate_limit_money_per_min,
        }
        self._script = redis.register_script(_HIT_SCRIPT)

    def limit_for(self, kind: RateKind, principal: Principal) -> int:
        """The principal's limit per minute; 0 means none."""
        if principal.role is Role.SYSTEM:
            return 0
        rate = self._rates[kind]
        return rate * STAFF_RATE_LIMIT_FACTOR if principal.is_staff else rate

    async def hit(self, kind: RateKind, principal: Principal) -> Verdict:
        limit = self.limit_for(kind, principal)
        if limit == 0:
            return ALLOWED
        try:
            answer: Any = await self._script(keys=[rate_key(kind, principal)], args=[WINDOW_MS])
        except (RedisError, OSError) as error:
            log.warning("rate limit not applied (redis: %s)", error.__class__.__name__)
            return ALLOWED
        count, ttl_ms = int(answer[0]), int(answer[1])
        retry_after_s = max(1, -(-ttl_ms // 1000))
        return Verdict(count <= limit, count, limit, retry_after_s)
