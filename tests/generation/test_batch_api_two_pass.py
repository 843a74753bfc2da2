"""Two-pass prompts in Batch API mode: a chain of provider jobs (narratives, extractions,
judgements, revisions), through the real mistralai SDK against the fake server's files and
batch-jobs endpoints; what the jobs do not answer resumes in direct mode at its step."""

import json
from dataclasses import replace

import pytest

from generation import provider_jobs, services
from generation.backends import BACKENDS
from generation.models import Batch, BatchItem, ProviderJob
from generation.testing.fake_mistral import FakeMistral
from review.exceptions import InvalidInput
from review.models import Report

NOT_CONFORM = json.dumps(
    {
        "conform": False,
        "anomalies": [
            {
                "category": "drug_indication",
                "evidence": "Hypertension artérielle traitée.",
                "explanation": "Traitement non précisé.",
                "correction": "Hypertension artérielle traitée par amlodipine 5 mg/j.",
            }
        ],
    },
    ensure_ascii=False,
)


@pytest.fixture
def two_pass_batch_api(db, mistral_settings):
    def _make(count, **kwargs):
        # The default prompt of the language is the two-pass version.
        return services.batch_launch(
            count=count, backend="mistral", seed=3, mode="batch_api", **kwargs
        )

    return _make


def _poll():
    return provider_jobs.provider_jobs_poll(enqueue=False)


def _job_lines(fake, job_id):
    file_id = fake.jobs[job_id]["input_files"][0]
    return [json.loads(line) for line in fake.files[file_id].splitlines()]


def _process_current(batch):
    """Poll the batch's current job until it ended and its lines were applied."""
    batch.refresh_from_db()
    assert provider_jobs.provider_job_process(batch=batch, enqueue=False) == {
        "done": 0,
        "retry": 0,
        "failed": 0,
        "not_claimed": 0,
        "direct": 0,
    }  # the first poll finds the job running
    batch.refresh_from_db()
    return provider_jobs.provider_job_process(batch=batch, enqueue=False)


def _counts(**kwargs):
    base = {
        "done": 0,
        "advanced": 0,
        "retry": 0,
        "failed": 0,
        "not_claimed": 0,
        "next_job": 0,
        "direct": 0,
    }
    return {**base, **kwargs}


