"""Fixtures for tests on committed data (`transactional_db`): live servers, workers."""

import importlib

import pytest
from django.contrib.auth.models import Group, Permission


@pytest.fixture
def roles(transactional_db) -> None:
    """The two role groups. A transactional test flushes the tables after it runs, which
    removes the groups the data migration created; put them back the same way."""
    codenames = importlib.import_module("review.migrations.0003_roles").COORDINATOR_CODENAMES
    coordinators, _ = Group.objects.get_or_create(name="coordinator")
    reviewers, _ = Group.objects.get_or_create(name="reviewer")
    coordinators.permissions.set(
        Permission.objects.filter(content_type__app_label="review", codename__in=codenames)
    )
    reviewers.permissions.set(
        Permission.objects.filter(content_type__app_label="review", codename="rate")
    )


@pytest.fixture
def plain_http_cookies(settings) -> None:
    # A live server on 127.0.0.1 speaks plain HTTP; production marks cookies Secure.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
