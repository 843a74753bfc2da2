"""Writes for the generation app: frames, prompt versions, batches and their items.

Keyword-only functions; bad input raises `review.exceptions.InvalidInput`, a forbidden
state change `Conflict`, and in both cases nothing is written. The batch invariants
(DESIGN.md, "Nothing is lost"):

* a batch and all its items (scenarios sampled) are created in one transaction, and
  their tasks are enqueued only once it commits;
* an item is claimed with a conditional UPDATE; its report and its outcome are written in
  one transaction, under a row lock, only by the holder of the claim — so a redelivered or
  duplicated task never writes a second report, and a one-to-one link backs that up;
* an item that cannot finish (worker killed) is put back by `items_requeue_stuck`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from generation import frames as frame_format
from generation.backends import (
    BackendError,
    BackendUnavailable,
    GenerationRequest,
    TransientBackendError,
    backend_get,
)
from generation.models import Batch, BatchItem, PromptTemplate, SamplingFrame
from generation.output import OUTPUT_SCHEMA_VERSION, OutputInvalid, output_json_schema, output_parse
from generation.prompts import DEFAULT_PROMPTS, prompt_render
from generation.ratelimit import RateLimitTimeout, limiter_get
from generation.sampler import scenario_sample
from generation.validation import report_validate
from review.exceptions import Conflict, InvalidInput
from review.models import Report
from review.services import audit_log

logger = logging.getLogger(__name__)

# Typical size of one report, for the cost estimate shown before launch (measured on the
# default prompts: the scenario prompt is ~1.2k tokens, a report with annotations ~2k).
ESTIMATED_TOKENS_IN = 1200
ESTIMATED_TOKENS_OUT = 2000
MAX_OUTPUT_TOKENS = 4096
NETWORK_BACKENDS = {"mistral"}

User = AbstractBaseUser | AnonymousUser | None


class OutputRetry(TransientBackendError):
    """The answer was unusable (not JSON, wrong shape, truncated): a new attempt may do."""


def _user_or_none(user: User) -> Any:
    return user if user is not None and user.is_authenticated else None


# --- frames and prompts ----------------------------------------------------------------


def frame_default_ensure() -> SamplingFrame:
    data = frame_format.default_frame_data()
    frame = SamplingFrame.objects.filter(name=data["name"], version=data["version"]).first()
    if frame is None:
        frame_format.frame_validate(data)
        frame, _created = SamplingFrame.objects.get_or_create(
            name=data["name"],
            version=data["version"],
            defaults={"title": data.get("title", ""), "data": data, "sources": data["sources"]},
        )
    return frame


def frame_create(*, text: str, created_by: User = None) -> SamplingFrame:
    """Validate an uploaded frame (JSON or YAML) and store it; all errors at once."""
    try:
        data = frame_format.frame_parse_text(text)
        parsed = frame_format.frame_validate(data)
    except frame_format.FrameInvalid as exc:
        raise InvalidInput(
            _("The frame is invalid: %(errors)s") % {"errors": " | ".join(exc.errors)},
            code="frame_invalid",
        ) from None
    if SamplingFrame.objects.filter(name=parsed.name, version=parsed.version).exists():
        raise InvalidInput(
            _("A frame %(label)s already exists; raise its version.")
            % {"label": f"{parsed.name}@{parsed.version}"},
            code="frame_exists",
        )
    frame = SamplingFrame.objects.create(
        name=parsed.name,
        version=parsed.version,
        title=parsed.title,
        data=data,
        sources=data["sources"],
        created_by=_user_or_none(created_by),
    )
    audit_log(actor=created_by, action="generation.frame_created", target=frame.label)
    return frame


def prompt_defaults_ensure() -> dict[str, PromptTemplate]:
    templates = {}
    for language, spec in DEFAULT_PROMPTS.items():
        templates[language], _created = PromptTemplate.objects.get_or_create(
            name=spec["name"],
            version=1,
            defaults={
                "language": language,
                "system_template": spec["system"],
                "user_template": spec["user"],
                "output_schema_version": OUTPUT_SCHEMA_VERSION,
            },
        )
    return templates


def prompt_template_new_version(
    *, base: PromptTemplate, system_template: str, user_template: str, created_by: User = None
) -> PromptTemplate:
    """A new version of `base` (versions are immutable once a batch used them)."""
    if not system_template.strip() or not user_template.strip():
        raise InvalidInput(_("Both prompts must be non-empty."), code="prompt_empty")
    if "$scenario" not in user_template:
        raise InvalidInput(
            _("The user prompt must contain $scenario (where the scenario goes)."),
            code="prompt_no_scenario",
        )
    latest = PromptTemplate.objects.filter(name=base.name).order_by("-version").first()
    version = (latest.version if latest else 0) + 1
    return PromptTemplate.objects.create(
        name=base.name,
        version=version,
        language=base.language,
        system_template=system_template,
        user_template=user_template,
        output_schema_version=OUTPUT_SCHEMA_VERSION,
        created_by=_user_or_none(created_by),
    )


# --- launching ---------------------------------------------------------------------------


def model_price(model: str) -> tuple[float, float]:
    prices = settings.MISTRAL_PRICES_EUR_PER_MTOK
    return prices.get(model, (0.0, 0.0))


def cost_eur(*, model: str, tokens_in: int, tokens_out: int) -> float:
    price_in, price_out = model_price(model)
    return round((tokens_in * price_in + tokens_out * price_out) / 1_000_000, 4)


def batch_cost_estimate(*, count: int, backend: str, model: str) -> dict[str, Any]:
    if backend != "mistral":
        return {"tokens_in": 0, "tokens_out": 0, "eur": 0.0, "model": "offline"}
    tokens_in, tokens_out = count * ESTIMATED_TOKENS_IN, count * ESTIMATED_TOKENS_OUT
    return {
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "eur": cost_eur(model=model, tokens_in=tokens_in, tokens_out=tokens_out),
        "model": model,
    }


def _frame_resolve(frame: SamplingFrame | str | None) -> SamplingFrame:
    if isinstance(frame, SamplingFrame):
        return frame
    if not frame:
        return frame_default_ensure()
    name, _sep, version = frame.partition("@")
    frames = SamplingFrame.objects.filter(name=name)
    if version:
        if not version.isdigit():
            raise InvalidInput(_("Unknown frame %(f)r.") % {"f": frame}, code="unknown_frame")
        frames = frames.filter(version=int(version))
    found = frames.order_by("-version").first()
    if found is None and name == frame_format.default_frame_data()["name"]:
        found = frame_default_ensure()
    if found is None:
        raise InvalidInput(_("Unknown frame %(f)r.") % {"f": frame}, code="unknown_frame")
    return found


def _prompt_resolve(prompt: PromptTemplate | str | None, language: str) -> PromptTemplate:
    defaults = prompt_defaults_ensure()
    if isinstance(prompt, PromptTemplate):
        found: PromptTemplate | None = prompt
    elif not prompt:
        found = (
            PromptTemplate.objects.filter(name=defaults[language].name).order_by("-version").first()
        )
    else:
        name, sep, version = prompt.rpartition("-v")
        found = None
        if sep and version.isdigit():
            found = PromptTemplate.objects.filter(name=name, version=int(version)).first()
        if found is None:
            found = PromptTemplate.objects.filter(name=prompt).order_by("-version").first()
    if found is None:
        raise InvalidInput(_("Unknown prompt %(p)r.") % {"p": prompt}, code="unknown_prompt")
    if found.language != language:
        raise InvalidInput(
            _("Prompt %(p)s is in %(pl)s, the batch in %(l)s.")
            % {"p": found.label, "pl": found.language, "l": language},
            code="prompt_language",
        )
    return found


def batch_launch(
    *,
    count: int,
    frame: SamplingFrame | str | None = None,
    prompt: PromptTemplate | str | None = None,
    backend: str | None = None,
    model: str | None = None,
    temperature: float = 0.7,
    seed: int | None = None,
    language: str = "fr",
    site_filter: str = "",
    name: str = "",
    created_by: User = None,
    enqueue: bool = True,
) -> Batch:
    """Create a batch and its items (scenarios sampled now) atomically; enqueue on commit.

    Everything is checked before anything is written: count within 1..GENERATION_MAX_BATCH_SIZE,
    known frame, prompt (in the batch's language), backend and model, and a usable backend
    (the mistral backend without API key or server URL is refused here, not a hundred
    failed items later). `enqueue=False` leaves the items for the caller to run (the
    CLI's in-process mode).
    """
    backend = backend or settings.GENERATION_DEFAULT_BACKEND
    if not isinstance(count, int) or count < 1 or count > settings.GENERATION_MAX_BATCH_SIZE:
        raise InvalidInput(
            _("The number of reports must be between 1 and %(max)d.")
            % {"max": settings.GENERATION_MAX_BATCH_SIZE},
            code="bad_count",
        )
    if language not in DEFAULT_PROMPTS:
        raise InvalidInput(_("Language must be fr or en."), code="bad_language")
    if backend not in Batch.Backend.values:
        raise InvalidInput(
            _("Unknown backend %(b)r (use offline or mistral).") % {"b": backend},
            code="unknown_backend",
        )
    if not 0 <= temperature <= 2:
        raise InvalidInput(_("Temperature must be between 0 and 2."), code="bad_temperature")
    if backend == "mistral":
        model = model or settings.MISTRAL_MODEL
        if model not in settings.MISTRAL_PRICES_EUR_PER_MTOK or model == "offline":
            raise InvalidInput(
                _("Unknown model %(m)r; known models: %(known)s.")
                % {
                    "m": model,
                    "known": ", ".join(
                        m for m in settings.MISTRAL_PRICES_EUR_PER_MTOK if m != "offline"
                    ),
                },
                code="unknown_model",
            )
        try:
            backend_get("mistral")
        except BackendUnavailable as exc:
            raise InvalidInput(str(exc), code="backend_unavailable") from None
    else:
        model = "offline"
    if seed is None:
        seed = int(timezone.now().timestamp() * 1000) % 2**31
    with transaction.atomic():
        frame_obj = _frame_resolve(frame)
        prompt_obj = _prompt_resolve(prompt, language)
        parsed = frame_format.frame_validate(frame_obj.data)
        if site_filter and site_filter not in parsed.sites:
            raise InvalidInput(
                _("Site %(s)r is not in frame %(f)s.") % {"s": site_filter, "f": frame_obj.label},
                code="unknown_site",
            )
        batch = Batch.objects.create(
            name=name or f"{timezone.localtime():%Y-%m-%d %H:%M} {language} x{count}",
            count=count,
            frame=frame_obj,
            prompt=prompt_obj,
            backend=backend,
            model=model,
            temperature=temperature,
            seed=seed,
            language=language,
            site_filter=site_filter,
            created_by=_user_or_none(created_by),
        )
        BatchItem.objects.bulk_create(
            BatchItem(
                batch=batch,
                index=index,
                scenario=scenario_sample(
                    frame=parsed,
                    seed=seed,
                    index=index,
                    language=language,
                    site_filter=site_filter,
                ),
            )
            for index in range(count)
        )
        audit_log(
            actor=created_by,
            action="generation.batch_launched",
            target=f"batch:{batch.pk}",
            details={"count": count, "backend": backend, "model": model},
        )
        if enqueue:
            item_ids = list(batch.items.values_list("pk", flat=True))
            transaction.on_commit(lambda: items_enqueue(item_ids=item_ids))
    return batch


def items_enqueue(*, item_ids: Iterable[int]) -> int:
    """Send one task per item (after commit). A duplicate message is harmless."""
    from generation.tasks import item_generate

    ids = list(item_ids)
    BatchItem.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
    for item_id in ids:
        item_generate.apply_async(kwargs={"item_id": item_id})
    return len(ids)


# --- processing one item -------------------------------------------------------------------


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
        BatchItem.objects.filter(pk=item_id).select_related("batch__prompt", "batch__frame").first()
    )
    if item is None:
        return "missing"
    if item.batch.status == Batch.Status.CANCELLED:
        BatchItem.objects.filter(pk=item_id, status=BatchItem.Status.PENDING).update(
            status=BatchItem.Status.SKIPPED, finished_at=timezone.now()
        )
        return "not_claimed"
    claimable = item.status == BatchItem.Status.PENDING or (
        item.status == BatchItem.Status.RUNNING and item.claim_token == claim_token
    )
    if not claimable:
        return "not_claimed"
    batch = item.batch
    if not _item_claim(item_id=item_id, claim_token=claim_token):
        return "not_claimed"

    prompt = batch.prompt
    system_prompt, user_prompt = prompt_render(
        system_template=prompt.system_template,
        user_template=prompt.user_template,
        scenario=item.scenario,
        language=batch.language,
    )
    request = GenerationRequest(
        scenario=item.scenario,
        system_prompt=system_prompt,
        user_prompt=user_prompt,
        model=batch.model,
        temperature=batch.temperature,
        seed=(batch.seed + item.index) % 2**31,
        language=batch.language,
        json_schema=output_json_schema(),
        max_tokens=MAX_OUTPUT_TOKENS,
    )

    rate_limit_wait = [0.0]

    def wait_for_rate_limit() -> None:
        if batch.backend in NETWORK_BACKENDS:
            rate_limit_wait[0] += limiter_get().acquire(
                key=f"{batch.backend}:{batch.model}",
                tokens=ESTIMATED_TOKENS_IN + ESTIMATED_TOKENS_OUT,
                max_wait_seconds=settings.GENERATION_RATE_LIMIT_MAX_WAIT_SECONDS,
            )

    try:
        result = backend_get(batch.backend).generate(request, before_send=wait_for_rate_limit)
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
    usage = {
        "tokens_in": result.tokens_in,
        "tokens_out": result.tokens_out,
        "latency_ms": result.latency_ms,
        "finish_reason": result.finish_reason,
        # Time queued for the global rate limit: neither the model's latency nor ours.
        "rate_limit_wait_ms": int(rate_limit_wait[0] * 1000),
    }
    if batch.backend in NETWORK_BACKENDS:
        extra = result.tokens_in + result.tokens_out - ESTIMATED_TOKENS_IN - ESTIMATED_TOKENS_OUT
        limiter_get().charge_tokens(key=f"{batch.backend}:{batch.model}", tokens=extra)
    try:
        if result.finish_reason == "length":
            raise OutputInvalid("The answer was cut off (finish_reason=length).")
        output = output_parse(result.content)
    except OutputInvalid as exc:
        if batch_item_release(
            item_id=item_id, claim_token=claim_token, error=str(exc), usage=usage
        ):
            raise OutputRetry(str(exc), retry_after=0) from None
        return "failed"
    validated = report_validate(output=output, scenario=item.scenario, language=batch.language)
    return _item_complete(
        item_id=item_id,
        claim_token=claim_token,
        batch=batch,
        validated=validated,
        usage=usage,
        model=result.model,
    )


def _item_complete(*, item_id, claim_token, batch: Batch, validated, usage, model) -> str:
    with transaction.atomic():
        item = (
            BatchItem.objects.select_for_update()
            .filter(pk=item_id, status=BatchItem.Status.RUNNING, claim_token=claim_token)
            .first()
        )
        if item is None or item.report_id is not None:
            # Someone else holds the item now (the sweep re-queued it): drop this answer.
            return "claim_lost"
        tokens_in = item.tokens_in + usage["tokens_in"]
        tokens_out = item.tokens_out + usage["tokens_out"]
        flag_codes = validated.flag_codes
        provenance = {
            "kind": "generation",
            "batch": str(batch.pk),
            "batch_name": batch.name,
            "item_index": item.index,
            "backend": batch.backend,
            "model": batch.model if batch.backend != "offline" else "offline-template-v1",
            "model_reported": model,
            "prompt_version": batch.prompt.label,
            "output_schema_version": batch.prompt.output_schema_version,
            "frame": batch.frame.label,
            "seed": batch.seed,
            "temperature": batch.temperature,
            "scenario": item.scenario,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "latency_ms": usage["latency_ms"],
            "rate_limit_wait_ms": usage.get("rate_limit_wait_ms", 0),
            "finish_reason": usage["finish_reason"],
            "attempts": item.attempts,
            "cost_eur": cost_eur(model=batch.model, tokens_in=tokens_in, tokens_out=tokens_out),
            "flags": flag_codes,
        }
        if batch.backend == "offline":
            provenance["note"] = "Written by the offline template writer, not by a language model."
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    text=validated.narrative,
                    source=Report.Source.SYNTHETIC,
                    language=batch.language,
                    annotations=validated.annotations,
                    provenance=provenance,
                )
                item.report = report
                item.status = BatchItem.Status.DONE
                item.tokens_in = tokens_in
                item.tokens_out = tokens_out
                item.latency_ms = usage["latency_ms"]
                item.finish_reason = usage["finish_reason"]
                item.flags = validated.flags
                item.error = ""
                item.claim_token = ""
                item.finished_at = timezone.now()
                item.save()
        except IntegrityError:
            logger.exception("Item %s: report not saved", item_id)
            return "claim_lost"
    _batch_finish_if_complete(batch.pk)
    return "done"


# --- batch actions ----------------------------------------------------------------------------


def batch_cancel(*, batch: Batch, actor: User = None) -> int:
    """Stop a batch: items not started are skipped (tasks check at start); running ones
    finish. Returns the number of items skipped."""
    if batch.status != Batch.Status.RUNNING:
        raise Conflict(_("Only a running batch can be cancelled."), code="batch_not_running")
    now = timezone.now()
    with transaction.atomic():
        Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.CANCELLED, finished_at=now)
        skipped = BatchItem.objects.filter(batch=batch, status=BatchItem.Status.PENDING).update(
            status=BatchItem.Status.SKIPPED, finished_at=now
        )
        audit_log(
            actor=actor,
            action="generation.batch_cancelled",
            target=f"batch:{batch.pk}",
            details={"skipped": skipped},
        )
    batch.refresh_from_db()
    return skipped


def batch_retry_failed(*, batch: Batch, actor: User = None) -> int:
    """Put failed items back to pending with a fresh attempt budget and enqueue them."""
    with transaction.atomic():
        ids = list(
            BatchItem.objects.select_for_update()
            .filter(batch=batch, status=BatchItem.Status.FAILED)
            .values_list("pk", flat=True)
        )
        if not ids:
            raise Conflict(_("This batch has no failed items."), code="no_failed_items")
        BatchItem.objects.filter(pk__in=ids).update(
            status=BatchItem.Status.PENDING, attempts=0, claim_token="", finished_at=None
        )
        Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.RUNNING, finished_at=None)
        audit_log(
            actor=actor,
            action="generation.batch_retry_failed",
            target=f"batch:{batch.pk}",
            details={"items": len(ids)},
        )
        transaction.on_commit(lambda: items_enqueue(item_ids=ids))
    batch.refresh_from_db()
    return len(ids)


def items_requeue_stuck(*, older_than_seconds: float | None = None) -> dict[str, int]:
    """Periodic sweep: items RUNNING for too long (their worker died) go back to PENDING,
    and PENDING items of running batches whose message may have been lost are enqueued
    again. Duplicate messages are harmless (the claim decides)."""
    seconds = (
        settings.GENERATION_STUCK_AFTER_SECONDS
        if older_than_seconds is None
        else older_than_seconds
    )
    cutoff = timezone.now() - dt.timedelta(seconds=seconds)
    with transaction.atomic():
        stuck = list(
            BatchItem.objects.select_for_update(skip_locked=True)
            .filter(status=BatchItem.Status.RUNNING, claimed_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        BatchItem.objects.filter(pk__in=stuck).update(
            status=BatchItem.Status.PENDING, claim_token="", error="requeued: worker lost"
        )
        waiting = list(
            BatchItem.objects.filter(
                status=BatchItem.Status.PENDING,
                batch__status=Batch.Status.RUNNING,
            )
            .filter(Q(enqueued_at__lt=cutoff) | Q(enqueued_at__isnull=True))
            .exclude(pk__in=stuck)
            .values_list("pk", flat=True)
        )
        ids = stuck + waiting
        if ids:
            transaction.on_commit(lambda: items_enqueue(item_ids=ids))
    return {"requeued_running": len(stuck), "reenqueued_pending": len(waiting)}


def batch_run_in_process(*, batch: Batch, max_rounds: int = 20) -> dict[str, int]:
    """Run a batch's open items in this process, without Celery (demo seeding, CLI).

    Transient failures are retried in later rounds (no sleeping: meant for the offline
    backend and small batches). Returns the item counts by status.
    """
    for _round in range(max_rounds):
        open_ids = list(
            BatchItem.objects.filter(batch=batch, status=BatchItem.Status.PENDING)
            .order_by("index")
            .values_list("pk", flat=True)
        )
        if not open_ids:
            break
        for item_id in open_ids:
            try:
                batch_item_process(item_id=item_id, claim_token=f"in-process-{item_id}")
            except TransientBackendError:
                continue
    batch.refresh_from_db()
    counts: dict[str, int] = {status: 0 for status in BatchItem.Status.values}
    for status in BatchItem.objects.filter(batch=batch).values_list("status", flat=True):
        counts[status] += 1
    return counts