def test_two_pass_batch_of_50_runs_as_a_chain_of_jobs_with_line_failures_resumed_direct(
    two_pass_batch_api, fake_mistral
):
    fake_mistral.batch_line_errors = {"3"}
    fake_mistral.batch_line_malformed = {"8"}
    fake_mistral.batch_line_errors_by_kind = {"extraction": {"17"}, "verdict": {"29"}}
    fake_mistral.script("verdict", NOT_CONFORM, NOT_CONFORM)
    batch = two_pass_batch_api(50)
    assert batch.prompt.passes == "two_pass"
    assert _poll() == {"submitted": 1, "polled": 0}
    writer_lines = _job_lines(fake_mistral, "job-1")
    assert [line["custom_id"] for line in writer_lines] == [str(i) for i in range(50)]
    # Pass 1 asks for plain text; the seed is the direct mode's for the same call.
    assert "response_format" not in writer_lines[7]["body"]
    assert writer_lines[7]["body"]["random_seed"] == 3 + 7
    assert fake_mistral.jobs["job-1"]["model"] == "mistral-large-latest"
    # Job 1, narratives: one error line (3), one unusable narrative (8).
    assert _process_current(batch) == _counts(advanced=48, retry=1, next_job=48, direct=2)
    batch.refresh_from_db()
    assert (batch.provider_job_id, batch.provider_status) == ("job-2", "QUEUED")
    extraction_lines = _job_lines(fake_mistral, "job-2")
    assert len(extraction_lines) == 48
    assert extraction_lines[0]["body"]["response_format"]["json_schema"]["name"] == "extraction"
    assert extraction_lines[0]["body"]["random_seed"] == 3 + 0 + 7919
    # Job 2, extractions: 17's line fails. Job 3, judgements: 29's fails, 0 and 1 are
    # not conform (scripted) and go to revision, the 44 others are written.
    assert _process_current(batch) == _counts(advanced=47, next_job=47, direct=1)
    assert fake_mistral.jobs["job-3"]["model"] == "mistral-large-latest"
    assert _process_current(batch) == _counts(done=44, advanced=2, next_job=2, direct=1)
    assert Report.objects.count() == 44
    revision_lines = _job_lines(fake_mistral, "job-4")
    assert [line["custom_id"] for line in revision_lines] == ["0", "1"]
    assert "amlodipine 5 mg/j" in revision_lines[0]["body"]["messages"][1]["content"]
    # Jobs 4-6: the two revisions, their extraction and their judgement; then the chain
    # ends and what is left (3, 8, 17, 29) is direct mode's.
    assert _process_current(batch) == _counts(advanced=2, next_job=2)
    assert _process_current(batch) == _counts(advanced=2, next_job=2)
    assert _process_current(batch) == _counts(done=2, direct=4)
    batch.refresh_from_db()
    assert batch.provider_status == "PROCESSED"
    assert len(fake_mistral.jobs) == 6
    # The whole chain is on record for the batch page, in order, with what each came to.
    chain = [
        (job.job_id, job.step_label, job.lines, job.status, job.outcome_summary)
        for job in ProviderJob.objects.filter(batch=batch)
    ]
    assert chain == [
        ("job-1", "writer", 50, "SUCCESS", "advanced 48 · retry 1 · next_job 48 · direct 2"),
        ("job-2", "extraction", 48, "SUCCESS", "advanced 47 · next_job 47 · direct 1"),
        ("job-3", "judge", 47, "SUCCESS", "done 44 · advanced 2 · next_job 2 · direct 1"),
        ("job-4", "revision 1", 2, "SUCCESS", "advanced 2 · next_job 2"),
        ("job-5", "extraction 1", 2, "SUCCESS", "advanced 2 · next_job 2"),
        ("job-6", "judge 1", 2, "SUCCESS", "done 2 · direct 4"),
    ]
    assert all(job.finished_at is not None for job in ProviderJob.objects.filter(batch=batch))
    assert fake_mistral.requests_of("narrative") == []  # no direct call so far
    states = {
        index: (state.get("stage"), state.get("job"))
        for index, state in BatchItem.objects.filter(batch=batch, status="pending").values_list(
            "index", "pass_state"
        )
    }
    assert states == {
        3: ("writer", "direct"),
        8: ("writer", "direct"),
        17: ("extraction", "direct"),
        29: ("judge", "direct"),
    }
    # The same job processed again: nothing more is written.
    batch.refresh_from_db()
    assert _poll() == {"submitted": 0, "polled": 0}
    Batch.objects.filter(pk=batch.pk).update(provider_status="SUCCESS")
    batch.refresh_from_db()
    assert provider_jobs.provider_job_process(batch=batch, enqueue=False) == _counts(
        not_claimed=2, direct=4
    )
    # Direct mode resumes each at its step: 3 and 8 from the narrative (3 calls each), 17
    # from the extraction (2), 29 from the judgement (1).
    counts = services.batch_run_in_process(batch=batch)
    assert counts["done"] == 50 and counts["pending"] == counts["failed"] == 0
    assert [(r.kind, r.random_seed) for r in fake_mistral.requests if r.kind != "files"][-9:] == [
        ("narrative", 3 + 3),
        ("extraction", 3 + 3 + 7919),
        ("verdict", 3 + 3 + 2 * 7919),
        ("narrative", 3 + 8),
        ("extraction", 3 + 8 + 7919),
        ("verdict", 3 + 8 + 2 * 7919),
        ("extraction", 3 + 17 + 7919),
        ("verdict", 3 + 17 + 2 * 7919),
        ("verdict", 3 + 29 + 2 * 7919),
    ]
    batch.refresh_from_db()
    assert batch.status == "finished"
    report_ids = list(BatchItem.objects.filter(batch=batch).values_list("report_id", flat=True))
    assert len(set(report_ids)) == 50 and Report.objects.count() == 50
    items = {i.index: i for i in BatchItem.objects.filter(batch=batch).select_related("report")}
    assert all(item.pass_state == {} for item in items.values())
    # Item 0: revised once, every call through the Batch API at half price.
    zero = items[0]
    assert [(p["kind"], p["round"], p["outcome"], p["api_mode"]) for p in zero.passes] == [
        ("writer", 0, "ok", "batch_api"),
        ("extraction", 0, "ok", "batch_api"),
        ("judge", 0, "not_conform", "batch_api"),
        ("revision", 1, "ok", "batch_api"),
        ("extraction", 1, "ok", "batch_api"),
        ("judge", 1, "conform", "batch_api"),
    ]
    writer = zero.passes[0]
    assert writer["cost_eur"] == round(
        round((writer["tokens_in"] * 2.0 + writer["tokens_out"] * 6.0) / 1e6, 4) * 0.5, 6
    )
    assert zero.verdict == "conform" and zero.attempts == 1
    provenance = zero.report.provenance
    assert provenance["api_mode"] == "batch_api"
    assert provenance["cost_eur"] == round(sum(p["cost_eur"] for p in zero.passes), 4)
    assert provenance["tokens_in"] == sum(p["tokens_in"] for p in zero.passes)
    assert zero.tokens_in == provenance["tokens_in"]
    # Item 8: its unusable narrative counted as an attempt and stays on record.
    eight = items[8]
    assert [(p["kind"], p["outcome"], p["api_mode"]) for p in eight.passes] == [
        ("writer", "invalid", "batch_api"),
        ("writer", "ok", "direct"),
        ("extraction", "ok", "direct"),
        ("judge", "conform", "direct"),
    ]
    assert eight.attempts == 2
    # Item 29: three calls in jobs, the judgement direct; one report, both modes paid.
    twenty_nine = items[29]
    assert [(p["kind"], p["api_mode"]) for p in twenty_nine.passes] == [
        ("writer", "batch_api"),
        ("extraction", "batch_api"),
        ("judge", "direct"),
    ]
    assert twenty_nine.report.provenance["api_mode"] == "batch_api+direct"
    assert twenty_nine.report.text == twenty_nine.passes[0]["detail"]["narrative"]


