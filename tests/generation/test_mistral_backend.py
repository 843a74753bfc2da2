"""The mistral backend through the real mistralai SDK against the local fake server."""

import pytest

from generation import pipeline, services
from generation.backends import BackendUnavailable, TransientBackendError, backend_get
from generation.models import BatchItem
from generation.pipeline import OutputRetry
from review.models import Report


@pytest.fixture
def mistral_batch(db, mistral_settings):
    # Pinned to the one-pass prompt (v1, still selectable): these tests are about the
    # backend's transport; the two-pass pipeline has its own tests (test_two_pass.py).
    def _make(count=1, prompt="compte-rendu-fr-v1"):
        return services.batch_launch(
            count=count, backend="mistral", seed=3, enqueue=False, prompt=prompt
        )

    return _make


def _process(item, token="tok"):
    return pipeline.batch_item_process(item_id=item.pk, claim_token=token)


def test_mistral_ok_writes_report_with_usage_and_provenance(mistral_batch, fake_mistral):
    item = mistral_batch().items.get()
    assert _process(item) == "done"
    item.refresh_from_db()
    assert item.tokens_out == 225 and item.tokens_in > 100
    assert item.finish_reason == "stop" and item.attempts == 1
    request = fake_mistral.requests[0]
    assert (request.model, request.has_json_schema) == ("mistral-large-latest", True)
    p = item.report.provenance
    assert (p["backend"], p["model"], p["tokens_out"]) == ("mistral", "mistral-large-latest", 225)
    assert p["cost_eur"] == round((item.tokens_in * 2.0 + 225 * 6.0) / 1e6, 4)
    assert p["rate_limit_wait_ms"] == 0  # the limiter is off in these tests
    assert item.report.annotations[0] == {
        "field": "hospital",
        "value": "Centre hospitalier de Test",
        "start": 0,
        "end": 26,
        "text": "Centre hospitalier de Test",
    }


@pytest.mark.parametrize("fault", ["429", "500", "503", "slow"])
def test_mistral_transient_fault_releases_item_for_retry(mistral_batch, fake_mistral, fault):
    fake_mistral.push(fault)
    item = mistral_batch().items.get()
    with pytest.raises(TransientBackendError) as info:
        _process(item)
    if fault == "429":
        assert info.value.retry_after == 1.0
    item.refresh_from_db()
    assert (item.status, item.attempts, item.claim_token) == ("pending", 1, "")
    assert item.error.startswith("attempt 1: ")
    assert _process(item) == "done"
    item.refresh_from_db()
    assert item.attempts == 2
    assert Report.objects.count() == 1


@pytest.mark.parametrize("fault", ["malformed", "wrong_shape", "length"])
def test_mistral_unusable_answer_is_retried_then_fails(mistral_batch, fake_mistral, fault):
    fake_mistral.push(fault, fault, fault)
    item = mistral_batch().items.get()
    for _attempt in range(2):
        with pytest.raises(OutputRetry):
            _process(item)
    assert _process(item) == "failed"
    item.refresh_from_db()
    assert (item.status, item.attempts) == ("failed", 3)
    assert item.error.startswith("gave up after 3 attempts; last error: ")
    assert item.tokens_out > 0  # usage of failed attempts is still counted
    if fault == "length":
        assert item.finish_reason == "length"
        assert "finish_reason=length" in item.error
    assert Report.objects.count() == 0
    item.batch.refresh_from_db()
    assert item.batch.status == "finished"


def test_mistral_client_error_fails_at_once(mistral_batch, fake_mistral, settings):
    item = mistral_batch().items.get()
    settings.MISTRAL_SERVER_URL = fake_mistral.url + "/wrong"  # the fake answers 404
    assert _process(item) == "failed"
    item.refresh_from_db()
    assert item.status == "failed" and item.error.startswith("Mistral API answered 404")


def test_mistral_backend_without_key_or_url_is_unavailable(settings):
    settings.MISTRAL_API_KEY = ""
    settings.MISTRAL_SERVER_URL = ""
    with pytest.raises(BackendUnavailable) as info:
        backend_get("mistral")
    assert "MISTRAL_API_KEY" in str(info.value)


def test_mistral_batch_mixed_faults_all_accounted(mistral_batch, fake_mistral):
    fake_mistral.push("429", "ok", "500", "malformed", "ok", "ok", "length", "ok")
    batch = mistral_batch(count=5)
    pending = list(batch.items.values_list("pk", flat=True))
    rounds = 0
    while pending and rounds < 10:
        rounds += 1
        still = []
        for pk in pending:
            try:
                pipeline.batch_item_process(item_id=pk, claim_token=f"t{pk}")
            except TransientBackendError:
                still.append(pk)
        pending = still
    statuses = sorted(BatchItem.objects.filter(batch=batch).values_list("status", flat=True))
    assert statuses == ["done"] * 5
    assert Report.objects.filter(source="synthetic").count() == 5
