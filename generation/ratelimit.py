"""One rate limit for all workers: requests per second and tokens per minute.

Celery's own `rate_limit` is per worker; two workers would send twice the allowed rate.
This limiter keeps its counters in Redis (`REDIS_URL`) with the `limits` package, so every
worker process draws from the same budget. Requests use a moving window (exact: never
more than N starts in any window of one second); tokens a sliding-window counter, which
takes costs of thousands without storing one entry per token. With the embedded
file-system broker and no REDIS_URL the limiter is in memory, i.e. per process, which is
right for the single demo worker.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

NAMESPACE = "synthreports-generation"


class RateLimitTimeout(Exception):
    """The budget did not free up within the wait allowed; try again later."""


def _per_second_item(rate: float) -> RateLimitItem | None:
    if rate <= 0:
        return None
    if rate >= 1:
        return RateLimitItemPerSecond(math.floor(rate), namespace=NAMESPACE)
    # 0.5/s becomes one request per 2 seconds.
    return RateLimitItemPerSecond(1, math.ceil(1 / rate), namespace=NAMESPACE)


@dataclass
class RequestRateLimiter:
    storage_url: str
    requests_per_second: float
    tokens_per_minute: int

    def __post_init__(self) -> None:
        storage = storage_from_string(self.storage_url)
        self._requests = MovingWindowRateLimiter(storage)
        self._tokens = SlidingWindowCounterRateLimiter(storage)
        self._request_item = _per_second_item(self.requests_per_second)
        self._token_item = (
            RateLimitItemPerMinute(self.tokens_per_minute, namespace=NAMESPACE)
            if self.tokens_per_minute > 0
            else None
        )

    def acquire(self, *, key: str, tokens: int, max_wait_seconds: float) -> float:
        """Block until one request (and `tokens` tokens) fit the budget; return the wait.

        Raises RateLimitTimeout after `max_wait_seconds`, so a task gives its worker back
        and retries later instead of holding it.
        """
        started = time.monotonic()
        cost = min(max(tokens, 1), self.tokens_per_minute) if self._token_item else 0
        while True:
            tokens_ok = self._token_item is None or self._tokens.test(
                self._token_item, key, cost=cost
            )
            if tokens_ok and (
                self._request_item is None or self._requests.hit(self._request_item, key)
            ):
                if self._token_item is not None:
                    self._tokens.hit(self._token_item, key, cost=cost)
                return time.monotonic() - started
            waited = time.monotonic() - started
            if waited >= max_wait_seconds:
                raise RateLimitTimeout(f"rate limit budget busy for {waited:.0f} s")
            time.sleep(0.02)

    def charge_tokens(self, *, key: str, tokens: int) -> None:
        """Add tokens used beyond the estimate charged in `acquire`."""
        if self._token_item is not None and tokens > 0:
            self._tokens.hit(self._token_item, key, cost=min(tokens, self.tokens_per_minute))


_limiter: RequestRateLimiter | None = None
_limiter_config: tuple | None = None


def limiter_get() -> RequestRateLimiter:
    global _limiter, _limiter_config
    config = (
        settings.REDIS_URL or "memory://",
        settings.GENERATION_RATE_LIMIT_PER_SECOND,
        settings.GENERATION_TOKENS_PER_MINUTE,
    )
    if _limiter is None or config != _limiter_config:
        _limiter = RequestRateLimiter(
            storage_url=config[0], requests_per_second=config[1], tokens_per_minute=config[2]
        )
        _limiter_config = config
    return _limiter
