"""Coordinator pages for a study's results, CSV exports and the annotated dataset."""

from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from review import exports, selectors, selectors_queue, services
from review.computations import computation_read
from review.models import Study, StudyComputation
from review.permissions import coordinator_required
from review.results import (
    RATING_FIELDS,
    plot_words,
    study_ratings_stream,
    study_results,
)
from review.stats import comparison
from review.stats.agreement import SENSITIVITY_SUFFIX
from review.stats.methods import LANGUAGES, methods_markdown
from review.stats.notes import band_text, note_text
from review.stats.plots import progress_plot, study_plots_png

# Derived from the tables that register themselves in review.exports.
FIGURE_EXPORTS = tuple(exports.FIGURE_TABLES)
# The figures hold English codes (notes: see review.stats.notes); the page shows them in the
# reader's language.
AGREEMENT_HEADERS = {
    "alpha_interval": _("Krippendorff α (interval)"),
    "alpha_ordinal": _("Krippendorff α (ordinal)"),
    "ac2_quadratic": _("Gwet AC2 (quadratic weights)"),
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
}


def _shown(value: Any) -> Any:
    return VALUE_LABELS.get(value, value) if isinstance(value, str) else value


def _note(row: dict) -> str:
    """The engine's note codes as text in the reader's language."""
    return note_text(row.get("note"), row, gettext)


def _localized_row(row: dict, labels: dict[str, str]) -> dict[str, Any]:
    shown = {key: _shown(row.get(key)) for key in ("verdict", "scope", "factor")}
    return {
        **row,
        **shown,
        "note": _note(row),
        "label": labels.get(row.get("domain", ""), row.get("domain")),
    }


def _statistic_label(statistic: str) -> str:
    if statistic.endswith(SENSITIVITY_SUFFIX):
        form = statistic.removesuffix(SENSITIVITY_SUFFIX)
        return f"{form} " + gettext("on the complete sub-table (sensitivity)")
    return str(AGREEMENT_HEADERS.get(statistic, statistic))


def _agreement_domains(figures: dict, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Per domain: the recommended statistic of each scope (per source first, then pooled),
    and every statistic for the "details" toggle."""
    domains: dict[str, dict[str, Any]] = {}
    for row in figures["agreement"]:
        entry = domains.setdefault(
            row["domain"],
            {"label": labels.get(row["domain"], row["domain"]), "recommended": [], "all": []},
        )
        shown = {
            **row,
            "scope": _shown(row["scope"]),
            "statistic_label": _statistic_label(row["statistic"]),
            "band": band_text(row.get("band"), gettext),
            "note": _note(row),
        }
        entry["all"].append(shown)
        if row.get("recommended"):
            entry["recommended"].append(shown)
    return list(domains.values())


def _multiplicity(figures: dict) -> dict[str, Any]:
    """The family of non-inferiority verdicts and the level of each of its intervals."""
    family = [row for row in figures["comparison"] if row.get("adjustment")]
    level = family[0]["ci_level"] if family else 0.95
    return {"family": len(family), "level": f"{100 * level:.2f}".rstrip("0").rstrip(".")}


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
    if study.kind == Study.Kind.ANNOTATION_AUDIT:
        # Verdicts, not scores: the audit has its own figures (review/audit_study/).
        return redirect("review:audit_results", pk=study.pk)
    language = get_language()
    # Never computed while the coordinator waits: the stored figures (with their age), and
    # a refresh scheduled in the background when the ratings changed since.
    stored = computation_read(study=study, kind=StudyComputation.Kind.RESULTS, language=language)
    if stored is None:
        return render(request, "review/study_results.html", {"study": study, "computing": True})
    results = stored.value
    judge = computation_read(study=study, kind=StudyComputation.Kind.JUDGE)
    figures = results.figures
    labels = results.domain_labels
    summary = [_localized_row(row, labels) for row in exports.summary_records(figures)]
    context = {
        "study": study,
        "figures": figures,
        "summary": summary,
        "agreement": _agreement_domains(figures, labels),
        "multiplicity": _multiplicity(figures),
        "offset_domains": [labels.get(d, d) for d in figures["domains"]],
        "offsets": _offset_grid(figures, figures["domains"]),
        "authorship": [_localized_row(row, labels) for row in figures["authorship"]],
        "breakdown": [_localized_row(row, labels) for row in figures["breakdown"]],
        "plots": results.plots,
        "progress_plot": _progress_svg(study, language),
        # The LLM judge's comparison with the panel (review.judge), kept out of `figures`.
        "judge_comparisons": judge.value if judge else [],
        "judge_computing": judge is None or judge.stale,
        "computed": stored,
        "exports": ("ratings", *FIGURE_EXPORTS),
        "methods_languages": LANGUAGES,
        "figure_names": FIGURE_NAMES,
        "calibration_agreement": selectors_queue.study_calibration_agreement(study=study),
        "test_retest": selectors_queue.study_test_retest(study=study),
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


@coordinator_required
@require_GET
def study_methods_markdown(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """The methods paragraph and tables, in English or French whatever the page's language."""
    if language not in LANGUAGES:
        raise Http404("No such language.")
    study = get_object_or_404(Study, pk=pk)
    results = study_results(study=study, with_plots=False, language=language)
    text = methods_markdown(
        results.figures, labels=results.domain_labels, title=study.name, language=language
    )
    services.audit_log(actor=request.user, action="export.methods", study=study, target=study.code)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.code}-methods-{language}.md"'
    return response


FIGURE_NAMES = ("means", "distributions", "roc")


@coordinator_required
@require_GET
def study_figure(request: HttpRequest, pk: int, name: str, fmt: str) -> HttpResponse:
    """One results plot as SVG (as drawn on the page) or PNG (200 dpi)."""
    if name not in FIGURE_NAMES or fmt not in ("svg", "png"):
        raise Http404("No such figure.")
    study = get_object_or_404(Study, pk=pk)
    language = get_language()
    if fmt == "svg":
        body: str | bytes = study_results(study=study, language=language).plots[name]
        content_type = "image/svg+xml; charset=utf-8"
    else:
        results = study_results(study=study, with_plots=False, language=language)
        body = study_plots_png(
            results.figures, labels=results.domain_labels, words=plot_words(language)
        )[name]
        content_type = "image/png"
    services.audit_log(
        actor=request.user, action=f"export.figure_{name}", study=study, target=study.code
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{study.code}-{name}.{fmt}"'
    return response
