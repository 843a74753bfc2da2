"""The critique's judge on another backend than the writer: chosen on the page, the API and
the CLI, checked against the BACKENDS registry, and called on its own server."""

from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from generation import pipeline, pricing, services
from generation.backends import BACKENDS
from generation.models import Batch, SamplingFrame
from generation.testing.fake_mistral import FakeMistral
from review.exceptions import InvalidInput
from review.models import Report

JUDGE_MODELS = {"qwen2.5-72b": (0.05, 0.1), "llama-3.1-70b": (0.0, 0.0)}


@pytest.fixture
def judge_server(settings, mistral_settings, monkeypatch):
    """The writer on the (fake) Mistral API, the judge on a second, self-hosted server."""
    with FakeMistral() as server:
        settings.OPENAI_COMPATIBLE_SERVER_URL = server.url
        settings.OPENAI_COMPATIBLE_API_KEY = ""
        settings.OPENAI_COMPATIBLE_MODELS = JUDGE_MODELS
        monkeypatch.setitem(
            BACKENDS,
            "openai_compatible",
            replace(BACKENDS["openai_compatible"], models=JUDGE_MODELS),
        )
        yield server


def test_mistral_writer_with_a_self_hosted_judge(db, fake_mistral, judge_server):
    batch = services.batch_launch(
        count=1,
        backend="mistral",
        seed=3,
        enqueue=False,
        judge_backend="openai_compatible",
        judge_model="llama-3.1-70b",
    )
    assert (batch.judge_backend, batch.judge_model) == ("openai_compatible", "llama-3.1-70b")
    item = batch.items.get()
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="t") == "done"
    assert [(r.kind, r.model) for r in fake_mistral.requests] == [
        ("narrative", "mistral-large-latest"),
        ("extraction", "mistral-large-latest"),
    ]
    assert [(r.kind, r.model) for r in judge_server.requests] == [("verdict", "llama-3.1-70b")]
    item.refresh_from_db()
    assert [(p["kind"], p["backend"], p["cost_eur"]) for p in item.passes][2] == (
        "judge",
        "openai_compatible",
        0.0,
    )
    assert item.passes[0]["backend"] == ""  # the writer's backend is the batch's
    assert item.report.provenance["judge_model"] == "llama-3.1-70b (openai_compatible)"
    assert Report.objects.count() == 1


def test_judge_backend_equal_to_the_writer_is_stored_as_the_writer(db, mistral_settings):
    batch = services.batch_launch(
        count=1,
        backend="mistral",
        enqueue=False,
        judge_backend="mistral",
        judge_model="mistral-small-latest",
    )
    assert (batch.judge_backend, batch.judge_model) == ("", "mistral-small-latest")
    assert (batch.judge_backend_name, batch.judge_model_name) == (
        "mistral",
        "mistral-small-latest",
    )


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        (
            {"judge_backend": "gpt"},
            "unknown_judge_backend",
            "Unknown judge backend 'gpt' (use one of mistral, openai_compatible).",
        ),
        (
            {"judge_backend": "offline"},
            "unknown_judge_backend",
            "Unknown judge backend 'offline' (use one of mistral, openai_compatible).",
        ),
        (
            {"judge_backend": "openai_compatible", "judge_model": "mistral-small-latest"},
            "unknown_judge_model",
            "Unknown judge model 'mistral-small-latest'; known models: qwen2.5-72b, llama-3.1-70b.",
        ),
        (
            {"judge_model": "qwen2.5-72b"},
            "unknown_judge_model",
            "Unknown judge model 'qwen2.5-72b'; known models: mistral-large-latest, "
            "mistral-medium-latest, mistral-small-latest.",
        ),
        (
            {"judge_backend": 3},
            "bad_judge_backend",
            "The judge backend and model must be text.",
        ),
    ],
)
def test_bad_judge_is_refused_and_nothing_is_written(db, judge_server, kwargs, code, message):
    with pytest.raises(InvalidInput) as info:
        services.batch_launch(count=2, backend="mistral", enqueue=False, **kwargs)
    assert (info.value.code, info.value.message) == (code, message)
    assert Batch.objects.count() == 0


def test_unconfigured_judge_server_is_refused_at_launch(db, judge_server, settings):
    settings.OPENAI_COMPATIBLE_SERVER_URL = ""
    with pytest.raises(InvalidInput, match="OPENAI_COMPATIBLE_SERVER_URL") as info:
        services.batch_launch(
            count=2, backend="mistral", enqueue=False, judge_backend="openai_compatible"
        )
    assert info.value.code == "judge_backend_unavailable"
    assert Batch.objects.count() == 0


