"""Which reports a study is made of: real reports by import, synthetic ones by named
generation batch, both narrowed by tags and metadata; counted before anything is written.

The study form, its live preview and the service that creates the study all go through
`reports_select`, so the counts a coordinator reads are the reports the study gets (the
random draw of N synthetic reports is seeded by the study's seed).
"""

import random
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from review.exceptions import InvalidInput
from review.models import Report, ReportImport, Tag

# Real reports stored without an import (the demo's stand-ins, reports seeded by scripts).
UNIMPORTED = "none"


@dataclass(frozen=True)
class ReportSelection:
    """What a coordinator asked for. Empty tuples select nothing of that kind."""

    real_imports: tuple[str, ...] = ()  # ReportImport ids as text, or UNIMPORTED
    real_count: int | None = None  # None: every matching real report
    synthetic_batches: tuple[str, ...] = ()  # batch ids as recorded in provenance["batch"]
    synthetic_count: int | None = None  # None: every matching synthetic report
    tags: tuple[str, ...] = ()  # a report must carry at least one of them
    metadata: tuple[tuple[str, str], ...] = ()  # every key=value must match
    exclude_flagged: bool = False


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class CompositionPreview:
    real_available: int
    synthetic_available: int
    by_source: dict[str, int]
    by_batch: list[tuple[str, int]]
    by_site: list[tuple[str, int]]
    total: int
    problems: list[str] = field(default_factory=list)


def metadata_filter_parse(text: str) -> tuple[tuple[str, str], ...]:
    """`key=value` pairs, one a line or separated by `;`. Raises InvalidInput."""
    pairs = []
    for raw in text.replace(";", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not key.strip().replace("_", "").isalnum():
            raise InvalidInput(
                _("Write metadata filters as key=value (letters, digits, _ in the key): %(line)s")
                % {"line": line},
                code="metadata_filter",
            )
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def _narrowed(reports: QuerySet[Report], selection: ReportSelection) -> QuerySet[Report]:
    if selection.tags:
        reports = reports.filter(
            pk__in=Report.tags.through.objects.filter(tag__name__in=selection.tags).values(
                "report_id"
            )
        )
    for key, value in selection.metadata:
        reports = reports.filter(**{f"metadata__{key}": value})
    return reports


def _real_pool(selection: ReportSelection) -> QuerySet[Report]:
    if not selection.real_imports:
        return Report.objects.none()
    import_ids = [int(v) for v in selection.real_imports if v != UNIMPORTED and v.isdigit()]
    condition = Q(report_import_id__in=import_ids)
    if UNIMPORTED in selection.real_imports:
        condition |= Q(report_import__isnull=True)
    pool = Report.objects.filter(condition, source=Report.Source.REAL)
    return _narrowed(pool, selection).order_by("pk")


def _synthetic_pool(selection: ReportSelection) -> QuerySet[Report]:
    if not selection.synthetic_batches:
        return Report.objects.none()
    pool = Report.objects.filter(
        source=Report.Source.SYNTHETIC, provenance__batch__in=list(selection.synthetic_batches)
    )
    if selection.exclude_flagged:
        pool = pool.filter(Q(provenance__flags__isnull=True) | Q(provenance__flags=[]))
    return _narrowed(pool, selection).order_by("pk")


def _draw(pool: list[Report], count: int | None, *, seed: int, kind: str) -> list[Report]:
    if count is None:
        return pool
    if count > len(pool):
        message = (
            _("Only %(n)d real reports match; asked for %(asked)d.")
            if kind == "real"
            else _("Only %(n)d synthetic reports match; asked for %(asked)d.")
        )
        raise InvalidInput(message % {"n": len(pool), "asked": count}, code=f"not_enough_{kind}")
    return sorted(random.Random(seed).sample(pool, count), key=lambda r: r.pk)


def reports_select(*, selection: ReportSelection, seed: int) -> list[Report]:
    """The reports the selection gives, real first then synthetic, each in id order.
    Raises InvalidInput when a count asks for more than match or nothing matches."""
    real = _draw(list(_real_pool(selection)), selection.real_count, seed=seed, kind="real")
    synthetic = _draw(
        list(_synthetic_pool(selection)), selection.synthetic_count, seed=seed + 1, kind="synthetic"
    )
    if not real and not synthetic:
        raise InvalidInput(_("No report matches this selection."), code="no_reports")
    return real + synthetic


def composition_preview(*, selection: ReportSelection, seed: int) -> CompositionPreview:
    """Counts of what `reports_select` would give: per source, per batch, per cancer site
    (the scenario's site for synthetic reports, metadata "site" for real ones)."""
    real_available = _real_pool(selection).count()
    synthetic_available = _synthetic_pool(selection).count()
    problems: list[str] = []
    try:
        chosen = reports_select(selection=selection, seed=seed)
    except InvalidInput as exc:
        problems.append(exc.message)
        chosen = []
    by_source = Counter(report.source for report in chosen)
    by_batch = Counter(
        str(report.provenance.get("batch_name") or report.provenance.get("batch"))
        for report in chosen
        if report.source == Report.Source.SYNTHETIC
    )
    by_site = Counter(
        str(
            (report.provenance.get("scenario") or {}).get("site")
            or report.metadata.get("site")
            or _("not recorded")
        )
        for report in chosen
    )
    return CompositionPreview(
        real_available=real_available,
        synthetic_available=synthetic_available,
        by_source={source: by_source.get(source, 0) for source in Report.Source.values},
        by_batch=sorted(by_batch.items()),
        by_site=sorted(by_site.items(), key=lambda item: (-item[1], item[0])),
        total=len(chosen),
        problems=problems,
    )


def real_import_choices() -> list[Choice]:
    """Every import holding real reports, newest first, then the reports without import."""
    counts: dict[int | None, int] = dict(
        Report.objects.filter(source=Report.Source.REAL)
        .values_list("report_import_id")
        .annotate(n=Count("pk"))
        .values_list("report_import_id", "n")
    )
    choices = [
        Choice(
            value=str(imported.pk),
            label=f"{imported.file_name} ({imported.created_at:%Y-%m-%d})",
            count=counts.get(imported.pk, 0),
        )
        for imported in ReportImport.objects.order_by("-created_at", "-pk")
        if counts.get(imported.pk)
    ]
    unimported = counts.get(None, 0)
    if unimported:
        choices.append(
            Choice(UNIMPORTED, _("Not from an import (e.g. demo stand-ins)"), unimported)
        )
    return choices


def synthetic_batch_choices() -> list[Choice]:
    """Generation batches found in synthetic reports' provenance, by name, with counts."""
    rows = (
        Report.objects.filter(source=Report.Source.SYNTHETIC, provenance__has_key="batch")
        .values_list("provenance__batch", "provenance__batch_name")
        .annotate(n=Count("pk"))
    )
    merged: dict[str, tuple[str, int]] = {}
    for batch, name, n in rows:
        key = str(batch)
        previous = merged.get(key, ("", 0))
        merged[key] = (str(name or previous[0] or ""), previous[1] + n)
    choices = [
        Choice(value=key, label=f"{name or _('batch')} (#{key})", count=n)
        for key, (name, n) in merged.items()
    ]
    return sorted(choices, key=lambda c: (-int(c.value) if c.value.isdigit() else 0, c.value))


def tag_choices() -> list[Choice]:
    return [
        Choice(value=tag.name, label=tag.name, count=tag.n)
        for tag in Tag.objects.annotate(n=Count("reports")).filter(n__gt=0).order_by("name")
    ]
