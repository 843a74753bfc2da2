"""Who may do what: reviewers rate, coordinators set up studies and read results.

One module for the two roles and every way they are checked: the role read itself
(`user_is_coordinator`, `user_is_reviewer`), the page decorators and the API's permission
classes. A role is a Django permission ("review.coordinate", "review.rate") granted to
the user or to one of their groups, so an administrator manages it in the admin.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_htmx.middleware import HtmxDetails
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from review import user_cache

ROLE_PERMISSIONS = ("coordinate", "rate")


def _roles_sql(*, codenames: str, user_id: str) -> str:
    """Which of the review permissions a user holds, directly or through a group: the
    permissions whose codename is in `codenames` (SQL) held by the user `user_id` (SQL: a
    placeholder or a column). Written in SQL because every request runs it: the ORM's
    version (a DISTINCT over two outer joins) cost ~1.8 ms to compose, plan and run, this
    one ~0.8 ms. Portable (PostgreSQL, SQLite)."""
    user_permissions = User.user_permissions.through._meta
    user_groups = User.groups.through._meta
    group_permissions = Group.permissions.through._meta

    def column(meta, name: str) -> str:
        return meta.get_field(name).column

    return f"""
SELECT p.codename FROM {Permission._meta.db_table} p
JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
WHERE ct.app_label = 'review' AND p.codename IN ({codenames}) AND (
  EXISTS (SELECT 1 FROM {user_permissions.db_table} up
           WHERE up.{column(user_permissions, "permission")} = p.id
             AND up.{column(user_permissions, "user")} = {user_id})
  OR EXISTS (SELECT 1 FROM {user_groups.db_table} ug
              JOIN {group_permissions.db_table} gp
                ON gp.{column(group_permissions, "group")} = ug.{column(user_groups, "group")}
             WHERE gp.{column(group_permissions, "permission")} = p.id
               AND ug.{column(user_groups, "user")} = {user_id}))
"""  # noqa: S608 (names from the models, values bound)


_ROLES_SQL = _roles_sql(codenames=", ".join(["%s"] * len(ROLE_PERMISSIONS)), user_id="%s")


def _role_columns_sql(user_id_column: str) -> str:
    """The same rule as `_ROLES_SQL`, as one boolean column per role of the user whose id is
    in `user_id_column`: what lets the user and their roles come back in one query."""
    return ",\n".join(
        # Literals, not parameters: the role names are this module's constants.
        f"EXISTS ({_roles_sql(codenames=f"'{codename}'", user_id=user_id_column)}) "
        f"AS role_{codename}"
        for codename in ROLE_PERMISSIONS
    )


def _users_with_roles_sql(*, join: str, where: str) -> str:
    user_columns = ", ".join(f"u.{field.column}" for field in User._meta.concrete_fields)
    return (
        f"SELECT {user_columns}, {_role_columns_sql('u.id')} "  # noqa: S608 (names from the models)
        f"FROM {User._meta.db_table} u {join} WHERE {where}"
    )


_USER_WITH_ROLES_SQL = _users_with_roles_sql(join="", where="u.id = %s")
_TOKEN_USER_WITH_ROLES_SQL = _users_with_roles_sql(
    join=f"JOIN {Token._meta.db_table} t ON t.user_id = u.id", where="t.key = %s"
)


_USER_ATTNAMES = [field.attname for field in User._meta.concrete_fields]


def _user_with_roles(sql: str, param: int | str) -> User | None:
    """The user row and role columns of `sql`, as a User whose roles `_review_roles` then
    answers without a query. A plain cursor and `from_db`: a raw() queryset spent more
    CPU mapping its columns than the query took."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [param])
        row = cursor.fetchone()
    if row is None:
        return None
    values, flags = row[: len(_USER_ATTNAMES)], row[len(_USER_ATTNAMES) :]
    user = User.from_db(connection.alias, _USER_ATTNAMES, values)
    granted = frozenset(c for c, flag in zip(ROLE_PERMISSIONS, flags, strict=True) if flag)
    user._review_roles_cache = _roles_by_rule(user, granted)  # type: ignore[attr-defined]
    return user


class RoleReadingModelBackend(ModelBackend):
    """Django's ModelBackend, whose session lookup also reads the user's review roles in
    the same query: every signed-in page checks a role, so each request makes one query
    for the user where it made two, and none while the user is kept in the shared cache
    (`user_cache`). Logging in is ModelBackend's, unchanged."""

    def get_user(self, user_id):
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None  # ModelBackend's get() would find no user either
        user = user_cache.user_cached_read(
            user_id=user_id, read=lambda: _user_with_roles(_USER_WITH_ROLES_SQL, user_id)
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        return user


class RoleReadingTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, reading the token's user and their review roles in one
    query (two before, plus DRF's token read), or from the shared cache (`user_cache`).
    Same answers: 401 for an unknown token or an inactive user."""

    def authenticate_credentials(self, key):
        user = user_cache.token_user_cached_read(
            token=key, read=lambda: _user_with_roles(_TOKEN_USER_WITH_ROLES_SQL, key)
        )
        if user is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return (user, Token(key=key, user=user))


def _review_roles(user: User) -> frozenset[str]:
    """The user's review permissions ("coordinate", "rate") with ModelBackend's rules
    (active users only; superusers have all; granted to the user or to one of their groups),
    read in one query and kept on the user object for the rest of the request. Every page
    checks a role, so this is one query per request rather than Django's two."""
    cached = getattr(user, "_review_roles_cache", None)
    if cached is not None:
        return cached
    granted: frozenset[str] = frozenset()
    if user.is_active and not user.is_superuser:
        with connection.cursor() as cursor:
            cursor.execute(_ROLES_SQL, [*ROLE_PERMISSIONS, user.pk, user.pk])
            granted = frozenset(codename for (codename,) in cursor.fetchall())
    roles = _roles_by_rule(user, granted)
    user._review_roles_cache = roles  # type: ignore[attr-defined]
    return roles


def _roles_by_rule(user: User, granted: frozenset[str]) -> frozenset[str]:
    if not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(ROLE_PERMISSIONS)
    return granted


def user_is_coordinator(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and "coordinate" in _review_roles(user))


def user_is_reviewer(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and "rate" in _review_roles(user))


# --- pages ---------------------------------------------------------------------------------


class AuthenticatedRequest(HttpRequest):
    """What views behind the decorators below receive (for type checkers)."""

    user: User
    htmx: HtmxDetails


def coordinator_required(view: Callable) -> Callable:
    # login_required first: an anonymous visitor is sent to the login page, while a
    # signed-in user without the role gets 403 (logging in again would not help them).
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_is_coordinator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def reviewer_required(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_is_reviewer(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- API (/api/v1/) ------------------------------------------------------------------------


class IsReviewer(BasePermission):
    message = "Only reviewers can use this endpoint."

    def has_permission(self, request, view):
        return user_is_reviewer(request.user)


class IsCoordinator(BasePermission):
    message = "Only coordinators can use this endpoint."

    def has_permission(self, request, view):
        return user_is_coordinator(request.user)


def request_user(request: Request) -> User:
    """The authenticated user of an API request (the permission classes have already
    refused anonymous ones): narrows the type for the services' keyword arguments."""
    user = request.user
    assert isinstance(user, User)
    return user
