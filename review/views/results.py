"""Coordinator pages for a study's results, CSV exports and the annotated dataset."""

from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from review import exports, selectors, services
from review.models import Study
from review.results import RATING_FIELDS, study_ratings_stream, study_results
from review.stats.agreement import ICC_FORMS
from review.stats.plots import progress_plot
from review.views.access import coordinator_required

AGREEMENT_COLUMNS = (*ICC_FORMS, "alpha_interval", "alpha_ordinal", "kappa_quadratic")
FIGURE_EXPORTS = ("summary", "agreement", "authorship", "breakdown")


def _agreement_grid(figures: dict, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Rows (domain, scope) × the nine agreement statistics, for a compact table."""
    grid: dict[tuple[str, str], dict[str, Any]] = {}
    for row in figures["agreement"]:
        entry = grid.setdefault(
            (row["domain"], row["scope"]),
            {
                "domain": labels.get(row["domain"], row["domain"]),
                "scope": row["scope"],
                "cells": {},
            },
        )
        entry["cells"][row["statistic"]] = row
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


def _progress_svg(study: Study) -> str:
    progress = [(p.pseudonym, p.submitted, p.total) for p in selectors.study_progress(study=study)]
    key = f"study-progress-plot:{study.pk}:{hash(tuple(progress))}"
    svg = cache.get(key)
    if svg is None:
        svg = progress_plot(progress)
        cache.set(key, svg, timeout=3600)
    return svg


@coordinator_required
@require_GET
def study_results_page(request: HttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    results = study_results(study=study)
    figures = results.figures
    labels = results.domain_labels
    summary = [
        {**row, "label": labels.get(row["domain"], row["domain"])}
        for row in exports.summary_records(figures)
    ]
    context = {
        "study": study,
        "figures": figures,
        "summary": summary,
        "agreement_columns": AGREEMENT_COLUMNS,
        "agreement": _agreement_grid(figures, labels),
        "offset_domains": [labels.get(d, d) for d in figures["domains"]],
        "offsets": _offset_grid(figures, figures["domains"]),
        "authorship": figures["authorship"],
        "breakdown": [
            {**row, "label": labels.get(row["domain"], row["domain"])}
            for row in figures["breakdown"]
        ],
        "plots": results.plots,
        "progress_plot": _progress_svg(study),
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
