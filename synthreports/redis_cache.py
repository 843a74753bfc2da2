# django-stubs do not declare the private attributes this subclass works with.
# mypy: disable-error-code="attr-defined"
"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` object for every cache
operation; building one costs ~0.14 ms of CPU (its table of response callbacks), more than
the GET it serves (~0.06 ms), and every signed-in request reads its session from the cache.
A `redis.Redis` object is safe to share between threads (each command borrows a connection
from the pool), so one per pool is kept. Same pools, same options, same behaviour.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            self._clients[index] = self._client(connection_pool=self._pools[index])
        return self._clients[index]


class ReusingRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> ReusingRedisCacheClient:
        return ReusingRedisCacheClient(self._servers, **self._options)
