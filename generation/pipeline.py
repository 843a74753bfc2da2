"""One batch item, end to end: claim → prompt → backend → parse → validate → Report.

The invariants (DESIGN.md, "Nothing is lost"): an item is claimed with a conditional
UPDATE; its report and its outcome are written in one transaction, under a row lock, only
by the holder of the claim — so a redelivered or duplicated task never writes a second
report, and the one-to-one link from item to report backs that up.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from generation.backends import (
    BACKENDS,
    BackendError,
    BackendResult,
    GenerationRequest,
    TransientBackendError,
    backend_get,
    rate_limit_key,
)
from generation.catalogue import guideline_knowledge
from generation.models import Batch, BatchItem, PromptTemplate
from generation.output import (
    OUTPUT_SCHEMA_VERSION,
    OutputInvalid,
    output_json_schema,
    output_parse,
)
from generation.pricing import ESTIMATED_TOKENS_IN, ESTIMATED_TOKENS_OUT, cost_eur
from generation.prompts import prompt_render
from generation.ratelimit import RateLimitTimeout, limiter_get
from generation.scenario import Scenario
from generation.two_pass import (
    DIRECT,
    Final,
    PassFailed,
    PassRecord,
    Step,
    item_two_pass,
    pass_record,
    step_advance,
    step_call,
)
from generation.validation import ValidatedReport, report_validate
from review.models import Report
from review.provenance import Provenance
from review.search_index import reports_search_index

logger = logging.getLogger(__name__)

MAX_OUTPUT_TOKENS = 4096


def retry_countdown(retries: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: Retry-After if given, else capped exponential
    backoff; both with jitter so that workers do not come back in lockstep."""
    if retry_after is not None:
        return retry_after + random.uniform(0, 1)
    base = settings.GENERATION_RETRY_BACKOFF_SECONDS * (2**retries)
    capped = min(base, settings.GENERATION_RETRY_BACKOFF_MAX_SECONDS)
    return capped * random.uniform(0.5, 1.5)


class OutputRetry(TransientBackendError):
    """The answer was unusable (not JSON, wrong shape, truncated): a new attempt may do."""


def batch_finish_if_complete(*, batch_id: int) -> None:
    """Mark a running batch finished once no item is pending or running. Conditional and
    idempotent: a worker calls it after settling an item (in its own statement, so that two
    workers settling the last two items at once cannot both miss it), and the batch page's
    progress poll calls it when it finds every item settled before the batch row says so."""
    _batch_finish_if_complete(batch_id)


def _batch_finish_if_complete(batch_id: int) -> None:
    open_items = BatchItem.objects.filter(
        batch_id=batch_id, status__in=[BatchItem.Status.PENDING, BatchItem.Status.RUNNING]
    )
    if not open_items.exists():
        Batch.objects.filter(pk=batch_id, status=Batch.Status.RUNNING).update(
            status=Batch.Status.FINISHED, finished_at=timezone.now()
        )


def batch_item_release(
    *,
    item_id: int,
    claim_token: str,
    error: str,
    usage: dict[str, Any] | None = None,
    refund: bool = False,
    passes: list[dict[str, Any]] | None = None,
) -> bool:
    """Give a claimed item back after a transient failure: PENDING for another attempt,
    or FAILED once GENERATION_MAX_ATTEMPTS attempts were made. True if it may be retried."""
    usage = usage or {}
    now = timezone.now()
    with transaction.atomic():
        item = (
            BatchItem.objects.select_for_update()
            .filter(pk=item_id, status=BatchItem.Status.RUNNING, claim_token=claim_token)
            .first()
        )
        if item is None:
            return False
        item.tokens_in += usage.get("tokens_in", 0)
        item.tokens_out += usage.get("tokens_out", 0)
        if usage.get("finish_reason"):
            item.finish_reason = str(usage["finish_reason"])
        if usage.get("latency_ms") is not None:
            item.latency_ms = usage["latency_ms"]
        if passes:
            # The calls of a failed attempt stay on the item: tokens spent, answers tried.
            item.passes = [*item.passes, *passes]
        if refund:
            item.attempts = max(item.attempts - 1, 0)
        retry = refund or item.attempts < settings.GENERATION_MAX_ATTEMPTS
        if retry:
            item.status = BatchItem.Status.PENDING
            item.error = f"attempt {item.attempts}: {error}"
            item.enqueued_at = now
        else:
            item.status = BatchItem.Status.FAILED
            item.error = f"gave up after {item.attempts} attempts; last error: {error}"
            item.finished_at = now
        item.claim_token = ""
        item.save()
    if not retry:
        _batch_finish_if_complete(item.batch_id)
    return retry