def test_expired_job_mid_chain_resumes_every_item_in_direct_mode(
    two_pass_batch_api, fake_mistral, django_capture_on_commit_callbacks
):
    fake_mistral.batch_job_outcomes = ["SUCCESS", "TIMEOUT_EXCEEDED"]
    fake_mistral.batch_lines_before_expiry = 2
    batch = two_pass_batch_api(5)
    _poll()
    assert _process_current(batch) == _counts(advanced=5, next_job=5)
    batch.refresh_from_db()
    assert provider_jobs.provider_job_process(batch=batch, enqueue=False)["direct"] == 0
    batch.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = provider_jobs.provider_job_process(batch=batch, enqueue=True)
    # Two extractions answered before expiry: those items wait at their judgement; the
    # chain stops there and all five go direct (one enqueue).
    assert counts == _counts(advanced=2, direct=5)
    assert len(callbacks) == 1
    batch.refresh_from_db()
    assert (batch.provider_status, batch.status) == ("PROCESSED", "running")
    stages = dict(BatchItem.objects.filter(batch=batch).values_list("index", "pass_state__stage"))
    assert stages == {0: "judge", 1: "judge", 2: "extraction", 3: "extraction", 4: "extraction"}
    assert services.batch_run_in_process(batch=batch)["done"] == 5
    direct = [r.kind for r in fake_mistral.requests if r.kind not in ("files", "batch_jobs")]
    assert sorted(direct) == ["extraction"] * 3 + ["verdict"] * 5
    assert Report.objects.count() == 5


