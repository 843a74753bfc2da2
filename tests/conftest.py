import random
import types

import pytest
from django.conf import settings
from django.utils import translation

from review import services
from review.models import Study
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    ReportFactory,
    ReviewerFactory,
    SyntheticReportFactory,
)


@pytest.fixture
def seeded_codes(monkeypatch):
    """Report, study and assignment codes drawn from a seeded stream instead of `secrets`.

    The leak audit asks whether codes differ by source at p < 0.01. On truly random codes
    a clean study fails that about once in a hundred runs (a false alarm the audit accepts
    by design), which made the tests that assert a clean audit fail one CI run in fifty.
    Seeded, the codes are still uniform draws, and each test sees the same ones every run."""
    stream = random.Random(20261201)
    monkeypatch.setattr(
        "review.models.secrets", types.SimpleNamespace(token_bytes=stream.randbytes)
    )


@pytest.fixture
def coordinator(db):
    return CoordinatorFactory()


@pytest.fixture
def reviewers(db):
    return [ReviewerFactory(), ReviewerFactory()]


@pytest.fixture
def reviewer(reviewers):
    return reviewers[0]


@pytest.fixture
def other_reviewer(reviewers):
    return reviewers[1]


def make_open_study(*, coordinator, reviewers, n_real=4, n_synthetic=4, k=2, seed=11) -> Study:
    study = services.study_create(
        name="Test study", created_by=coordinator, raters_per_report=k, seed=seed
    )
    reports = ReportFactory.create_batch(n_real) + SyntheticReportFactory.create_batch(n_synthetic)
    services.study_reports_add(study=study, reports=reports)
    services.study_reviewers_set(study=study, reviewers=reviewers, actor=coordinator)
    return services.study_open(study=study, actor=coordinator)


@pytest.fixture
def open_study(coordinator, reviewers):
    return make_open_study(coordinator=coordinator, reviewers=reviewers)


@pytest.fixture
def reviewer_client(client, reviewer):
    client.login(username=reviewer.username, password=PASSWORD)
    return client


@pytest.fixture
def coordinator_client(client, coordinator):
    client.login(username=coordinator.username, password=PASSWORD)
    return client


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2's deliberate slowness buys nothing in tests and costs seconds per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language_after_each_test():
    # A French request or an explicit activate() leaves the thread's language set: without this
    # reset, a test that asserts English text fails when it happens to run after a French one.
    yield
    translation.activate(settings.LANGUAGE_CODE)
