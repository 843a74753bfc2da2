"""synthreports.redis_cache: Django's Redis cache with one redis-py client per pool, on the
real Redis server (127.0.0.1:6379)."""

import secrets

import redis

from synthreports.redis_cache import ReusingRedisCache


def _cache() -> ReusingRedisCache:
    # A prefix of its own: nothing else's keys are read or written.
    return ReusingRedisCache(
        "redis://127.0.0.1:6379/0", {"KEY_PREFIX": f"test-{secrets.token_hex(6)}"}
    )


def test_one_client_per_pool_serves_every_operation():
    cache = _cache()
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is first
    assert isinstance(first, redis.Redis)
    assert first.connection_pool is cache._cache._pools[0]


def test_it_stores_and_reads_back_as_django_s_cache_does():
    cache = _cache()
    cache.set("session", {"_auth_user_id": "7"}, 30)
    assert cache.get("session") == {"_auth_user_id": "7"}
    assert cache.get_many(["session", "missing"]) == {"session": {"_auth_user_id": "7"}}
    assert cache.incr(cache.add("n", 1) and "n") == 2
    cache.delete_many(["session", "n"])
    assert cache.get("session") is None
