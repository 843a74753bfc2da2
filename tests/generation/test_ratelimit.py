"""Request slots of the global rate limiter: evenly spaced, shared through Redis."""

import os
import uuid

import pytest
import redis

from generation.ratelimit import LocalSlots, RedisSlots, RequestRateLimiter

# Integration tests share this Redis database (TEST_REDIS_URL overrides it).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_local_slots_are_spaced_by_the_interval_and_refused_beyond_the_wait():
    clock = FrozenClock(100.0)
    slots = LocalSlots(clock=clock)
    waits = [slots.reserve("k", interval=0.25, max_wait=0.6) for _ in range(4)]
    assert waits == [0.0, 0.25, 0.5, None]
    clock.now = 100.5
    # The refused call reserved nothing: the next free slot is still 100.75.
    assert slots.reserve("k", interval=0.25, max_wait=0.6) == 0.25
    assert slots.reserve("other", interval=0.25, max_wait=0.6) == 0.0


def test_local_slots_do_not_bank_idle_time():
    clock = FrozenClock(10.0)
    slots = LocalSlots(clock=clock)
    assert slots.reserve("k", interval=0.2, max_wait=1) == 0.0
    clock.now = 60.0
    assert [slots.reserve("k", interval=0.2, max_wait=1) for _ in range(2)] == pytest.approx(
        [0.0, 0.2]
    )


def test_redis_slots_are_shared_between_limiters():
    key = f"test-{uuid.uuid4().hex}"
    first, second = RedisSlots(REDIS_URL), RedisSlots(REDIS_URL)
    try:
        waits = [
            first.reserve(key, interval=0.25, max_wait=0.6),
            second.reserve(key, interval=0.25, max_wait=0.6),
            first.reserve(key, interval=0.25, max_wait=0.6),
            second.reserve(key, interval=0.25, max_wait=0.6),
        ]
    finally:
        redis.Redis.from_url(REDIS_URL).delete(f"synthreports-generation:slots:{key}")
    assert waits[0] == 0.0
    # Redis's clock moves on a little between the calls.
    assert waits[1] == pytest.approx(0.25, abs=0.05)
    assert waits[2] == pytest.approx(0.5, abs=0.05)
    assert waits[3] is None


def test_request_interval_leaves_the_headroom_unused():
    limiter = RequestRateLimiter(
        storage_url="memory://", requests_per_second=5, tokens_per_minute=0, headroom=0.05
    )
    assert limiter.interval == pytest.approx(1 / 4.75)
    assert isinstance(limiter._slots, LocalSlots)
    off = RequestRateLimiter(storage_url="memory://", requests_per_second=0, tokens_per_minute=0)
    assert off.interval == 0.0
    assert off.acquire(key="k", tokens=10, max_wait_seconds=1) < 0.1
