"""Reads for the generation app (coordinators only: these expose sources and provenance)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
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
        **_status_counts(),
        total=Count("id"),
        tokens_in=Sum("tokens_in", default=0),
        tokens_out=Sum("tokens_out", default=0),
        first_claim=Min("claimed_at"),
        last_finish=Max("finished_at"),
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
        cost_eur=cost_eur(
            model=batch.model, tokens_in=row["tokens_in"], tokens_out=row["tokens_out"]
        ),
        per_minute=per_minute,
        eta_seconds=None if finished else eta,
        finished=finished,
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


def batch_items(*, batch: Batch, limit: int = 500) -> QuerySet[BatchItem]:
    return (
        BatchItem.objects.filter(batch=batch)
        .select_related("report")
        # .only: the report text and provenance can be large and the table needs neither.
        .only(
            "index",
            "status",
            "attempts",
            "error",
            "flags",
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
