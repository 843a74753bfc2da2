"""A self-hosted OpenAI-compatible server as configuration: the fake server stands in."""

from dataclasses import replace

import pytest

from generation import pipeline, services
from generation.backends import BACKENDS
from review.exceptions import InvalidInput
from review.models import Report


@pytest.fixture
def self_hosted(db, settings, fake_mistral, monkeypatch):
    models = {"llama-3.1-70b": (0.0, 0.0), "qwen2.5-72b": (0.05, 0.1)}
    settings.OPENAI_COMPATIBLE_SERVER_URL = fake_mistral.url
    settings.OPENAI_COMPATIBLE_API_KEY = ""
    settings.OPENAI_COMPATIBLE_MODELS = models
    settings.MISTRAL_API_KEY = ""
    settings.MISTRAL_SERVER_URL = ""
    settings.GENERATION_RATE_LIMIT_PER_SECOND = 0
    settings.GENERATION_TOKENS_PER_MINUTE = 0
    # What OPENAI_COMPATIBLE_MODELS gives the registry at start-up.
    monkeypatch.setitem(
        BACKENDS, "openai_compatible", replace(BACKENDS["openai_compatible"], models=models)
    )
    return fake_mistral


def test_self_hosted_writer_with_another_judge_model(self_hosted):
    batch = services.batch_launch(
        count=1,
        backend="openai_compatible",
        seed=3,
        judge_model="qwen2.5-72b",
        enqueue=False,
    )
    # The first listed model is the backend's default.
    assert batch.model == "llama-3.1-70b"
    item = batch.items.get()
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="t") == "done"
    assert [(r.kind, r.model) for r in self_hosted.requests] == [
        ("narrative", "llama-3.1-70b"),
        ("extraction", "llama-3.1-70b"),
        ("verdict", "qwen2.5-72b"),
    ]
    item.refresh_from_db()
    judge = item.passes[2]
    assert judge["cost_eur"] == round(
        (judge["tokens_in"] * 0.05 + judge["tokens_out"] * 0.1) / 1e6, 4
    )
    assert item.passes[0]["cost_eur"] == 0.0
    p = item.report.provenance
    assert (p["backend"], p["model"], p["judge_model"]) == (
        "openai_compatible",
        "llama-3.1-70b",
        "qwen2.5-72b",
    )
    assert Report.objects.count() == 1


def test_unconfigured_self_hosted_server_is_refused_at_launch(self_hosted, settings):
    settings.OPENAI_COMPATIBLE_SERVER_URL = ""
    with pytest.raises(InvalidInput, match="OPENAI_COMPATIBLE_SERVER_URL"):
        services.batch_launch(count=1, backend="openai_compatible", enqueue=False)
    with pytest.raises(InvalidInput, match="Unknown model 'gpt-4o'"):
        services.batch_launch(count=1, backend="openai_compatible", model="gpt-4o", enqueue=False)
