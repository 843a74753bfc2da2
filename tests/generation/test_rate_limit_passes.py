"""Every provider request of every pass goes through the one global limiter, under the key of
its provider account (server and API key), whatever the model: through the real mistralai
SDK against the fake server, with the real limiter (in memory) under a recording wrapper."""

import hashlib
import json

import pytest

from generation import pipeline, services
from generation.backends import rate_limit_key
from generation.judge_rater import study_report_judge
from generation.ratelimit import RequestRateLimiter
from generation.testing.fake_mistral import OK_NARRATIVE
from review.models import Report
from tests.generation.test_judge_rater import DOMAINS
from tests.generation.test_two_pass import HOSPITAL, PLANTED, _annotation, _extraction, _verdict
from tests.review.rated_study import rated_study


@pytest.fixture
def acquired(mistral_settings, fake_mistral, monkeypatch):
    """(key, requests the server had received) at each admission by the real limiter."""
    mistral_settings.REDIS_URL = ""
    mistral_settings.GENERATION_RATE_LIMIT_PER_SECOND = 1000
    calls: list[tuple[str, int]] = []
    real_acquire = RequestRateLimiter.acquire

    def recording(self, *, key, tokens, max_wait_seconds):
        calls.append((key, len(fake_mistral.requests)))
        return real_acquire(self, key=key, tokens=tokens, max_wait_seconds=max_wait_seconds)

    monkeypatch.setattr(RequestRateLimiter, "acquire", recording)
    return calls


def test_each_pass_writer_extraction_judge_revision_calls_the_limiter_with_one_key(
    db, acquired, fake_mistral
):
    fake_mistral.script("narrative", PLANTED, OK_NARRATIVE)
    age = _annotation("age", "71", "71 ans")
    fake_mistral.script("extraction", _extraction(HOSPITAL, age), _extraction(HOSPITAL))
    anomaly = {
        "category": "chronology",
        "evidence": "Patient de 71 ans.",
        "explanation": "Né le 19/10/1962 : 62 ans à l'admission.",
        "correction": "Patient de 62 ans.",
    }
    fake_mistral.script("verdict", _verdict(False, anomaly), _verdict(True))
    # The judge on another model of the same provider account (as in the benchmark).
    batch = services.batch_launch(
        count=1, backend="mistral", seed=3, enqueue=False, judge_model="mistral-small-latest"
    )
    assert batch.prompt.passes == "two_pass" and batch.critique
    item = batch.items.get()
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="tok") == "done"
    item.refresh_from_db()
    assert [(p["kind"], p["round"]) for p in item.passes] == [
        ("writer", 0),
        ("extraction", 0),
        ("judge", 0),
        ("revision", 1),
        ("extraction", 1),
        ("judge", 1),
    ]
    assert [r.model for r in fake_mistral.requests] == [
        "mistral-large-latest",
        "mistral-large-latest",
        "mistral-small-latest",
        "mistral-large-latest",
        "mistral-large-latest",
        "mistral-small-latest",
    ]
    # One admission right before each request (the n-th when n-1 had arrived), all six
    # under the account's one key: the judge's model does not get a budget of its own.
    key = rate_limit_key("mistral")
    assert acquired == [(key, n) for n in range(6)]
    assert key == f"{fake_mistral.url.rstrip('/')}|{_fingerprint('test-key')}"


@pytest.fixture
def study(db, coordinator, reviewers):
    return rated_study(
        coordinator=coordinator,
        reviewers=reviewers,
        n_real=2,
        n_synthetic=2,
        score=None,
    )


def test_study_judge_draws_from_the_same_key_as_generation(study, acquired, fake_mistral):
    report = Report.objects.filter(memberships__study=study).order_by("pk").first()
    fake_mistral.script(
        "rating", json.dumps({"scores": [{"domain": d, "score": 5} for d in DOMAINS]})
    )
    outcome = study_report_judge(
        study_id=study.pk, report_id=report.pk, backend="mistral", model="mistral-small-latest"
    )
    assert outcome == "done"
    assert [r.model for r in fake_mistral.requests] == ["mistral-small-latest"]
    # The writer's key, not one of the judge's model.
    assert acquired == [(rate_limit_key("mistral"), 0)]


def test_key_is_the_provider_account_not_the_backend_or_the_model(settings):
    settings.MISTRAL_SERVER_URL, settings.MISTRAL_API_KEY = "http://llm.local:8000/", "k1"
    settings.OPENAI_COMPATIBLE_SERVER_URL = "http://llm.local:8000"
    settings.OPENAI_COMPATIBLE_API_KEY = "k1"
    # Two backends on the same server and key: one budget.
    assert rate_limit_key("mistral") == rate_limit_key("openai_compatible")
    assert rate_limit_key("mistral") == f"http://llm.local:8000|{_fingerprint('k1')}"
    settings.OPENAI_COMPATIBLE_API_KEY = "k2"
    assert rate_limit_key("mistral") != rate_limit_key("openai_compatible")
    settings.MISTRAL_SERVER_URL = ""
    assert rate_limit_key("mistral") == f"https://api.mistral.ai|{_fingerprint('k1')}"


def _fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]
