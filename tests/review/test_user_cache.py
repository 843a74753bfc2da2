"""review.user_cache: the signed-in user and their roles kept in Redis (the real server on
127.0.0.1:6379, a key prefix per test), and every change that must forget them."""

import secrets

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from review import user_cache
from tests.factories import PASSWORD

USER_QUERY = "AS role_rate FROM auth_user u  WHERE u.id = "  # permissions._USER_WITH_ROLES_SQL


@pytest.fixture
def kept_users(settings):
    """Redis as the cache (a prefix of this test's own) with users kept for a minute."""
    prefix = f"test-user-cache-{secrets.token_hex(6)}"
    settings.CACHES = {
        "default": {
            "BACKEND": "synthreports.redis_cache.ReusingRedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
        }
    }
    settings.USER_CACHE_SECONDS = 60  # the keys expire on their own (no FLUSHDB here)


def _continue(client, study):
    """GET a reviewer page (the study's next report), with the queries it made."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("review:continue", args=[study.code]))
    return response, [query["sql"] for query in queries.captured_queries]


def _user_reads(sqls: list[str]) -> int:
    return sum(USER_QUERY in sql for sql in sqls)


def test_a_kept_user_is_not_read_again(kept_users, reviewer_client, open_study):
    first, first_sqls = _continue(reviewer_client, open_study)
    second, second_sqls = _continue(reviewer_client, open_study)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert _user_reads(first_sqls) == 1
    assert _user_reads(second_sqls) == 0
    assert len(second_sqls) == len(first_sqls) - 1


def test_off_every_request_reads_the_user(settings, reviewer_client, open_study):
    settings.USER_CACHE_SECONDS = 0
    for _ in range(2):
        response, sqls = _continue(reviewer_client, open_study)
        assert response.status_code == 302
        assert _user_reads(sqls) == 1


def _kept_then(client, study, change, capture):
    """Keep the reviewer (one request), apply `change` with its commit's callbacks run, and
    return the next request's status."""
    assert _continue(client, study)[0].status_code == 302
    with capture(execute=True):
        change()
    response, sqls = _continue(client, study)
    assert _user_reads(sqls) == 1  # forgotten: read again
    return response


def test_deactivated_reviewer_is_signed_out_at_once(
    kept_users, reviewer_client, reviewer, open_study, django_capture_on_commit_callbacks
):
    def deactivate():
        reviewer.is_active = False
        reviewer.save()

    response = _kept_then(
        reviewer_client, open_study, deactivate, django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "how",
    ["user.groups.remove", "group.user_set.remove", "user.groups.clear", "group.user_set.clear"],
)
def test_reviewer_taken_out_of_the_group_loses_the_role_at_once(
    how, kept_users, reviewer_client, reviewer, open_study, django_capture_on_commit_callbacks
):
    group = Group.objects.get(name="reviewer")
    changes = {
        "user.groups.remove": lambda: reviewer.groups.remove(group),
        "group.user_set.remove": lambda: group.user_set.remove(reviewer),
        "user.groups.clear": lambda: reviewer.groups.clear(),
        "group.user_set.clear": lambda: group.user_set.clear(),
    }
    response = _kept_then(
        reviewer_client, open_study, changes[how], django_capture_on_commit_callbacks
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "how",
    [
        "group.permissions.remove",
        "group.permissions.clear",
        "permission.group_set.remove",
        "permission.group_set.clear",
        "group.delete",
        "permission.delete",
    ],
)
def test_the_group_losing_the_permission_takes_the_role_at_once(
    how, kept_users, reviewer_client, open_study, django_capture_on_commit_callbacks
):
    group = Group.objects.get(name="reviewer")
    rate = Permission.objects.get(content_type__app_label="review", codename="rate")
    changes = {
        "group.permissions.remove": lambda: group.permissions.remove(rate),
        "group.permissions.clear": lambda: group.permissions.clear(),
        "permission.group_set.remove": lambda: rate.group_set.remove(group),
        "permission.group_set.clear": lambda: rate.group_set.clear(),
        "group.delete": lambda: group.delete(),
        "permission.delete": lambda: rate.delete(),
    }
    response = _kept_then(
        reviewer_client, open_study, changes[how], django_capture_on_commit_callbacks
    )
    assert response.status_code == 403


@pytest.mark.parametrize("how", ["user.user_permissions.add", "permission.user_set.add"])
def test_a_permission_granted_to_the_user_gives_the_role_at_once(
    how, kept_users, client, coordinator, open_study, django_capture_on_commit_callbacks
):
    # A coordinator who is not a reviewer: 403, then the "rate" permission granted directly.
    client.login(username=coordinator.username, password=PASSWORD)
    assert _continue(client, open_study)[0].status_code == 403
    rate = Permission.objects.get(content_type__app_label="review", codename="rate")
    with django_capture_on_commit_callbacks(execute=True):
        if how == "user.user_permissions.add":
            coordinator.user_permissions.add(rate)
        else:
            rate.user_set.add(coordinator)
    response, sqls = _continue(client, open_study)
    assert _user_reads(sqls) == 1
    assert response.status_code != 403


def test_a_password_change_signs_other_sessions_out(
    kept_users, reviewer_client, reviewer, open_study, django_capture_on_commit_callbacks
):
    def new_password():
        reviewer.set_password("another-long-passphrase-42")
        reviewer.save()

    response = _kept_then(
        reviewer_client, open_study, new_password, django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_forgetting_waits_for_the_commit(
    kept_users, reviewer_client, reviewer, open_study, django_capture_on_commit_callbacks
):
    _continue(reviewer_client, open_study)
    key = user_cache._user_key(reviewer.pk)
    assert cache.get(key).pk == reviewer.pk
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reviewer.is_active = False
        reviewer.save()
    assert cache.get(key) is not None  # not yet committed: still kept
    assert len(callbacks) == 1
    callbacks[0]()
    assert cache.get(key) is None


def _api_next(api_client, token: str, study):
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(
            "/api/v1/me/next/", {"study": study.code}, HTTP_AUTHORIZATION=f"Token {token}"
        )
    return response, [query["sql"] for query in queries.captured_queries]


def test_api_token_user_kept_and_forgotten(
    kept_users, client, reviewer, open_study, django_capture_on_commit_callbacks
):
    token = Token.objects.create(user=reviewer).key
    first, first_sqls = _api_next(client, token, open_study)
    second, second_sqls = _api_next(client, token, open_study)
    assert first.status_code == second.status_code == 200
    assert first.json()["code"] == second.json()["code"]
    assert sum("JOIN authtoken_token t" in sql for sql in first_sqls) == 1
    assert sum("JOIN authtoken_token t" in sql for sql in second_sqls) == 0
    with django_capture_on_commit_callbacks(execute=True):
        reviewer.is_active = False
        reviewer.save()
    assert _api_next(client, token, open_study)[0].status_code == 401
    # Deleted token: refused, though its user is active and was kept a moment ago.
    with django_capture_on_commit_callbacks(execute=True):
        reviewer.is_active = True
        reviewer.save()
    assert _api_next(client, token, open_study)[0].status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        Token.objects.filter(key=token).delete()
    assert _api_next(client, token, open_study)[0].status_code == 401


def test_a_cache_outage_costs_a_query_not_a_sign_in(settings, reviewer_client, open_study):
    settings.CACHES = {
        "default": {
            "BACKEND": "synthreports.redis_cache.ReusingRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    settings.USER_CACHE_SECONDS = 60
    response, sqls = _continue(reviewer_client, open_study)
    assert response.status_code == 302
    assert response["Location"].startswith("/r/")
    assert _user_reads(sqls) == 1
