"""Batch API mode through the real mistralai SDK against the fake server's files and
batch-jobs endpoints."""

import json

import pytest
from django.urls import reverse

from generation import pipeline, provider_jobs, services
from generation.backends.mistral import batch_result
from generation.models import Batch, BatchItem, ProviderJob
from review.models import Report


@pytest.fixture
def batch_api_batch(db, mistral_settings):
    def _make(count):
        return services.batch_launch(
            count=count,
            backend="mistral",
            seed=5,
            prompt="compte-rendu-fr-v1",
            mode="batch_api",
        )

    return _make


def _poll():
    return provider_jobs.provider_jobs_poll(enqueue=False)


def test_batch_job_of_50_with_line_failures_accounts_for_every_item_once(
    batch_api_batch, fake_mistral, django_capture_on_commit_callbacks
):
    fake_mistral.batch_line_errors = {"3", "17", "29", "41"}
    fake_mistral.batch_line_malformed = {"8", "33"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = batch_api_batch(50)
    # Nothing goes to the direct queue at launch: the poller submits one job.
    assert callbacks == [] and batch.mode == "batch_api"
    assert _poll() == {"submitted": 1, "polled": 0}
    batch.refresh_from_db()
    assert (batch.provider_job_id, batch.provider_file_id, batch.provider_status) == (
        "job-1",
        "file-1",
        "QUEUED",
    )
    uploaded = [json.loads(line) for line in fake_mistral.files["file-1"].splitlines()]
    assert [line["custom_id"] for line in uploaded] == [str(i) for i in range(50)]
    assert uploaded[0]["body"]["response_format"]["json_schema"]["name"] == "generated_report"
    assert uploaded[7]["body"]["random_seed"] == 5 + 7
    # A second poller during submission finds the job and submits nothing more.
    assert _poll() == {"submitted": 0, "polled": 1}
    batch.refresh_from_db()
    assert batch.provider_status == "RUNNING"
    assert Report.objects.count() == 0
    counts = provider_jobs.provider_job_process(batch=batch, enqueue=False)
    assert counts == {"done": 44, "retry": 2, "failed": 0, "not_claimed": 0, "direct": 6}
    job = ProviderJob.objects.get(batch=batch)
    assert (job.job_id, job.file_id, job.step_label, job.lines, job.status) == (
        "job-1",
        "file-1",
        "one pass",
        50,
        "SUCCESS",
    )
    assert job.outcome == counts and job.finished_at is not None
    pending = sorted(
        BatchItem.objects.filter(batch=batch, status="pending").values_list("index", flat=True)
    )
    assert pending == [3, 8, 17, 29, 33, 41]
    # The malformed answers counted as attempts; the error lines did not reach us.
    assert dict(
        BatchItem.objects.filter(batch=batch, index__in=[3, 8]).values_list("index", "attempts")
    ) == {3: 0, 8: 1}
    # The same results processed again (a repeated poll): nothing more is written, and a
    # line applied twice finds its item taken.
    batch.refresh_from_db()
    assert provider_jobs.provider_job_process(batch=batch, enqueue=False)["done"] == 0
    assert _poll() == {"submitted": 0, "polled": 0}
    output = fake_mistral.files[fake_mistral.jobs["job-1"]["output_file"]].splitlines()
    first = batch_result(json.loads(output[0]), model="mistral-large-latest")
    item0 = BatchItem.objects.get(batch=batch, index=0)
    assert first is not None
    assert (
        pipeline.batch_item_apply_result(
            item_id=item0.pk, claim_token="provider-job-1", result=first
        )
        == "not_claimed"
    )
    assert Report.objects.count() == 44
    # Direct mode takes the rest, through the chat endpoint.
    chat_before = len(fake_mistral.requests_of("report"))
    counts = services.batch_run_in_process(batch=batch)
    assert counts["done"] == 50 and counts["pending"] == counts["failed"] == 0
    assert len(fake_mistral.requests_of("report")) - chat_before == 6
    batch.refresh_from_db()
    assert batch.status == "finished"
    report_ids = list(BatchItem.objects.filter(batch=batch).values_list("report_id", flat=True))
    assert len(set(report_ids)) == 50 and Report.objects.count() == 50
    modes = {
        item.index: item.report.provenance.get("api_mode")
        for item in BatchItem.objects.filter(batch=batch).select_related("report")
    }
    assert sorted(i for i, m in modes.items() if m is None) == pending
    assert sum(1 for m in modes.values() if m == "batch_api") == 44
    # Batch API lines at half price.
    item = BatchItem.objects.select_related("report").get(batch=batch, index=0)
    assert item.report.provenance["cost_eur"] == round(
        (item.tokens_in * 2.0 + item.tokens_out * 6.0) / 1e6 * 0.5, 4
    )


def test_expired_job_resumes_in_direct_mode(
    batch_api_batch, fake_mistral, django_capture_on_commit_callbacks
):
    fake_mistral.batch_job_outcome = "TIMEOUT_EXCEEDED"
    fake_mistral.batch_lines_before_expiry = 7
    batch = batch_api_batch(10)
    _poll()
    _poll()
    batch.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = provider_jobs.provider_job_process(batch=batch, enqueue=True)
    assert counts == {"done": 7, "retry": 0, "failed": 0, "not_claimed": 0, "direct": 3}
    assert len(callbacks) == 1  # the 3 unanswered items are enqueued for direct mode
    batch.refresh_from_db()
    assert (batch.provider_status, batch.status) == ("PROCESSED", "running")
    assert services.batch_run_in_process(batch=batch)["done"] == 10
    assert Report.objects.count() == 10


def test_failed_job_sends_everything_to_direct_mode(batch_api_batch, fake_mistral):
    fake_mistral.batch_job_outcome = "FAILED"
    batch = batch_api_batch(4)
    _poll()
    _poll()
    batch.refresh_from_db()
    assert provider_jobs.provider_job_process(batch=batch, enqueue=False)["direct"] == 4
    assert services.batch_run_in_process(batch=batch)["done"] == 4


def test_cancelled_batch_cancels_the_provider_job_and_writes_nothing(batch_api_batch, fake_mistral):
    batch = batch_api_batch(5)
    _poll()
    _poll()
    services.batch_cancel(batch=Batch.objects.get(pk=batch.pk))
    assert _poll() == {"submitted": 0, "polled": 1}
    cancel_calls = [
        r for r in fake_mistral.requests if r.body and r.body["path"].endswith("/cancel")
    ]
    assert len(cancel_calls) == 1
    assert _poll() == {"submitted": 0, "polled": 1}
    batch.refresh_from_db()
    assert batch.provider_status == "PROCESSED"
    assert fake_mistral.jobs["job-1"]["status"] == "CANCELLED"
    assert Report.objects.count() == 0
    assert set(BatchItem.objects.filter(batch=batch).values_list("status", flat=True)) == {
        "skipped"
    }


def test_sweep_leaves_items_with_the_provider_alone(batch_api_batch, fake_mistral):
    batch = batch_api_batch(3)
    _poll()
    BatchItem.objects.filter(batch=batch).update(enqueued_at=None)
    assert services.items_requeue_stuck(older_than_seconds=30) == {
        "requeued_running": 0,
        "reenqueued_pending": 0,
    }


def test_api_launches_a_batch_api_batch_and_refuses_bad_critique_input(
    coordinator_client, mistral_settings
):
    response = coordinator_client.post(
        "/api/v1/batches/",
        {
            "count": 2,
            "backend": "mistral",
            "seed": 4,
            "prompt": "compte-rendu-fr-v1",
            "mode": "batch_api",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["mode"], data["provider_job_id"], data["provider_status"]) == (
        "batch_api",
        "",
        "",
    )
    assert data["progress"]["conform"] == 0
    bad = coordinator_client.post(
        "/api/v1/batches/",
        {"count": 2, "backend": "mistral", "judge_model": "gpt-unknown"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "Unknown judge model 'gpt-unknown'" in bad.content.decode()
    assert Batch.objects.count() == 1


def test_poller_and_judge_tasks_are_registered_and_scheduled(settings):
    from generation import tasks
    from synthreports.celery import app

    assert tasks.provider_jobs_poll.name == "generation.provider_jobs_poll"
    assert tasks.study_report_judge.name == "generation.study_report_judge"
    assert settings.CELERY_BEAT_SCHEDULE["generation-provider-jobs-poll"] == {
        "task": "generation.provider_jobs_poll",
        "schedule": 60.0,
    }
    assert "generation.provider_jobs_poll" in app.tasks


def test_poll_task_submits_through_the_sdk(batch_api_batch, fake_mistral):
    from generation import tasks

    batch = batch_api_batch(2)
    assert tasks.provider_jobs_poll.run() == {"submitted": 1, "polled": 0}
    batch.refresh_from_db()
    assert batch.provider_job_id == "job-1"
    assert [r.body["path"] for r in fake_mistral.requests] == ["/v1/files", "/v1/batch/jobs"]


def test_batch_page_and_api_show_every_provider_job(
    batch_api_batch, fake_mistral, coordinator_client
):
    batch = batch_api_batch(5)
    assert _poll() == {"submitted": 1, "polled": 0}
    page = coordinator_client.get(reverse("generation:batch_detail", args=[batch.pk]))
    body = page.content.decode()
    assert 'id="provider-jobs"' in body
    assert '<tr data-job="job-1"><td>one pass</td><td><code>job-1</code></td><td>5</td>' in body
    batch.refresh_from_db()
    provider_jobs.provider_job_process(batch=batch, enqueue=False)  # still running
    assert ProviderJob.objects.get(batch=batch).status == "RUNNING"
    batch.refresh_from_db()
    provider_jobs.provider_job_process(batch=batch, enqueue=False)  # ended: lines applied
    data = coordinator_client.get(f"/api/v1/batches/{batch.pk}/").json()
    assert [
        (job["job_id"], job["stage"], job["round"], job["lines"], job["status"], job["outcome"])
        for job in data["provider_jobs"]
    ] == [
        (
            "job-1",
            "",
            0,
            5,
            "SUCCESS",
            {"done": 5, "retry": 0, "failed": 0, "not_claimed": 0, "direct": 0},
        )
    ]
    assert data["provider_jobs"][0]["finished_at"] is not None
