import pytest

from generation import frame_format, pipeline, services
from generation.testing.fake_mistral import FakeMistral


@pytest.fixture
def frame_model():
    return frame_format.frame_validate(frame_format.default_frame_data())


@pytest.fixture
def fake_mistral():
    with FakeMistral(slow_seconds=3) as fake:
        yield fake


@pytest.fixture
def mistral_settings(settings, fake_mistral):
    settings.MISTRAL_API_KEY = "test-key"
    settings.MISTRAL_SERVER_URL = fake_mistral.url
    settings.MISTRAL_TIMEOUT_SECONDS = 1.0
    settings.GENERATION_MAX_ATTEMPTS = 3
    settings.GENERATION_RATE_LIMIT_PER_SECOND = 0
    settings.GENERATION_TOKENS_PER_MINUTE = 0
    return settings


@pytest.fixture
def launch(db):
    def _launch(**kwargs):
        kwargs.setdefault("count", 3)
        kwargs.setdefault("seed", 7)
        kwargs.setdefault("backend", "offline")
        kwargs.setdefault("enqueue", False)
        return services.batch_launch(**kwargs)

    return _launch


def process_all(batch, token="t"):
    """Run every item of a batch in-process, as the Celery task would (no retries)."""
    outcomes = []
    for item_id in batch.items.order_by("index").values_list("pk", flat=True):
        outcomes.append(
            pipeline.batch_item_process(item_id=item_id, claim_token=f"{token}{item_id}")
        )
    return outcomes


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2 at Django 6's cost takes ~0.5 s per user created or logged in; these tests
    # are about generation, not passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
