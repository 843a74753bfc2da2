"""Study results: the long ratings table read from the database, and the cached figures.

Only ratings of submitted assessments count: a half-rated report is still being judged.
The figures are cached per study under a key holding a fingerprint of its ratings (count
and latest change), so any saved, changed or withdrawn rating makes the cache miss.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, FilteredRelation, Max, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext as _
from django.utils.translation import override

from review.models import Assignment, Rating, Study
from review.stats import Scale, analyse
from review.stats.plots import WORDS, study_plots

# Bump when the figures' shape changes so stale cache entries are not read back.
RESULTS_VERSION = 2
RESULTS_CACHE_SECONDS = 24 * 3600

RATING_FIELDS = (
    "study",
    "report",
    "source",
    "batch",
    "model",
    "prompt_version",
    "reviewer",
    "domain",
    "score",
    "comment",
    "submitted_at",
    "active_ms",
)


def study_ratings_rows(*, study: Study) -> QuerySet:
    """One row per submitted rating, in RATING_FIELDS order, from ONE query."""
    return (
        Rating.objects.filter(
            assignment__study=study,
            assignment__status=Assignment.Status.SUBMITTED,
            # Calibration items and attention-check repeats are checks on the reviewers,
            # not data on the reports: they never enter the statistics or the exports.
            assignment__kind=Assignment.Kind.REGULAR,
        )
        .annotate(
            seat=FilteredRelation(
                "assignment__reviewer__panel_seats",
                condition=Q(assignment__reviewer__panel_seats__study=F("assignment__study")),
            ),
            # As text (->>): decoding three JSON values per row was a third of the time of
            # a million-rating export.
            batch=KeyTextTransform("batch", "assignment__report__provenance"),
            model=KeyTextTransform("model", "assignment__report__provenance"),
            prompt_version=KeyTextTransform("prompt_version", "assignment__report__provenance"),
        )
        .order_by("assignment__report__code", "seat__pseudonym", "domain__order", "domain__key")
        .values_list(
            "assignment__study__code",
            "assignment__report__code",
            "assignment__report__source",
            "batch",
            "model",
            "prompt_version",
            "seat__pseudonym",
            "domain__key",
            "score",
            "assignment__comment",
            "assignment__submitted_at",
            "assignment__active_ms",
        )
    )


def study_ratings_stream(*, study: Study, chunk_size: int = 2000) -> Iterator[tuple]:
    """`study_ratings_rows` fetched chunk by chunk inside a transaction, for exports.

    Outside a transaction Django declares its server-side cursor WITH HOLD, and PostgreSQL
    then computes and stores the whole result before handing over the first row: for a
    million ratings, over ten seconds of silence before the download started.
    """
    with transaction.atomic():
        yield from study_ratings_rows(study=study).iterator(chunk_size=chunk_size)


def study_ratings_frame(*, study: Study) -> pd.DataFrame:
    rows = study_ratings_rows(study=study).iterator(chunk_size=5000)
    return pd.DataFrame.from_records(rows, columns=list(RATING_FIELDS))


def study_ratings_fingerprint(*, study: Study) -> str:
    summary = Rating.objects.filter(
        assignment__study=study,
        assignment__status=Assignment.Status.SUBMITTED,
        assignment__kind=Assignment.Kind.REGULAR,
    ).aggregate(n=Count("id"), last=Max("updated_at"), submitted=Max("assignment__updated_at"))
    last = summary["last"].isoformat() if summary["last"] else "-"
    submitted = summary["submitted"].isoformat() if summary["submitted"] else "-"
    return f"{summary['n']}:{last}:{submitted}"


def plot_words(language: str | None) -> dict[str, str]:
    """The plots' words in `language` (English, as stored in the plots module, if None)."""
    if not language:
        return dict(WORDS)
    with override(language):
        return {
            "real": _("real"),
            "synthetic": _("synthetic"),
            "mean_score": _("mean score (95% CI)"),
            "share": _("share of ratings"),
            "score": _("score"),
            "fpr": _("1 − specificity (real said AI)"),
            "tpr": _("sensitivity (synthetic said AI)"),
            "pooled": _("pooled"),
            "assigned": _("assigned"),
            "submitted": _("submitted"),
            "reports": _("reports"),
        }


@dataclass(frozen=True)
class StudyResults:
    figures: dict[str, Any]
    plots: dict[str, str]
    domain_labels: dict[str, str]


def study_results(
    *, study: Study, with_plots: bool = True, language: str | None = None
) -> StudyResults:
    """The study's figures (and SVG plots), computed once per state of its ratings.

    `language` localizes the domain labels and the plots' words (the results page); the
    figures themselves and the exports keep the stored labels and English codes."""
    n_boot = settings.STATS_BOOTSTRAP_RESAMPLES
    key = ":".join(
        str(part)
        for part in (
            "study-results",
            RESULTS_VERSION,
            study.pk,
            study_ratings_fingerprint(study=study),
            study.scale_min,
            study.scale_max,
            study.noninferiority_margin,
            study.seed,
            n_boot,
            int(with_plots),
            language or "-",
        )
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    domains = [
        (domain.key, domain.localized("label", language))
        for domain in study.domains.order_by("order", "id")
    ]
    results = analyse(
        study_ratings_frame(study=study),
        scale=Scale(study.scale_min, study.scale_max),
        margin=study.noninferiority_margin,
        n_boot=n_boot,
        seed=study.seed,
        domains=[key for key, _ in domains],
    )
    labels = dict(domains)
    labels.update({key: key for key in results.domains if key not in labels})
    value = StudyResults(
        figures=results.as_dict(),
        plots=study_plots(results, labels=labels, words=plot_words(language)) if with_plots else {},
        domain_labels=labels,
    )
    cache.set(key, value, timeout=RESULTS_CACHE_SECONDS)
    return value
