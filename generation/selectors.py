"""Reads for the generation app (coordinators only: these expose sources and provenance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, FloatField, Max, Min, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from generation.models import Batch, BatchItem, PromptTemplate
from generation.pricing import cost_eur
from generation.prompts import DEFAULT_PROMPTS

STATUSES = [s.value for s in BatchItem.Status]


@dataclass(frozen=True)
class BatchProgress:
    total: int
    pending: int
    running: int
    done: int
    failed: int
    skipped: int
    flagged: int
    tokens_in: int
    tokens_out: int
    cost_eur: float
    per_minute: float | None
    eta_seconds: int | None
    finished: bool
    # The critique's final verdicts (two-pass batches; zero elsewhere).
    conform: int = 0
    not_conform: int = 0
    judge_unavailable: int = 0

    @property
    def judged(self) -> int:
        return self.conform + self.not_conform + self.judge_unavailable

    @property
    def percent(self) -> int:
        settled = self.done + self.failed + self.skipped
        return round(100 * settled / self.total) if self.total else 100


def _status_counts(prefix: str = "") -> dict:
    """Item counters by status; `prefix` is "items__" when counting from the Batch side."""
    counted = f"{prefix}id"
    counts = {s: Count(counted, filter=Q(**{f"{prefix}status": s})) for s in STATUSES}
    counts["flagged"] = Count(
        counted, filter=Q(**{f"{prefix}status": "done"}) & ~Q(**{f"{prefix}flags": []})
    )
    return counts


def batch_progress(*, batch: Batch) -> BatchProgress:
    """Counters derived from item rows, in one aggregate query whatever the batch size."""
    row = BatchItem.objects.filter(batch=batch).aggregate(
        # Written reports carry their exact cost (every pass at its model's price, Batch API
        # lines at the batch price); other items' tokens are priced at the writer's. First:
        # below, the aliases tokens_in/tokens_out shadow the fields.
        done_cost=Sum(
            Cast(KeyTextTransform("cost_eur", "report__provenance"), FloatField()),
            default=0.0,
        ),
        open_tokens_in=Sum("tokens_in", filter=~Q(status=BatchItem.Status.DONE), default=0),
        open_tokens_out=Sum("tokens_out", filter=~Q(status=BatchItem.Status.DONE), default=0),
        **_status_counts(),
        total=Count("id"),
        tokens_in=Sum("tokens_in", default=0),
        tokens_out=Sum("tokens_out", default=0),
        first_claim=Min("claimed_at"),
        last_finish=Max("finished_at"),
        conform=Count("id", filter=Q(verdict=BatchItem.Verdict.CONFORM)),
        not_conform=Count("id", filter=Q(verdict=BatchItem.Verdict.NOT_CONFORM)),
        judge_unavailable=Count("id", filter=Q(verdict=BatchItem.Verdict.UNAVAILABLE)),
    )
    # Rate from the first claim to the last finish: queue time before any worker started
    # does not count, and a finished batch keeps its final rate instead of decaying.
    settled = row["done"] + row["failed"]
    per_minute = eta = None
    if settled and row["first_claim"]:
        end = row["last_finish"] or timezone.now()
        elapsed = max((end - row["first_claim"]).total_seconds(), 1.0)
        per_minute = round(settled / elapsed * 60, 1)
        remaining = row["pending"] + row["running"]
        eta = int(remaining / (settled / elapsed)) if remaining else 0
    finished = batch.status != Batch.Status.RUNNING or (row["pending"] + row["running"] == 0)
    return BatchProgress(
        total=row["total"],
        pending=row["pending"],
        running=row["running"],
        done=row["done"],
        failed=row["failed"],
        skipped=row["skipped"],
        flagged=row["flagged"],
        tokens_in=row["tokens_in"],
        tokens_out=row["tokens_out"],
        cost_eur=round(
            row["done_cost"]
            + cost_eur(
                model=batch.model,
                tokens_in=row["open_tokens_in"],
                tokens_out=row["open_tokens_out"],
            ),
            4,
        ),
        per_minute=per_minute,
        eta_seconds=None if finished else eta,
        finished=finished,
        conform=row["conform"],
        not_conform=row["not_conform"],
        judge_unavailable=row["judge_unavailable"],
    )


def batch_list() -> QuerySet[Batch]:
    # Counters as annotations: one query for the whole list page, whatever its length.
    return Batch.objects.select_related("frame", "prompt", "created_by").annotate(
        **{f"n_{k}": v for k, v in _status_counts("items__").items()}
    )


def batch_failures(*, batch: Batch, limit: int = 100) -> QuerySet[BatchItem]:
    return BatchItem.objects.filter(batch=batch, status=BatchItem.Status.FAILED).order_by("index")[
        :limit
    ]


ITEM_ROWS_SHOWN = 500


def batch_items(
    *, batch: Batch, limit: int = ITEM_ROWS_SHOWN, changed_since: datetime | None = None
) -> QuerySet[BatchItem]:
    """The batch page's item rows, by index. With `changed_since`, only the rows (among the
    first `limit`) whose state moved since then: every transition stamps the time of a
    claim, a retry (enqueued_at) or an end (finished_at)."""
    items = BatchItem.objects.filter(batch=batch)
    if changed_since is not None:
        items = items.filter(index__lt=limit).filter(
            Q(claimed_at__gte=changed_since)
            | Q(enqueued_at__gte=changed_since)
            | Q(finished_at__gte=changed_since)
        )
    return (
        items.select_related("report")
        # .only: the report text and provenance can be large and the table needs neither.
        .only(
            "index",
            "status",
            "attempts",
            "error",
            "flags",
            "verdict",
            "tokens_in",
            "tokens_out",
            "latency_ms",
            "scenario",
            "report__code",
            "batch_id",
        )
        .order_by("index")[:limit]
    )


def prompt_latest(*, language: str) -> PromptTemplate | None:
    """The prompt a batch gets when none is chosen: the latest version of the language's
    default name (read only: the defaults come from data migrations)."""
    spec = DEFAULT_PROMPTS.get(language)
    if spec is None:
        return None
    return PromptTemplate.objects.filter(name=spec["name"]).order_by("-version").first()


@dataclass(frozen=True)
class PromptVersionRow:
    prompt: str
    passes: str
    batches: int
    done: int
    flagged: int
    conform: int
    not_conform: int
    judge_unavailable: int
    tokens_per_report: int | None

    @property
    def flagged_percent(self) -> float | None:
        return round(100 * self.flagged / self.done, 1) if self.done else None

    @property
    def conform_percent(self) -> float | None:
        judged = self.conform + self.not_conform + self.judge_unavailable
        return round(100 * self.conform / judged, 1) if judged else None


def prompt_version_comparison() -> list[PromptVersionRow]:
    """Prompt versions side by side over all their batches: flagged share, the critique's
    verdicts and tokens per report. One aggregate query grouped by prompt version."""
    rows = (
        PromptTemplate.objects.filter(batches__isnull=False)
        .annotate(
            n_batches=Count("batches", distinct=True),
            n_done=Count("batches__items", filter=Q(batches__items__status="done")),
            n_flagged=Count(
                "batches__items",
                filter=Q(batches__items__status="done") & ~Q(batches__items__flags=[]),
            ),
            n_conform=Count("batches__items", filter=Q(batches__items__verdict="conform")),
            n_not_conform=Count("batches__items", filter=Q(batches__items__verdict="not_conform")),
            n_unavailable=Count(
                "batches__items", filter=Q(batches__items__verdict="judge_unavailable")
            ),
            n_tokens=Sum("batches__items__tokens_in", filter=Q(batches__items__status="done"))
            + Sum("batches__items__tokens_out", filter=Q(batches__items__status="done")),
        )
        .order_by("name", "version")
    )
    return [
        PromptVersionRow(
            prompt=row.label,
            passes=row.passes,
            batches=row.n_batches,
            done=row.n_done,
            flagged=row.n_flagged,
            conform=row.n_conform,
            not_conform=row.n_not_conform,
            judge_unavailable=row.n_unavailable,
            tokens_per_report=round(row.n_tokens / row.n_done) if row.n_done else None,
        )
        for row in rows
    ]
