"""Leak audit: can anything a reviewer receives tell real from synthetic reports?

For one study, everything a reviewer can receive is gathered by rendering it as that
reviewer would, through Django's test client: the home page, every rating page of their
queue, the htmx domain-row partial, the API's queue and assignment endpoints. Then:

(a) tokens (tags, attributes, class names, ids, comments, URLs, JSON keys and values)
    are extracted from each report's payloads with the report's own text masked, and any
    token or number whose presence or value goes with the source is a leak; so is any
    mention of source words, model names, batch ids, import file names, external ids,
    creation times or database ids;
(b) report codes and queue positions must carry no information: rank tests by source and
    a cross-validated classifier on code characters and positions, scored against chance;
(c) the text as reviewers see it: its typography (a cross-validated classifier on the
    rendered text with words masked: AUC >= 0.75 with p < 0.01 is a leak), the coherence of
    its dates, ages and names per source, and its length and sections (a separation with
    |r| >= 0.5 is a leak unless a coordinator accepted it, with a reason kept in the audit
    trail; leftover placeholders and weaker differences are warnings).

The audit changes nothing: rendering a rating page marks it opened, so everything runs in
a transaction that is rolled back. A draft study is opened inside that transaction, so the
audit can run before the real opening.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from review.blinding.audit.collect import payloads_collect
from review.blinding.audit.explain import statistics_explained
from review.blinding.audit.findings import (
    Finding,
    coherence_findings,
    formatting_findings,
    identifier_findings,
    order_findings,
    page_level_findings,
    panel_findings,
    surface_findings,
    token_findings,
)
from review.blinding.audit.tokens import Masker, page_analyse
from review.blinding.surface import SurfaceCue, surface_cues
from review.conventions import study_conventions
from review.models import AuditEvent, Report, Study
from review.services import SURFACE_ACCEPTED, study_open

__all__ = ["AuditResult", "Finding", "SurfaceCue", "blinding_audit", "surface_acceptances"]


@dataclass
class AuditResult:
    study_code: str
    simulated_opening: bool
    pages: int = 0
    reports: int = 0
    findings: list[Finding] = field(default_factory=list)
    surface: list[SurfaceCue] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)

    @property
    def leaks(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "leak"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warning"]

    @property
    def passed(self) -> bool:
        return not self.leaks

    @property
    def headline(self) -> str:
        """The verdict in plain words, first thing on the page and the command's output."""
        if self.leaks:
            count = len(self.leaks)
            return (
                f"Reviewers could tell real from synthetic reports: {count} "
                f"problem{'s' if count > 1 else ''} to fix before the study is opened."
            )
        if self.warnings:
            count = len(self.warnings)
            return (
                "No leak found: nothing reviewers receive tells the sources apart, but "
                f"{count} point{'s' if count > 1 else ''} below deserve a look before opening."
            )
        return (
            "No leak found: nothing reviewers receive (pages, codes, queue order, the look "
            "and coherence of the text) tells real from synthetic reports."
        )

    @property
    def explanations(self) -> list[str]:
        return statistics_explained(self.statistics)


def surface_acceptances(*, study: Study) -> dict[str, str]:
    """Per surface cue, the latest coordinator decision to accept it: "by NAME on DATE:
    reason", as the audit trail records it."""
    accepted: dict[str, str] = {}
    events = AuditEvent.objects.filter(study=study, action=SURFACE_ACCEPTED).select_related("actor")
    for event in events.order_by("created_at", "id"):
        who = event.actor.get_username() if event.actor else "?"
        accepted[event.details.get("cue", "")] = (
            f"by {who} on {event.created_at:%Y-%m-%d}: {event.details.get('reason', '')}"
        )
    return accepted


def blinding_audit(
    *, study: Study, permutations: int = 100, max_reports_per_reviewer: int | None = None
) -> AuditResult:
    """Run every check on what the study's reviewers receive; writes nothing."""
    result = AuditResult(study_code=study.code, simulated_opening=study.status == "draft")
    result.surface = surface_cues(study=study)
    result.findings.extend(
        surface_findings(result.surface, acceptances=surface_acceptances(study=study))
    )
    rendered = list(study.reports.values_list("text", "language", "source"))
    # As fixed at the opening, or as the opening will fix them (a draft study).
    conventions = study_conventions(study=study)
    result.findings.extend(
        formatting_findings(
            rendered,
            permutations=permutations,
            statistics=result.statistics,
            conventions=conventions,
        )
    )
    result.findings.extend(coherence_findings(rendered, statistics=result.statistics))
    # Rendering a rating page marks it opened and the domain-row check saves a score: the
    # audit runs inside a transaction it rolls back, so it can run on a live study.
    with transaction.atomic():
        if study.status == Study.Status.DRAFT:
            # Reviewers receive nothing before the opening allocates their queues: simulate it.
            study = study_open(study=study)
        payloads = payloads_collect(study, max_reports_per_reviewer=max_reports_per_reviewer)
        reports = {
            report.pk: report
            for report in Report.objects.filter(studies=study).select_related("report_import")
        }
        mask = Masker(study)
        texts = {pk: (report.text, report.language) for pk, report in reports.items()}
        pages = [
            page_analyse(payload, mask, texts, conventions)
            for payload in payloads
            if payload.report_id is not None
        ]
        other = [payload for payload in payloads if payload.report_id is None]
        result.pages = len(payloads)
        result.reports = len(reports)
        # Token checks compare like with like: rating pages with rating pages, API with API.
        for kind in sorted({page.payload.kind for page in pages}):
            result.findings.extend(token_findings([p for p in pages if p.payload.kind == kind]))
        result.findings.extend(identifier_findings(pages, reports, study))
        result.findings.extend(page_level_findings(other))
        result.findings.extend(panel_findings(study))
        result.findings.extend(
            order_findings(study, permutations=permutations, statistics=result.statistics)
        )
        transaction.set_rollback(True)
    return result
