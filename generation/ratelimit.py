"""One rate limit for all workers: requests per second and tokens per minute.

Celery's own `rate_limit` is per worker; two workers would send twice the allowed rate.
This limiter keeps its state in Redis (`REDIS_URL`), so every worker process draws from the
same budget. Requests are spaced evenly (GCRA: each request reserves the next free slot,
1/rate apart, in one atomic Redis script using Redis's clock, then sleeps until it), a
little under the configured rate (GENERATION_RATE_LIMIT_HEADROOM): the provider counts
arrivals, which lag our admissions by a few varying milliseconds, and a limiter running
exactly at the limit drew 429s from a server enforcing it strictly. Tokens use a
sliding-window counter of the `limits` package, which takes costs of thousands without
storing one entry per token. With the embedded file-system broker and no REDIS_URL the
limiter is in memory, i.e. per process, which is right for the single demo worker.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

NAMESPACE = "synthreports-generation"


class RateLimitTimeout(Exception):
    """The budget did not free up within the wait allowed; try again later."""


# KEYS[1]: the key's theoretical arrival time (µs, Redis clock). ARGV: interval µs, longest
# wait µs. Reserves max(now, TAT) unless that is too far ahead; returns the wait in µs,
# or -1 (nothing reserved).
_RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if slot - now > tonumber(ARGV[2]) then
  return -1
end
redis.call('SET', KEYS[1], string.format('%d', slot + interval), 'PX',
           math.floor((slot + interval - now) / 1000) + 1000)
return slot - now
"""


class RedisSlots:
    """Request slots shared by every process through Redis."""

    def __init__(self, url: str) -> None:
        self._reserve = redis.Redis.from_url(url).register_script(_RESERVE_SCRIPT)

    def reserve(self, key: str, *, interval: float, max_wait: float) -> float | None:
        wait_us = int(
            self._reserve(
                keys=[f"{NAMESPACE}:slots:{key}"],
                args=[int(interval * 1e6), int(max_wait * 1e6)],
            )
        )
        return None if wait_us < 0 else wait_us / 1e6


class LocalSlots:
    """The same reservations within one process (no Redis: the demo's single worker)."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, *, interval: float, max_wait: float) -> float | None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(key, now))
            if slot - now > max_wait:
                return None
            self._next[key] = slot + interval
            return slot - now


@dataclass
class RequestRateLimiter:
    storage_url: str
    requests_per_second: float
    tokens_per_minute: int
    # Fraction of the rate left unused so that arrival jitter stays within the limit.
    headroom: float = 0.05

    def __post_init__(self) -> None:
        storage = storage_from_string(self.storage_url)
        self._slots: RedisSlots | LocalSlots = (
            RedisSlots(self.storage_url)
            if self.storage_url.startswith(("redis://", "rediss://", "unix://"))
            else LocalSlots()
        )
        self._tokens = SlidingWindowCounterRateLimiter(storage)
        self.interval = (
            1 / (self.requests_per_second * (1 - self.headroom))
            if self.requests_per_second > 0
            else 0.0
        )
        self._token_item = (
            RateLimitItemPerMinute(self.tokens_per_minute, namespace=NAMESPACE)
            if self.tokens_per_minute > 0
            else None
        )

    def acquire(self, *, key: str, tokens: int, max_wait_seconds: float) -> float:
        """Block until one request (and `tokens` tokens) fit the budget; return the wait.

        Raises RateLimitTimeout when the budget will not free up within `max_wait_seconds`,
        so a task gives its worker back and retries later instead of holding it.
        """
        started = time.monotonic()
        cost = min(max(tokens, 1), self.tokens_per_minute) if self._token_item else 0
        while self._token_item is not None and not self._tokens.test(
            self._token_item, key, cost=cost
        ):
            waited = time.monotonic() - started
            if waited >= max_wait_seconds:
                raise RateLimitTimeout(f"token budget busy for {waited:.0f} s")
            time.sleep(0.05)
        if self.interval:
            remaining = max_wait_seconds - (time.monotonic() - started)
            wait = self._slots.reserve(key, interval=self.interval, max_wait=remaining)
            if wait is None:
                raise RateLimitTimeout(
                    f"no request slot free within {max_wait_seconds:.0f} s at "
                    f"{self.requests_per_second:g} requests/s"
                )
            time.sleep(wait)
        if self._token_item is not None:
            self._tokens.hit(self._token_item, key, cost=cost)
        return time.monotonic() - started

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
        settings.GENERATION_RATE_LIMIT_HEADROOM,
    )
    if _limiter is None or config != _limiter_config:
        _limiter = RequestRateLimiter(
            storage_url=config[0],
            requests_per_second=config[1],
            tokens_per_minute=config[2],
            headroom=config[3],
        )
        _limiter_config = config
    return _limiter