def _item_fail(*, item_id: int, claim_token: str, error: str) -> None:
    BatchItem.objects.filter(
        pk=item_id, status=BatchItem.Status.RUNNING, claim_token=claim_token
    ).update(
        status=BatchItem.Status.FAILED, error=error, finished_at=timezone.now(), claim_token=""
    )


def _item_claim(*, item_id: int, claim_token: str) -> bool:
    claimable = Q(status=BatchItem.Status.PENDING) | Q(
        status=BatchItem.Status.RUNNING, claim_token=claim_token
    )
    return bool(
        BatchItem.objects.filter(claimable, pk=item_id)
        .exclude(batch__status=Batch.Status.CANCELLED)
        .update(
            status=BatchItem.Status.RUNNING,
            claim_token=claim_token,
            claimed_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
    )


def batch_item_process(*, item_id: int, claim_token: str) -> str:
    """Generate one item's report. Returns the outcome ("done", "failed", "not_claimed",
    "missing", "claim_lost"); raises TransientBackendError when the item was put back
    for another attempt (the task retries it with backoff).

    Idempotent under redelivery: only the holder of the claim (the task id) writes, and
    the report is written with the item's outcome in one transaction under a row lock.
    """
    # The batch's prompt and frame come in the same query: fetched lazily they were two
    # more round trips per item.
    item = (
        BatchItem.objects.filter(pk=item_id)
        .select_related("batch__prompt", "batch__frame", "batch__guideline")
        .first()
    )
    if item is None:
        return "missing"
    if not _item_take(item=item, claim_token=claim_token):
        return "not_claimed"
    batch = item.batch
    # Stored as JSON on the item; typed from here to the validator.
    scenario = Scenario.from_json(item.scenario)
    if _is_two_pass(batch):
        return _item_process_two_pass(
            item=item, batch=batch, scenario=scenario, claim_token=claim_token
        )
    request = _generation_request(batch=batch, item=item, scenario=scenario)
    rate_limit = _RateLimitWait(batch=batch)
    try:
        result = backend_get(batch.backend).generate(request, before_send=rate_limit.acquire)
    except RateLimitTimeout as exc:
        # Waiting for budget is not an attempt: give the item back without counting it.
        batch_item_release(item_id=item_id, claim_token=claim_token, error=str(exc), refund=True)
        raise TransientBackendError(str(exc)) from None
    except TransientBackendError as exc:
        if batch_item_release(item_id=item_id, claim_token=claim_token, error=str(exc)):
            raise
        return "failed"
    except BackendError as exc:
        _item_fail(item_id=item_id, claim_token=claim_token, error=str(exc))
        _batch_finish_if_complete(batch.pk)
        return "failed"
    usage = rate_limit.settle(result)
    outcome, error = _single_pass_finish(
        item_id=item_id,
        claim_token=claim_token,
        batch=batch,
        scenario=scenario,
        result=result,
        usage=usage,
    )
    if outcome == "retry":
        raise OutputRetry(error, retry_after=0)
    return outcome


def _single_pass_finish(
    *,
    item_id: int,
    claim_token: str,
    batch: Batch,
    scenario: Scenario,
    result: BackendResult,
    usage: dict[str, Any],
    price_factor: float = 1.0,
    api_mode: str | None = None,
) -> tuple[str, str]:
    """Parse, validate and write a one-pass answer (direct call or Batch API line).
    Returns ("done" | "failed" | "claim_lost" | "retry", error); "retry": released."""
    try:
        if result.finish_reason == "length":
            raise OutputInvalid("The answer was cut off (finish_reason=length).")
        output = output_parse(result.content)
    except OutputInvalid as exc:
        released = batch_item_release(
            item_id=item_id, claim_token=claim_token, error=str(exc), usage=usage
        )
        return ("retry" if released else "failed"), str(exc)
    validated = report_validate(
        output=output,
        scenario=scenario,
        language=batch.language,
        kb=guideline_knowledge(guideline=batch.guideline),
    )
    return _item_complete(
        item_id=item_id,
        claim_token=claim_token,
        batch=batch,
        validated=validated,
        usage=usage,
        model=result.model,
        price_factor=price_factor,
        api_mode=api_mode,
    ), ""


def batch_item_apply_result(*, item_id: int, claim_token: str, result: BackendResult) -> str:
    """Write one item from a line of the provider's Batch API output: claimed like a task
    (so a line processed twice, or an item a direct task holds, writes nothing more),
    then parsed, validated and written exactly as a direct answer, at the batch price.
    Returns the outcome; "retry" means the item is PENDING again for direct mode."""
    item = (
        BatchItem.objects.filter(pk=item_id)
        .select_related("batch__prompt", "batch__frame", "batch__guideline")
        .first()
    )
    if item is None:
        return "missing"
    if not _item_take(item=item, claim_token=claim_token):
        return "not_claimed"
    batch = item.batch
    outcome, _error = _single_pass_finish(
        item_id=item_id,
        claim_token=claim_token,
        batch=batch,
        scenario=Scenario.from_json(item.scenario),
        result=result,
        usage={
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "latency_ms": result.latency_ms,
            "finish_reason": result.finish_reason,
            "rate_limit_wait_ms": 0,
        },
        price_factor=BACKENDS[batch.backend].batch_api_price_factor or 1.0,
        api_mode=Batch.Mode.BATCH_API,
    )
    return outcome


def _is_two_pass(batch: Batch) -> bool:
    # The offline writer is not a language model: it writes narrative and annotations
    # together from templates, so its batches stay one-pass whatever the prompt.
    return batch.prompt.passes == PromptTemplate.Passes.TWO_PASS and BACKENDS[batch.backend].network


def _usage_total(passes: list[PassRecord]) -> dict[str, Any]:
    return {
        "tokens_in": sum(p.tokens_in for p in passes),
        "tokens_out": sum(p.tokens_out for p in passes),
        "latency_ms": sum(p.latency_ms for p in passes),
        "rate_limit_wait_ms": sum(p.rate_limit_wait_ms for p in passes),
        "finish_reason": passes[-1].finish_reason if passes else "",
        "cost_eur": round(sum(p.cost_eur for p in passes), 6),
    }


def _item_process_two_pass(
    *, item: BatchItem, batch: Batch, scenario: Scenario, claim_token: str
) -> str:
    """Two passes and the critique (generation.two_pass), then one write, as in one pass."""
    passes: list[PassRecord] = []
    item_id = item.pk
    # The claim raised the attempt count in the database; the records carry the new one.
    item.attempts += 1

    def released(error: str, **kwargs: Any) -> bool:
        return batch_item_release(
            item_id=item_id,
            claim_token=claim_token,
            error=error,
            usage=_usage_total(passes),
            passes=[p.to_json() for p in passes],
            **kwargs,
        )

    # An item Batch API mode handed over resumes from its stored step.
    start = Step.from_json(item.pass_state) if item.pass_state.get("stage") else None
    try:
        outcome = item_two_pass(
            backends=_backends(),
            batch=batch,
            item=item,
            scenario=scenario,
            rate_limit_factory=lambda *, backend, model: _RateLimitWait(
                batch=batch, backend=backend
            ),
            passes=passes,
            start=start,
        )
    except RateLimitTimeout as exc:
        released(str(exc), refund=True)
        raise TransientBackendError(str(exc)) from None
    except TransientBackendError as exc:
        if released(str(exc)):
            raise
        return "failed"
    except PassFailed as exc:
        if released(str(exc)):
            raise OutputRetry(str(exc), retry_after=0) from None
        return "failed"
    except BackendError as exc:
        _item_fail(item_id=item_id, claim_token=claim_token, error=str(exc))
        _batch_finish_if_complete(batch.pk)
        return "failed"
    critique_flags = outcome.outcome.as_flags() if outcome.outcome else []
    validated = outcome.validated
    validated.flags = [*validated.flags, *critique_flags]
    return _item_complete(
        item_id=item_id,
        claim_token=claim_token,
        batch=batch,
        validated=validated,
        usage=_usage_total(passes),
        model=_writer_model_reported(item.passes, passes[0].model_reported),
        passes=[p.to_json() for p in passes],
        verdict=outcome.outcome.verdict if outcome.outcome else "",
        # Resumed after steps answered by the Batch API: both modes paid for this report.
        api_mode="batch_api+direct"
        if any(p.get("api_mode") == Batch.Mode.BATCH_API for p in item.passes)
        else None,
    )


def _backends() -> Any:
    """Backends by name, each built once for the item (the judge's may be another)."""
    built: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in built:
            built[name] = backend_get(name)
        return built[name]

    return get


def _writer_model_reported(stored: list[dict[str, Any]], default: str) -> str:
    """The model the first draft's writer reported (a resumed item's came before)."""
    writers = [p for p in stored if p.get("kind") == "writer"]
    return str(writers[0]["model_reported"]) if writers else default


def batch_item_apply_step(*, item_id: int, job_id: str, result: BackendResult) -> str:
    """Apply one Batch API line to a two-pass item: the answer to the call its stored step
    says was sent in `job_id`. Idempotent: the step is compared and set under a row lock,
    so a line applied twice (a repeated poll), or after the item went to direct mode,
    changes nothing. Returns "advanced" (the next step is stored, for the next job),
    "done" (the report is written, claimed and written as a direct answer), "retry" (an
    unusable answer, an attempt counted: the item goes to direct mode, resuming at the
    same step), "failed" (attempts exhausted) or "not_claimed"."""
    with transaction.atomic():
        item = (
            BatchItem.objects.select_for_update(of=("self",))
            .select_related("batch__prompt", "batch__frame", "batch__guideline")
            .filter(
                pk=item_id,
                status=BatchItem.Status.PENDING,
                pass_state__job=job_id,
                batch__status=Batch.Status.RUNNING,
            )
            .first()
        )
        if item is None:
            return "not_claimed"
        batch = item.batch
        scenario = Scenario.from_json(item.scenario)
        step = Step.from_json(item.pass_state)
        call = step_call(batch=batch, item=item, scenario=scenario, step=step)
        record = pass_record(
            call=call,
            result=result,
            attempt=item.attempts + 1,
            batch=batch,
            latency_ms=result.latency_ms,
            price_factor=BACKENDS[call.backend].batch_api_price_factor or 1.0,
            api_mode=Batch.Mode.BATCH_API,
        )
        try:
            following = step_advance(
                batch=batch, scenario=scenario, step=step, result=result, record=record
            )
        except PassFailed as exc:
            _item_step_spent(item, record)
            item.attempts += 1
            # Direct mode takes the item from this step (the answer is asked again there).
            item.pass_state = {**step.to_json(), "job": DIRECT}
            retry = item.attempts < settings.GENERATION_MAX_ATTEMPTS
            if retry:
                item.error = f"attempt {item.attempts}: {exc}"
                item.enqueued_at = timezone.now()
            else:
                item.status = BatchItem.Status.FAILED
                item.error = f"gave up after {item.attempts} attempts; last error: {exc}"
                item.finished_at = timezone.now()
            item.save()
            outcome = "retry" if retry else "failed"
        else:
            if isinstance(following, Step):
                _item_step_spent(item, record)
                item.pass_state = following.to_json()
                item.save(update_fields=["passes", "tokens_in", "tokens_out", "pass_state"])
                return "advanced"
            outcome = _item_final_from_batch(
                item=item, job_id=job_id, final=following, record=record
            )
    if outcome == "failed":
        _batch_finish_if_complete(batch.pk)
    return outcome


def _item_step_spent(item: BatchItem, record: PassRecord) -> None:
    item.passes = [*item.passes, record.to_json()]
    item.tokens_in += record.tokens_in
    item.tokens_out += record.tokens_out


def _item_final_from_batch(
    *, item: BatchItem, job_id: str, final: Final, record: PassRecord
) -> str:
    """The last call of a Batch API item answered: claim it as a task would, write it."""
    token = f"provider-{job_id}"
    if not _item_claim(item_id=item.pk, claim_token=token):
        return "not_claimed"
    validated = final.validated
    if final.outcome is not None:
        validated.flags = [*validated.flags, *final.outcome.as_flags()]
    stored = [*item.passes, record.to_json()]
    modes = {p.get("api_mode", "direct") for p in stored}
    return _item_complete(
        item_id=item.pk,
        claim_token=token,
        batch=item.batch,
        validated=validated,
        usage={
            "tokens_in": record.tokens_in,
            "tokens_out": record.tokens_out,
            "latency_ms": sum(int(p.get("latency_ms") or 0) for p in stored),
            "finish_reason": record.finish_reason,
            "rate_limit_wait_ms": 0,
        },
        model=_writer_model_reported(item.passes, record.model_reported),
        passes=[record.to_json()],
        verdict=final.outcome.verdict if final.outcome else "",
        api_mode=Batch.Mode.BATCH_API if modes == {Batch.Mode.BATCH_API} else "batch_api+direct",
    )


def _item_take(*, item: BatchItem, claim_token: str) -> bool:
    """Claim the item for this token; a cancelled batch's pending item is skipped instead."""
    if item.batch.status == Batch.Status.CANCELLED:
        BatchItem.objects.filter(pk=item.pk, status=BatchItem.Status.PENDING).update(
            status=BatchItem.Status.SKIPPED, finished_at=timezone.now()
        )
        return False
    claimable = item.status == BatchItem.Status.PENDING or (
        item.status == BatchItem.Status.RUNNING and item.claim_token == claim_token
    )
    # The in-memory check saves an UPDATE in the common "already taken" case; the
    # conditional UPDATE is what decides under concurrency.
    return claimable and _item_claim(item_id=item.pk, claim_token=claim_token)


def _generation_request(*, batch: Batch, item: BatchItem, scenario: Scenario) -> GenerationRequest:
    prompt = batch.prompt
    system_prompt, user_prompt = prompt_render(
        system_template=prompt.system_template,
        user_template=prompt.user_template,
        scenario=scenario,
        language=batch.language,
        kb=guideline_knowledge(guideline=batch.guideline),
    )
    return GenerationRequest(
        scenario=scenario,
        system_prompt=system_prompt,
        user_prompt=user_prompt,
        model=batch.model,
        temperature=batch.temperature,
        # One seed per item: the same batch replays the same requests.
        seed=(batch.seed + item.index) % 2**31,
        language=batch.language,
        json_schema=output_json_schema(),
        max_tokens=MAX_OUTPUT_TOKENS,
        knowledge=guideline_knowledge(guideline=batch.guideline),
    )


class _RateLimitWait:
    """The global rate limit around one backend call (network backends only): waits for
    budget before the request is sent, then charges the tokens actually used."""

    def __init__(self, *, batch: Batch, backend: str | None = None) -> None:
        backend = backend or batch.backend
        self.network = BACKENDS[backend].network
        # Per provider account, not per model: the provider limits the account's requests
        # whatever the model, so a judge on another model of the same server shares the
        # writer's budget (keyed by model, the two budgets added up to twice the limit).
        # A judge on another server has its own.
        self.key = rate_limit_key(backend)
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        if self.network:
            self.waited_seconds += limiter_get().acquire(
                key=self.key,
                tokens=ESTIMATED_TOKENS_IN + ESTIMATED_TOKENS_OUT,
                max_wait_seconds=settings.GENERATION_RATE_LIMIT_MAX_WAIT_SECONDS,
            )

    def settle(self, result: BackendResult) -> dict[str, Any]:
        """Charge the difference from the estimate; returns the call's usage."""
        if self.network:
            extra = (
                result.tokens_in + result.tokens_out - ESTIMATED_TOKENS_IN - ESTIMATED_TOKENS_OUT
            )
            limiter_get().charge_tokens(key=self.key, tokens=extra)
        return {
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "latency_ms": result.latency_ms,
            "finish_reason": result.finish_reason,
            # Time queued for the global rate limit: neither the model's latency nor ours.
            "rate_limit_wait_ms": int(self.waited_seconds * 1000),
        }


def _provenance(
    *,
    batch: Batch,
    item: BatchItem,
    usage: dict[str, Any],
    model: str,
    flags: list[str],
    passes: list[dict[str, Any]] | None = None,
    verdict: str = "",
    price_factor: float = 1.0,
    api_mode: str | None = None,
) -> Provenance:
    tokens_in = item.tokens_in + usage["tokens_in"]
    tokens_out = item.tokens_out + usage["tokens_out"]
    offline = batch.backend == "offline"
    if passes is None:
        cost = round(
            cost_eur(model=batch.model, tokens_in=tokens_in, tokens_out=tokens_out) * price_factor,
            4,
        )
    else:
        # Each pass at its own model's price (the judge may be another model); the
        # failed attempts' calls, already on the item, are paid for too.
        all_passes = [*item.passes, *passes]
        cost = round(sum(p["cost_eur"] for p in all_passes), 4)
    return Provenance(
        batch=str(batch.pk),
        batch_name=batch.name,
        item_index=item.index,
        backend=batch.backend,
        model=batch.model if not offline else "offline-template-v1",
        model_reported=model,
        prompt_version=batch.prompt.label,
        # A one-pass answer (the offline writer's too) follows schema 1 whatever the prompt.
        output_schema_version=batch.prompt.output_schema_version
        if passes is not None
        else OUTPUT_SCHEMA_VERSION,
        frame=batch.frame.label,
        guideline=batch.guideline.label if batch.guideline else "",
        seed=batch.seed,
        temperature=batch.temperature,
        scenario=item.scenario,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_ms=usage["latency_ms"],
        rate_limit_wait_ms=usage.get("rate_limit_wait_ms", 0),
        finish_reason=usage["finish_reason"],
        attempts=item.attempts,
        cost_eur=cost,
        flags=flags,
        passes=None if passes is None else [*item.passes, *passes],
        verdict=verdict or None,
        judge_model=_judge_label(batch) if passes is not None and batch.critique else None,
        api_mode=api_mode,
        note="Written by the offline template writer, not by a language model."
        if offline
        else None,
    )


def _judge_label(batch: Batch) -> str:
    # The backend is named only when the judge runs on another one than the writer.
    if batch.judge_backend_name != batch.backend:
        return f"{batch.judge_model_name} ({batch.judge_backend_name})"
    return batch.judge_model_name


def _item_complete(
    *,
    item_id: int,
    claim_token: str,
    batch: Batch,
    validated: ValidatedReport,
    usage: dict[str, Any],
    model: str,
    passes: list[dict[str, Any]] | None = None,
    verdict: str = "",
    price_factor: float = 1.0,
    api_mode: str | None = None,
) -> str:
    with transaction.atomic():
        item = (
            BatchItem.objects.select_for_update()
            .filter(pk=item_id, status=BatchItem.Status.RUNNING, claim_token=claim_token)
            .first()
        )
        if item is None or item.report_id is not None:
            # Someone else holds the item now (the sweep re-queued it): drop this answer.
            return "claim_lost"
        provenance = _provenance(
            batch=batch,
            item=item,
            usage=usage,
            model=model,
            flags=validated.flag_codes,
            passes=passes,
            verdict=verdict,
            price_factor=price_factor,
            api_mode=api_mode,
        )
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    text=validated.narrative,
                    source=Report.Source.SYNTHETIC,
                    language=batch.language,
                    annotations=validated.annotations,
                    provenance=provenance.to_json(),
                )
                # Searchable by coordinators from the commit on (one report: ~1 ms).
                reports_search_index(report_ids=[report.pk])
                item.report = report
                item.status = BatchItem.Status.DONE
                item.tokens_in = provenance.tokens_in
                item.tokens_out = provenance.tokens_out
                item.latency_ms = usage["latency_ms"]
                item.finish_reason = usage["finish_reason"]
                item.flags = validated.flags
                if passes is not None:
                    item.passes = provenance.passes
                    item.verdict = verdict
                item.pass_state = {}
                item.error = ""
                item.claim_token = ""
                item.finished_at = timezone.now()
                item.save()
        except IntegrityError:
            logger.exception("Item %s: report not saved", item_id)
            return "claim_lost"
    _batch_finish_if_complete(batch.pk)
    return "done"