def test_cancelled_two_pass_batch_cancels_its_current_job(two_pass_batch_api, fake_mistral):
    batch = two_pass_batch_api(4)
    _poll()
    _process_current(batch)
    services.batch_cancel(batch=Batch.objects.get(pk=batch.pk))
    assert _poll() == {"submitted": 0, "polled": 1}
    assert fake_mistral.jobs["job-2"]["status"] == "CANCELLATION_REQUESTED"
    _poll()
    batch.refresh_from_db()
    assert (batch.provider_status, fake_mistral.jobs["job-2"]["status"]) == (
        "PROCESSED",
        "CANCELLED",
    )
    assert len(fake_mistral.jobs) == 2 and Report.objects.count() == 0
    assert set(BatchItem.objects.filter(batch=batch).values_list("status", flat=True)) == {
        "skipped"
    }


def test_sweep_takes_items_handed_to_direct_mode_mid_chain(two_pass_batch_api, fake_mistral):
    fake_mistral.batch_line_errors = {"1"}
    batch = two_pass_batch_api(3)
    _poll()
    _process_current(batch)
    # Item 1 went direct while 0 and 2 are in the next job: only 1 is the sweep's.
    BatchItem.objects.filter(batch=batch).update(enqueued_at=None)
    assert services.items_requeue_stuck(older_than_seconds=30) == {
        "requeued_running": 0,
        "reenqueued_pending": 1,
    }


@pytest.fixture
def self_hosted_judge(settings, monkeypatch):
    """A second server, self-hosted and OpenAI-compatible, for the judge alone."""
    models = {"qwen2.5-72b": (0.05, 0.1)}
    with FakeMistral() as judge_server:
        settings.OPENAI_COMPATIBLE_SERVER_URL = judge_server.url
        settings.OPENAI_COMPATIBLE_API_KEY = ""
        settings.OPENAI_COMPATIBLE_MODELS = models
        monkeypatch.setitem(
            BACKENDS, "openai_compatible", replace(BACKENDS["openai_compatible"], models=models)
        )
        yield judge_server


def test_judge_on_another_backend_in_batch_mode_runs_direct(
    two_pass_batch_api, fake_mistral, self_hosted_judge
):
    batch = two_pass_batch_api(2, judge_backend="openai_compatible")
    # No model named: the judge backend's first.
    assert (batch.judge_backend, batch.judge_model) == ("openai_compatible", "qwen2.5-72b")
    _poll()
    _process_current(batch)
    # The extractions ended the chain: the judge's backend has no job of ours to run.
    assert _process_current(batch) == _counts(advanced=2, direct=2)
    assert len(fake_mistral.jobs) == 2
    assert services.batch_run_in_process(batch=batch)["done"] == 2
    assert [(r.kind, r.model) for r in self_hosted_judge.requests] == [
        ("verdict", "qwen2.5-72b"),
        ("verdict", "qwen2.5-72b"),
    ]
    assert fake_mistral.requests_of("verdict") == []
    item = BatchItem.objects.select_related("report").get(batch=batch, index=0)
    judge = item.passes[2]
    assert (judge["backend"], judge["api_mode"], judge["model"]) == (
        "openai_compatible",
        "direct",
        "qwen2.5-72b",
    )
    assert item.report.provenance["judge_model"] == "qwen2.5-72b (openai_compatible)"


def test_offline_batches_still_have_no_batch_api(db, mistral_settings):
    with pytest.raises(InvalidInput, match="no Batch API"):
        services.batch_launch(count=2, backend="offline", mode="batch_api", enqueue=False)
    assert Batch.objects.count() == 0
