"""Batch lifecycle: launch, cancel, retry failed items, requeue stuck ones, run in process.

Keyword-only functions; bad input raises `review.exceptions.InvalidInput`, a forbidden
state change `Conflict`, and in both cases nothing is written. The batch invariants
(DESIGN.md, "Nothing is lost"):

* a batch and all its items (scenarios sampled) are created in one transaction, and
  their tasks are enqueued (by name, through `generation.queue`) only once it commits;
* one item is processed by `generation.pipeline.batch_item_process` (claim, write the
  report with its status in one transaction);
* an item that cannot finish (worker killed) is put back by `items_requeue_stuck`.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from generation import frame_format
from generation.backends import BACKENDS, BackendUnavailable, TransientBackendError, backend_get
from generation.catalogue import (
    User,
    frame_resolve,
    guideline_knowledge,
    guideline_latest,
    prompt_resolve,
    user_or_none,
)
from generation.clinical import knowledge
from generation.models import Batch, BatchItem, PromptTemplate, SamplingFrame
from generation.pipeline import batch_item_process
from generation.prompts import DEFAULT_PROMPTS
from generation.queue import items_enqueue
from generation.sampler import scenario_sample
from review.blinding.style_profile import StyleProfile
from review.exceptions import Conflict, InvalidInput
from review.services import audit_log


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
    critique: bool = True,
    judge_backend: str = "",
    judge_model: str = "",
    max_revisions: int | None = None,
    mode: str = "direct",
    idempotency_key: str = "",
    style_profile: StyleProfile | None = None,
) -> Batch:
    """Create a batch and its items (scenarios sampled now) atomically; enqueue on commit.

    Idempotent under `idempotency_key` (the API's Idempotency-Key header, the page's form
    token): a launch replayed by the same user, even at the same moment, returns the batch
    the first one created and pays for nothing more (a unique constraint decides the race).

    With a `style_profile` (`review.blinding.style_profile`, from an import of real
    reports) every scenario carries a style drawn from it (target length, sections, heading
    style) that the writers follow, so the batch reads like that corpus.

    Everything is checked before anything is written: count within 1..GENERATION_MAX_BATCH_SIZE,
    known frame, prompt (in the batch's language), backend and model, and a usable backend
    (the mistral backend without API key or server URL is refused here, not a hundred
    failed items later). `enqueue=False` leaves the items for the caller to run (the
    CLI's in-process mode).
    """
    backend = backend or settings.GENERATION_DEFAULT_BACKEND
    if len(idempotency_key) > IDEMPOTENCY_KEY_MAX_CHARS or not idempotency_key.isprintable():
        raise InvalidInput(
            _("The idempotency key must be at most %(n)d printable characters.")
            % {"n": IDEMPOTENCY_KEY_MAX_CHARS},
            code="bad_idempotency_key",
        )
    if idempotency_key:
        existing = batch_for_idempotency_key(created_by=created_by, key=idempotency_key)
        if existing is not None:
            return existing
    model = _launch_parameters_check(
        count=count, language=language, backend=backend, model=model, temperature=temperature
    )
    if max_revisions is None:
        max_revisions = settings.GENERATION_MAX_REVISIONS
    judge_backend, judge_model = _critique_parameters_check(
        backend=backend,
        judge_backend=judge_backend,
        judge_model=judge_model,
        max_revisions=max_revisions,
    )
    if seed is None:
        seed = int(timezone.now().timestamp() * 1000) % 2**31
    try:
        with transaction.atomic():
            frame_obj = frame_resolve(frame=frame)
            prompt_obj = prompt_resolve(prompt=prompt, language=language)
            _mode_check(mode=mode, backend=backend)
            # New batches draw with the newest knowledge base; the batch keeps which one.
            guideline = guideline_latest()
            parsed = frame_format.frame_validate(frame_obj.data)
            if site_filter and site_filter not in parsed.sites:
                raise InvalidInput(
                    _("Site %(s)r is not in frame %(f)s.")
                    % {"s": site_filter, "f": frame_obj.label},
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
                created_by=user_or_none(created_by),
                critique=critique,
                judge_backend=judge_backend,
                judge_model=judge_model,
                max_revisions=max_revisions,
                mode=mode,
                guideline=guideline,
                idempotency_key=idempotency_key,
            )
            _batch_items_create(
                batch=batch,
                frame=parsed,
                kb=guideline_knowledge(guideline=guideline),
                style_profile=style_profile,
            )
            details: dict = {"count": count, "backend": backend, "model": model}
            if style_profile is not None:
                details["style_profile"] = style_profile.as_dict()
            audit_log(
                actor=created_by,
                action="generation.batch_launched",
                target=f"batch:{batch.pk}",
                details=details,
            )
            # A Batch API batch is submitted by the periodic poller as one provider job.
            if enqueue and mode == Batch.Mode.DIRECT:
                item_ids = list(batch.items.values_list("pk", flat=True))
                transaction.on_commit(lambda: items_enqueue(item_ids=item_ids))
    except IntegrityError:
        # The same key, launched at the same moment by the same user: the other request's
        # batch won the unique constraint; this one created nothing.
        existing = batch_for_idempotency_key(created_by=created_by, key=idempotency_key)
        if not idempotency_key or existing is None:
            raise
        return existing
    return batch


IDEMPOTENCY_KEY_MAX_CHARS = 100  # Batch.idempotency_key


def batch_for_idempotency_key(*, created_by: User, key: str) -> Batch | None:
    """The batch this user already launched under this key, if any."""
    user = user_or_none(created_by)
    if not key or user is None:
        return None
    return Batch.objects.filter(created_by=user, idempotency_key=key).first()


def _launch_parameters_check(
    *, count: int, language: str, backend: str, model: str | None, temperature: float
) -> str:
    """Refuse bad launch parameters before anything is written; returns the model to use."""
    if not isinstance(count, int) or count < 1 or count > settings.GENERATION_MAX_BATCH_SIZE:
        raise InvalidInput(
            _("The number of reports must be between 1 and %(max)d.")
            % {"max": settings.GENERATION_MAX_BATCH_SIZE},
            code="bad_count",
        )
    if language not in DEFAULT_PROMPTS:
        raise InvalidInput(_("Language must be fr or en."), code="bad_language")
    spec = BACKENDS.get(backend)
    if spec is None:
        raise InvalidInput(
            _("Unknown backend %(b)r (use one of %(known)s).")
            % {"b": backend, "known": ", ".join(BACKENDS)},
            code="unknown_backend",
        )
    if not 0 <= temperature <= 2:
        raise InvalidInput(_("Temperature must be between 0 and 2."), code="bad_temperature")
    if not spec.network:
        # A local writer has one "model" (itself): whatever was asked is not used.
        return next(iter(spec.models))
    # MISTRAL_MODEL is the deployment's default Mistral model; another backend's default
    # is the first model it lists.
    model = model or (
        settings.MISTRAL_MODEL if backend == "mistral" else next(iter(spec.models), "")
    )
    if model not in spec.models:
        raise InvalidInput(
            _("Unknown model %(m)r; known models: %(known)s.")
            % {"m": model, "known": ", ".join(spec.models)},
            code="unknown_model",
        )
    try:
        # Refused here (no API key or server URL), not a hundred failed items later.
        backend_get(backend)
    except BackendUnavailable as exc:
        raise InvalidInput(str(exc), code="backend_unavailable") from None
    return model


def _mode_check(*, mode: str, backend: str) -> None:
    # Two-pass prompts run there too, as a chain of jobs (generation.provider_jobs).
    if mode not in Batch.Mode.values:
        raise InvalidInput(_("Mode must be direct or batch_api."), code="bad_mode")
    if mode != Batch.Mode.BATCH_API:
        return
    if BACKENDS[backend].batch_api_price_factor is None:
        raise InvalidInput(
            _("The %(b)s backend has no Batch API; use direct mode.") % {"b": backend},
            code="no_batch_api",
        )


def _critique_parameters_check(
    *, backend: str, judge_backend: str, judge_model: str, max_revisions: int
) -> tuple[str, str]:
    """Refuse a bad critique before anything is written. The judge may run on another
    backend of the registry and any of its models (empty: the writer's backend, and its
    model). Returns the (judge backend, judge model) to store, "" meaning the writer's."""
    if (
        not isinstance(max_revisions, int)
        or max_revisions < 0
        or max_revisions > settings.GENERATION_MAX_REVISIONS
    ):
        raise InvalidInput(
            _("The number of revisions must be between 0 and %(max)d.")
            % {"max": settings.GENERATION_MAX_REVISIONS},
            code="bad_max_revisions",
        )
    if not isinstance(judge_backend, str) or not isinstance(judge_model, str):
        raise InvalidInput(_("The judge backend and model must be text."), code="bad_judge_backend")
    if judge_backend == backend:
        judge_backend = ""
    if judge_backend:
        spec = BACKENDS.get(judge_backend)
        judges = [name for name, s in BACKENDS.items() if s.network]
        if spec is None or not spec.network:
            # The offline writer cannot judge: it is not a language model.
            raise InvalidInput(
                _("Unknown judge backend %(b)r (use one of %(known)s).")
                % {"b": judge_backend, "known": ", ".join(judges)},
                code="unknown_judge_backend",
            )
        judge_model = judge_model or next(iter(spec.models), "")
    models = BACKENDS[judge_backend or backend].models
    if judge_model and judge_model not in models:
        raise InvalidInput(
            _("Unknown judge model %(m)r; known models: %(known)s.")
            % {"m": judge_model, "known": ", ".join(models)},
            code="unknown_judge_model",
        )
    if judge_backend:
        try:
            # An unconfigured judge server is refused here, like the writer's.
            backend_get(judge_backend)
        except BackendUnavailable as exc:
            raise InvalidInput(str(exc), code="judge_backend_unavailable") from None
    return judge_backend, judge_model


def _batch_items_create(
    *,
    batch: Batch,
    frame: frame_format.Frame,
    kb: knowledge.KnowledgeBase,
    style_profile: StyleProfile | None = None,
) -> None:
    """One item per index, its scenario sampled now: seeded by (batch seed, index), so the
    batch's composition is reproducible and visible before any model call."""
    BatchItem.objects.bulk_create(
        BatchItem(
            batch=batch,
            index=index,
            scenario=scenario_sample(
                frame=frame,
                seed=batch.seed,
                index=index,
                language=batch.language,
                site_filter=batch.site_filter,
                kb=kb,
                style_profile=style_profile,
            ).to_json(),
        )
        for index in range(batch.count)
    )


def batch_cancel(*, batch: Batch, actor: User = None) -> int:
    """Stop a batch: items not started are skipped (tasks check at start); running ones
    finish. Returns the number of items skipped."""
    if batch.status != Batch.Status.RUNNING:
        raise Conflict(_("Only a running batch can be cancelled."), code="batch_not_running")
    now = timezone.now()
    with transaction.atomic():
        # Running items are left to finish (their tokens are spent); tasks still queued
        # find the batch cancelled when they start and skip their item.
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
    again. Duplicate messages are harmless (the claim decides).

    A message may have been lost (a Redis restart empties the queue) when a batch with
    items waiting has made no progress for GENERATION_PENDING_RESEND_SECONDS (one minute):
    no item claimed or finished since. Those are sent again after that minute, not after
    GENERATION_STUCK_AFTER_SECONDS; a long queue that is moving is left alone."""
    seconds = (
        settings.GENERATION_STUCK_AFTER_SECONDS
        if older_than_seconds is None
        else older_than_seconds
    )
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=seconds)
    quiet_since = now - dt.timedelta(seconds=settings.GENERATION_PENDING_RESEND_SECONDS)
    with transaction.atomic():
        # skip_locked: an item a live worker is finishing right now is locked by it; two
        # sweeps (beat and the CLI) never take the same rows either.
        stuck = list(
            BatchItem.objects.select_for_update(skip_locked=True)
            .filter(status=BatchItem.Status.RUNNING, claimed_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        BatchItem.objects.filter(pk__in=stuck).update(
            status=BatchItem.Status.PENDING, claim_token="", error="requeued: worker lost"
        )
        progressed = BatchItem.objects.filter(batch=OuterRef("batch")).filter(
            Q(claimed_at__gte=quiet_since) | Q(finished_at__gte=quiet_since)
        )
        waiting = list(
            BatchItem.objects.filter(
                status=BatchItem.Status.PENDING,
                batch__status=Batch.Status.RUNNING,
            )
            # Items of a Batch API job still with the provider are the poller's (not those
            # of its two-pass chain already handed to direct mode).
            .exclude(
                Q(batch__mode=Batch.Mode.BATCH_API)
                & ~Q(batch__provider_status="PROCESSED")
                & ~Q(pass_state__contains={"job": "direct"})
            )
            # Never enqueued (crash before on_commit ran), enqueued long ago, or enqueued
            # over a minute ago in a batch that has stalled since (message lost).
            .filter(
                Q(enqueued_at__lt=cutoff)
                | Q(enqueued_at__isnull=True)
                | (Q(enqueued_at__lt=quiet_since) & ~Exists(progressed))
            )
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
                # One stable token per item: a later round may take back its own claim.
                batch_item_process(item_id=item_id, claim_token=f"in-process-{item_id}")
            except TransientBackendError:
                continue
    batch.refresh_from_db()
    counts: dict[str, int] = {status: 0 for status in BatchItem.Status.values}
    for status in BatchItem.objects.filter(batch=batch).values_list("status", flat=True):
        counts[status] += 1
    return counts
