"""Coordinator pages for a study's results, CSV exports and the annotated dataset."""

from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from review import exports, selectors, services
from review.judge import judge_results
from review.models import Study
from review.permissions import coordinator_required
from review.results import (
    RATING_FIELDS,
    plot_words,
    study_ratings_stream,
    study_results,
)
from review.stats import comparison
from review.stats.agreement import ICC_FORMS
from review.stats.plots import progress_plot

AGREEMENT_COLUMNS = (*ICC_FORMS, "alpha_interval", "alpha_ordinal", "kappa_quadratic")
FIGURE_EXPORTS = ("summary", "agreement", "authorship", "breakdown")
# The figures and exports hold English codes; the page shows them in the reader's language.
AGREEMENT_HEADERS = {
    "alpha_interval": _("Krippendorff α (interval)"),
    "alpha_ordinal": _("Krippendorff α (ordinal)"),
    "kappa_quadratic": _("Cohen κ (quadratic)"),
}
VALUE_LABELS = {
    comparison.NON_INFERIOR: _("non-inferior"),
    comparison.INFERIOR: _("inferior"),
    comparison.INCONCLUSIVE: _("inconclusive"),
    comparison.NOT_APPLICABLE: _("not applicable"),
    comparison.NOT_COMPUTABLE: _("not computable"),
    "all": pgettext_lazy("scope of a statistic", "all"),
    "real": _("real"),
    "synthetic": _("synthetic"),
    "pooled": _("pooled"),
    "reviewer": _("reviewer"),
    "batch": _("batch"),
    "model": _("model"),
    "prompt_version": _("prompt version"),
    # Fixed notes of the statistics engine (notes with figures in them stay in English).
    "fewer than two reports of a source: no interval or test": _(
        "fewer than two reports of a source: no interval or test"
    ),
    "scores are constant: no rank test": _("scores are constant: no rank test"),
    "needs ratings of both real and synthetic reports": _(
        "needs ratings of both real and synthetic reports"
    ),
    "no ratings": _("no ratings"),
    "one rating: no standard deviation": _("one rating: no standard deviation"),
    "scores are constant": _("scores are constant"),
    "no report was rated by two reviewers": _("no report was rated by two reviewers"),
    "needs exactly two reviewers who rated the same reports": _(
        "needs exactly two reviewers who rated the same reports"
    ),
    "the two reviewers rated no report in common": _("the two reviewers rated no report in common"),
}


def _shown(value: Any) -> Any:
    return VALUE_LABELS.get(value, value) if isinstance(value, str) else value


def _localized_row(row: dict, labels: dict[str, str]) -> dict[str, Any]:
    shown = {key: _shown(row.get(key)) for key in ("verdict", "scope", "factor", "note")}
    return {**row, **shown, "label": labels.get(row.get("domain", ""), row.get("domain"))}


def _agreement_grid(figures: dict, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Rows (domain, scope) × the nine agreement statistics, for a compact table."""
    grid: dict[tuple[str, str], dict[str, Any]] = {}
    for row in figures["agreement"]:
        entry = grid.setdefault(
            (row["domain"], row["scope"]),
            {
                "domain": labels.get(row["domain"], row["domain"]),
                "scope": _shown(row["scope"]),
                "cells": {},
            },
        )
        entry["cells"][row["statistic"]] = {**row, "note": _shown(row["note"])}
    return [
        {**entry, "cells": [entry["cells"].get(s) for s in AGREEMENT_COLUMNS]}
        for entry in grid.values()
    ]


def _offset_grid(figures: dict, domains: list[str]) -> list[dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for row in figures["reviewer_offsets"]:
        table.setdefault(row["reviewer"], {})[row["domain"]] = row
    return [
        {"reviewer": reviewer, "cells": [cells.get(d) for d in [*domains, "all"]]}
        for reviewer, cells in table.items()
    ]


def _progress_svg(study: Study, language: str | None) -> str:
    progress = [(p.pseudonym, p.submitted, p.total) for p in selectors.study_progress(study=study)]
    key = f"study-progress-plot:{study.pk}:{language}:{hash(tuple(progress))}"
    svg = cache.get(key)
    if svg is None:
        svg = progress_plot(progress, plot_words(language))
        cache.set(key, svg, timeout=3600)
    return svg


@coordinator_required
@require_GET
def study_results_page(request: HttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    language = get_language()
    results = study_results(study=study, language=language)
    figures = results.figures
    labels = results.domain_labels
    summary = [_localized_row(row, labels) for row in exports.summary_records(figures)]
    context = {
        "study": study,
        "figures": figures,
        "summary": summary,
        "agreement_columns": [AGREEMENT_HEADERS.get(c, c) for c in AGREEMENT_COLUMNS],
        "agreement": _agreement_grid(figures, labels),
        "offset_domains": [labels.get(d, d) for d in figures["domains"]],
        "offsets": _offset_grid(figures, figures["domains"]),
        "authorship": [_localized_row(row, labels) for row in figures["authorship"]],
        "breakdown": [_localized_row(row, labels) for row in figures["breakdown"]],
        "plots": results.plots,
        "progress_plot": _progress_svg(study, language),
        # The LLM judge's comparison with the panel (review.judge), kept out of `figures`.
        "judge_comparisons": judge_results(study=study),
        "exports": ("ratings", *FIGURE_EXPORTS),
    }
    return render(request, "review/study_results.html", context)


def _csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        exports.text_chunks(lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@coordinator_required
@require_GET
def study_export_csv(request: HttpRequest, pk: int, name: str) -> StreamingHttpResponse:
    study = get_object_or_404(Study, pk=pk)
    if name == "ratings":
        lines = exports.csv_lines(RATING_FIELDS, study_ratings_stream(study=study))
    elif name in FIGURE_EXPORTS:
        header, table = exports.export_tables(study_results(study=study, with_plots=False).figures)[
            name
        ]
        lines = exports.csv_lines(header, table)
    else:
        raise Http404("No such export.")
    services.audit_log(actor=request.user, action=f"export.{name}", study=study, target=study.code)
    return _csv_response(lines, f"{study.code}-{name}.csv")


@coordinator_required
@require_GET
def study_dataset_jsonl(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    study = get_object_or_404(Study, pk=pk)
    services.audit_log(actor=request.user, action="export.dataset", study=study, target=study.code)
    response = StreamingHttpResponse(
        exports.text_chunks(exports.dataset_lines(study=study)),
        content_type="application/x-ndjson; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{study.code}-dataset.jsonl"'
    return response


@coordinator_required
@require_GET
def study_dataset_card(request: HttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    results = study_results(study=study, with_plots=False)
    card = exports.dataset_card(
        study=study, figures=results.figures, domain_labels=results.domain_labels
    )
    services.audit_log(
        actor=request.user, action="export.dataset_card", study=study, target=study.code
    )
    response = HttpResponse(card, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.code}-dataset-card.md"'
    return response