def test_api_launch_with_a_judge_backend_and_a_bad_one(coordinator_client, judge_server):
    response = coordinator_client.post(
        "/api/v1/batches/",
        {
            "count": 1,
            "backend": "mistral",
            "judge_backend": "openai_compatible",
            "judge_model": "qwen2.5-72b",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["judge_backend"], data["judge_model"]) == ("openai_compatible", "qwen2.5-72b")
    bad = coordinator_client.post(
        "/api/v1/batches/",
        {"count": 1, "backend": "mistral", "judge_backend": "vllm"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "Unknown judge backend 'vllm' (use one of mistral, openai_compatible)." in (
        bad.content.decode()
    )
    assert Batch.objects.count() == 1


def test_launch_form_offers_judge_backends_and_refuses_a_model_of_another(
    coordinator_client, judge_server
):
    page = coordinator_client.get(reverse("generation:batch_launch")).content.decode()
    assert '<select name="judge_backend"' in page
    assert '<option value="openai_compatible">' in page
    assert (
        '<option value="offline">'
        not in page.split('name="judge_backend"')[1].split("</select>")[0]
    )
    frame = SamplingFrame.objects.get()
    fields = {
        "count": 2,
        "frame": frame.pk,
        "language": "fr",
        "backend": "mistral",
        "model": "mistral-large-latest",
        "critique": "on",
        "judge_backend": "openai_compatible",
    }
    bad = coordinator_client.post(
        reverse("generation:batch_launch"), {**fields, "judge_model": "mistral-small-latest"}
    )
    assert bad.status_code == 400
    assert "Unknown judge model &#x27;mistral-small-latest&#x27;" in bad.content.decode()
    assert Batch.objects.count() == 0
    good = coordinator_client.post(
        reverse("generation:batch_launch"), {**fields, "judge_model": "qwen2.5-72b"}
    )
    assert good.status_code == 302
    batch = Batch.objects.get()
    assert (batch.judge_backend, batch.judge_model) == ("openai_compatible", "qwen2.5-72b")
    detail = coordinator_client.get(reverse("generation:batch_detail", args=[batch.pk]))
    assert "critique by qwen2.5-72b, at most 2 revisions" in detail.content.decode()
    assert "(Self-hosted OpenAI-compatible server)" in detail.content.decode()


def test_cli_judge_backend(db, judge_server, capsys):
    call_command(
        "generate_reports",
        "--count",
        "1",
        "--backend",
        "mistral",
        "--judge-backend",
        "openai_compatible",
        "--judge-model",
        "qwen2.5-72b",
        "--wait",
        "--in-process",
    )
    batch = Batch.objects.get()
    assert (batch.judge_backend, batch.judge_model) == ("openai_compatible", "qwen2.5-72b")
    assert [r.kind for r in judge_server.requests] == ["verdict"]
    with pytest.raises(CommandError, match="Unknown judge model 'nope'"):
        call_command(
            "generate_reports",
            "--count",
            "1",
            "--backend",
            "mistral",
            "--judge-backend",
            "openai_compatible",
            "--judge-model",
            "nope",
        )
    assert Batch.objects.count() == 1


def test_batch_api_estimate_halves_the_calls_of_the_batch_backend_only(db):
    same = pricing.batch_cost_estimate(
        count=100, backend="mistral", model="mistral-large-latest", two_pass=True, batch_api=True
    )
    direct = pricing.batch_cost_estimate(
        count=100, backend="mistral", model="mistral-large-latest", two_pass=True
    )
    assert [p["eur"] for p in same["passes"]] == [
        round(p["eur"] * 0.5, 4) for p in direct["passes"]
    ]
    elsewhere = pricing.batch_cost_estimate(
        count=100,
        backend="mistral",
        model="mistral-large-latest",
        two_pass=True,
        batch_api=True,
        judge_model="mistral-small-latest",
        judge_backend="openai_compatible",
    )
    judge_direct = pricing.batch_cost_estimate(
        count=100,
        backend="mistral",
        model="mistral-large-latest",
        two_pass=True,
        judge_model="mistral-small-latest",
    )["passes"][2]
    assert elsewhere["passes"][2] == judge_direct
