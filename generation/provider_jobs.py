"""Batches in Batch API mode: submit one provider job per batch, poll it, write its results.

Called by the periodic task `generation.provider_jobs_poll` (and by tests directly). The
invariants are the pipeline's: each result line is written through
`pipeline.batch_item_apply_result`, which claims the item with a conditional update, so a
line processed twice (two pollers, a poll repeated after a crash) writes one report; every
item the job did not answer — error lines, unusable answers, lines lost to expiry,
cancellation or a failed job — goes back to direct mode, enqueued like any item.

Two-pass prompts run as a chain of jobs, one call of every item per job: the narratives,
then their extraction, then the judgements, then the revisions and their extraction and
judgement (bounded). Between jobs each item stores its next step (`BatchItem.pass_state`,
`generation.two_pass.Step`) with the id of the job its call went in; a line is applied
only to an item whose step names that job, so a repeated poll changes nothing. When a job
ends, the items it advanced go in the next job (submitted by the same poll); the others —
error lines, unusable answers, lines lost to expiry — go to direct mode, which resumes at
their step. A job that did not succeed (expiry, failure, cancellation) ends the chain: all
that is left goes to direct mode.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from generation.backends import BACKENDS, TransientBackendError
from generation.backends.mistral import (
    BATCH_JOB_FINAL,
    BatchJobState,
    MistralBatchApi,
    batch_line,
    batch_result,
)
from generation.models import Batch, BatchItem, ProviderJob
from generation.pipeline import (
    _generation_request,
    _is_two_pass,
    batch_item_apply_result,
    batch_item_apply_step,
)
from generation.queue import items_enqueue
from generation.scenario import Scenario
from generation.two_pass import DIRECT, Step, step_call

logger = logging.getLogger(__name__)

# provider_status while one poller writes the job's results, then once they were taken
# (the batch is then a direct batch).
PROCESSING = "PROCESSING"
PROCESSED = "PROCESSED"


def _api() -> MistralBatchApi:
    return MistralBatchApi.from_settings()


def provider_job_submit(*, batch: Batch) -> str:
    """Upload the batch's pending items as JSONL and create the job. The batch row is
    locked while submitting: a second poller finds the job id and submits nothing."""
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        if locked.provider_job_id or locked.status != Batch.Status.RUNNING:
            return locked.provider_job_id
        items = list(
            BatchItem.objects.filter(batch=locked, status=BatchItem.Status.PENDING).order_by(
                "index"
            )
        )
        if _is_two_pass(locked):
            job, direct = _steps_submit(api=_api(), batch=locked, items=items)
            if direct:
                transaction.on_commit(lambda: items_enqueue(item_ids=direct))
            if job is None:
                Batch.objects.filter(pk=locked.pk).update(
                    provider_status=PROCESSED, provider_checked_at=timezone.now()
                )
                return ""
            return job.job_id
        lines = [
            batch_line(
                custom_id=str(item.index),
                request=_generation_request(
                    batch=locked, item=item, scenario=Scenario.from_json(item.scenario)
                ),
            )
            for item in items
        ]
        file_id, job = _api().submit(
            lines=lines,
            model=locked.model,
            name=f"synthreports-batch-{locked.pk}",
            metadata={"batch": str(locked.pk)},
        )
        Batch.objects.filter(pk=locked.pk).update(
            provider_job_id=job.job_id,
            provider_file_id=file_id,
            provider_status=job.status,
            provider_checked_at=timezone.now(),
        )
        ProviderJob.objects.create(
            batch=locked, job_id=job.job_id, file_id=file_id, lines=len(lines), status=job.status
        )
        BatchItem.objects.filter(pk__in=[i.pk for i in items]).update(enqueued_at=timezone.now())
    return job.job_id


def provider_job_process(*, batch: Batch, enqueue: bool = True) -> dict[str, int]:
    """Poll the batch's job; once it is final, write every result line and send what it
    did not answer to direct mode. Returns counts by outcome and how many go direct."""
    # retry: an unusable answer, the item released (an attempt counted) for direct mode.
    counts = {"done": 0, "retry": 0, "failed": 0, "not_claimed": 0, "direct": 0}
    # The job id too: a two-pass chain moves on to a new job, and a poller that read the
    # batch before must not process the previous one as if it were current.
    batch.refresh_from_db(
        fields=["status", "provider_status", "provider_checked_at", "provider_job_id"]
    )
    if batch.provider_status == PROCESSED:
        return counts
    api = _api()
    if batch.status == Batch.Status.CANCELLED and batch.provider_status in ("QUEUED", "RUNNING"):
        # The coordinator cancelled: stop the provider's job too (its partial results are
        # dropped by the claims: a cancelled batch's items are skipped).
        job = api.cancel(job_id=batch.provider_job_id)
    else:
        job = api.get(job_id=batch.provider_job_id)
    now = timezone.now()
    not_taken = Batch.objects.filter(pk=batch.pk, provider_job_id=job.job_id).exclude(
        provider_status__in=[PROCESSED, PROCESSING]
    )
    if job.status not in BATCH_JOB_FINAL:
        not_taken.update(provider_status=job.status, provider_checked_at=now)
        ProviderJob.objects.filter(job_id=job.job_id).update(status=job.status)
        return counts
    # One poller takes the results (a conditional update); one that died while processing
    # is taken over after the stuck-item delay. Lines already written are not claimable.
    stale = now - dt.timedelta(seconds=settings.GENERATION_STUCK_AFTER_SECONDS)
    taken = (
        Batch.objects.filter(pk=batch.pk, provider_job_id=job.job_id)
        .filter(
            ~Q(provider_status__in=[PROCESSED, PROCESSING])
            | Q(provider_status=PROCESSING, provider_checked_at__lt=stale)
        )
        .update(provider_status=PROCESSING, provider_checked_at=now)
    )
    if not taken:
        return counts
    ProviderJob.objects.filter(job_id=job.job_id).update(status=job.status, finished_at=now)
    if _is_two_pass(batch):
        counts = _steps_process(api=api, batch=batch, job=job, enqueue=enqueue)
        ProviderJob.objects.filter(job_id=job.job_id).update(outcome=counts)
        return counts
    items = dict(BatchItem.objects.filter(batch=batch).values_list("index", "pk"))
    token = f"provider-{job.job_id}"
    for line in api.lines(file_id=job.output_file):
        item_id = items.get(int(line.get("custom_id", -1)))
        result = batch_result(line, model=batch.model)
        if item_id is None or result is None:
            continue
        outcome = batch_item_apply_result(item_id=item_id, claim_token=token, result=result)
        counts[outcome if outcome in counts else "failed"] += 1
    # Error lines, unusable answers, and lines never answered (expiry, cancellation, a
    # failed job) are all still PENDING: direct mode takes them from here.
    with transaction.atomic():
        Batch.objects.filter(pk=batch.pk).update(
            provider_status=PROCESSED, provider_checked_at=timezone.now()
        )
        direct = list(
            BatchItem.objects.filter(
                batch=batch, status=BatchItem.Status.PENDING, batch__status=Batch.Status.RUNNING
            ).values_list("pk", flat=True)
        )
        counts["direct"] = len(direct)
        if direct and enqueue:
            transaction.on_commit(lambda: items_enqueue(item_ids=direct))
        ProviderJob.objects.filter(job_id=job.job_id).update(outcome=counts)
    if job.status != "SUCCESS":
        logger.info(
            "Batch %s: provider job %s ended %s; %d items resume in direct mode",
            batch.pk,
            job.job_id,
            job.status,
            len(direct),
        )
    return counts


def _steps_submit(
    *, api: MistralBatchApi, batch: Batch, items: list[BatchItem]
) -> tuple[BatchJobState | None, list[int]]:
    """Send the next call of each item (its stored step, or the first) as one job.

    The job holds the calls the batch's backend answers with one model — in practice all
    of them, since a batch's items move step by step together; a judge on another backend
    or model, or a straggler at another step, continues in direct mode. Returns the job
    (None when no call could go) and the items handed to direct mode."""
    planned = []
    for item in items:
        step = Step.from_json(item.pass_state) if item.pass_state.get("stage") else Step()
        scenario = Scenario.from_json(item.scenario)
        call = step_call(batch=batch, item=item, scenario=scenario, step=step)
        planned.append((item, step, call))
    models = Counter(call.model for _i, _s, call in planned if call.backend == batch.backend)
    model = models.most_common(1)[0][0] if models else ""
    sent = [p for p in planned if p[2].backend == batch.backend and p[2].model == model]
    job = None
    if sent:
        file_id, job = api.submit(
            lines=[batch_line(custom_id=str(i.index), request=c.request) for i, _s, c in sent],
            model=model,
            name=f"synthreports-batch-{batch.pk}-{sent[0][1].stage}-{sent[0][1].round}",
            metadata={"batch": str(batch.pk), "step": sent[0][1].stage},
        )
        Batch.objects.filter(pk=batch.pk).update(
            provider_job_id=job.job_id,
            provider_file_id=file_id,
            provider_status=job.status,
            provider_checked_at=timezone.now(),
        )
        ProviderJob.objects.create(
            batch=batch,
            job_id=job.job_id,
            file_id=file_id,
            stage=sent[0][1].stage,
            round=sent[0][1].round,
            lines=len(sent),
            status=job.status,
        )
    sent_ids = {item.pk for item, _s, _c in sent}
    direct = []
    now = timezone.now()
    for item, step, _call in planned:
        step.job = job.job_id if job is not None and item.pk in sent_ids else DIRECT
        if step.job == DIRECT:
            direct.append(item.pk)
        item.pass_state, item.enqueued_at = step.to_json(), now
    BatchItem.objects.bulk_update(
        [item for item, _s, _c in planned], ["pass_state", "enqueued_at"], batch_size=500
    )
    return job, direct


def _steps_process(
    *, api: MistralBatchApi, batch: Batch, job: BatchJobState, enqueue: bool
) -> dict[str, int]:
    """Apply a two-pass job's lines, then submit the next job for the items it advanced
    and hand the rest to direct mode (see the module's docstring)."""
    counts = {
        "done": 0,
        "advanced": 0,
        "retry": 0,
        "failed": 0,
        "not_claimed": 0,
        "next_job": 0,
        "direct": 0,
    }
    items = dict(BatchItem.objects.filter(batch=batch).values_list("index", "pk"))
    # Unusable answers: the item is already handed to direct mode (an attempt counted).
    retried = []
    for line in api.lines(file_id=job.output_file):
        item_id = items.get(int(line.get("custom_id", -1)))
        result = batch_result(line, model=batch.model)
        if item_id is None or result is None:
            continue
        outcome = batch_item_apply_step(item_id=item_id, job_id=job.job_id, result=result)
        counts[outcome if outcome in counts else "failed"] += 1
        if outcome == "retry":
            retried.append(item_id)
    pending = BatchItem.objects.filter(batch=batch, status=BatchItem.Status.PENDING)
    batch.refresh_from_db(fields=["status"])
    try:
        with transaction.atomic():
            # Error lines and lines the job never answered: direct mode, at their step.
            unanswered = list(pending.filter(pass_state__job=job.job_id))
            for item in unanswered:
                item.pass_state = {**item.pass_state, "job": DIRECT}
            BatchItem.objects.bulk_update(unanswered, ["pass_state"], batch_size=500)
            following = list(pending.filter(pass_state__job="").order_by("index"))
            next_job = None
            direct = [*retried, *(item.pk for item in unanswered)]
            if following and job.status == "SUCCESS" and batch.status == Batch.Status.RUNNING:
                next_job, handed = _steps_submit(api=api, batch=batch, items=following)
                direct += handed
                counts["next_job"] = len(following) - len(handed)
            if next_job is None:
                # The chain ends: whatever is still pending is direct mode's.
                Batch.objects.filter(pk=batch.pk).update(
                    provider_status=PROCESSED, provider_checked_at=timezone.now()
                )
                direct = list(
                    pending.filter(batch__status=Batch.Status.RUNNING).values_list("pk", flat=True)
                )
            counts["direct"] = len(direct)
            if direct and enqueue:
                transaction.on_commit(lambda: items_enqueue(item_ids=direct))
    except TransientBackendError:
        # The next job could not be submitted: nothing of this step was kept but the
        # lines already applied; the next poll takes this ended job again.
        Batch.objects.filter(pk=batch.pk).update(provider_status=job.status)
        raise
    if job.status != "SUCCESS":
        logger.info(
            "Batch %s: provider job %s ended %s; %d items resume in direct mode",
            batch.pk,
            job.job_id,
            job.status,
            counts["direct"],
        )
    return counts


def provider_jobs_poll(*, enqueue: bool = True) -> dict[str, int]:
    """The periodic step: submit batches waiting for a job, process jobs that ended."""
    summary = {"submitted": 0, "polled": 0}
    open_batches = (
        Batch.objects.filter(mode=Batch.Mode.BATCH_API)
        .exclude(provider_status=PROCESSED)
        .select_related("prompt", "frame", "guideline")
    )
    for batch in open_batches:
        try:
            if not batch.provider_job_id:
                if batch.status == Batch.Status.RUNNING and BACKENDS[batch.backend].network:
                    provider_job_submit(batch=batch)
                    summary["submitted"] += 1
                continue
            provider_job_process(batch=batch, enqueue=enqueue)
            summary["polled"] += 1
        except TransientBackendError as exc:
            # The next period tries again; nothing was written for this batch.
            logger.warning("Batch %s: provider job step failed (%s)", batch.pk, exc)
    return summary
