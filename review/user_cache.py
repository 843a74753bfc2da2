"""The signed-in user and their review roles, kept for a minute in the shared cache.

Every signed-in request reads its user and roles (one query, `permissions`): in the
browser's rating flow 8 of a report's ~20 statements, its six score saves being one
statement each (bench/RESULTS.md, round nine). With Redis as the cache
(`USER_CACHE_SECONDS`, on with `CACHE_BACKEND=redis`), the user is read from the cache the
session already comes from.

What keeps a kept user true:
- every change made through the ORM to what the answer depends on (the user row, their
  groups and permissions, a group's permissions, a deleted group or permission, the API
  token) forgets the users concerned, once the change is committed (`signals`);
- a change that bypasses the ORM's signals (`QuerySet.update`, raw SQL) is seen within
  `USER_CACHE_SECONDS`, as is a request that read the old row just before a change was
  committed and kept it just after.
The session check is Django's, on the kept user: a password change still signs every other
session out. Redis then holds the user's password hash beside the sessions it already holds
(each of which signs its bearer in).
"""

import hashlib
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from rest_framework.authtoken.models import Token

logger = logging.getLogger(__name__)


def _user_key(user_id: int) -> str:
    return f"review-user:{user_id}"


def _token_key(token: str) -> str:
    # Keyed by a digest: the cache's keys are listed by tools that need not see API tokens.
    return "review-token-user:" + hashlib.sha256(token.encode()).hexdigest()


def enabled() -> bool:
    return settings.USER_CACHE_SECONDS > 0


def _cached(key: str, read: Callable[[], User | None]) -> User | None:
    if not enabled():
        return read()
    try:
        user = cache.get(key)
    except Exception:  # a cache outage costs a query, never a sign-in
        logger.warning("user cache unavailable: reading the user from the database")
        return read()
    if user is not None:
        return user
    user = read()
    if user is not None:
        try:
            cache.set(key, user, settings.USER_CACHE_SECONDS)
        except Exception:
            logger.warning("user cache unavailable: the user is not kept")
    return user


def user_cached_read(*, user_id: int, read: Callable[[], User | None]) -> User | None:
    """The user `user_id` with their roles: kept, or `read()` from the database and kept."""
    return _cached(_user_key(user_id), read)


def token_user_cached_read(*, token: str, read: Callable[[], User | None]) -> User | None:
    """The user of the API token `token` with their roles, kept as `user_cached_read`."""
    return _cached(_token_key(token), read)


def users_forget(*, user_ids: Iterable[int]) -> None:
    """Forget the kept users `user_ids` (and their API tokens' users) once the current
    transaction commits: forgetting before would let a request keep the old row again."""
    if not enabled():
        return
    ids = {int(user_id) for user_id in user_ids}
    if not ids:
        return
    tokens = list(Token.objects.filter(user_id__in=ids).values_list("key", flat=True))
    keys = [_user_key(user_id) for user_id in ids] + [_token_key(token) for token in tokens]
    transaction.on_commit(lambda: _keys_delete(keys))


def token_forget(*, token: str) -> None:
    """Forget the user kept for the API token `token` (deleted or replaced) after commit."""
    if enabled():
        key = _token_key(token)
        transaction.on_commit(lambda: _keys_delete([key]))


def _keys_delete(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:
        # Kept users then expire on their own, within USER_CACHE_SECONDS.
        logger.warning("user cache unavailable: %d kept users not forgotten", len(keys))
