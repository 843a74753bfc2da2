"""Coordinator-side reads: the one unblinding read and the cached surface cues."""

import pytest
from django.core.cache import cache
from django.http import Http404

from review import selectors, services
from review.models import AuditEvent
from tests.factories import ReportFactory, SyntheticReportFactory


def test_report_for_coordinator_returns_the_report_and_audits_the_view(coordinator):
    report = SyntheticReportFactory()
    read = selectors.report_for_coordinator(
        code=report.code, actor=coordinator, details={"via": "generation item", "batch": 7}
    )
    assert (read.pk, read.source) == (report.pk, "synthetic")
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.target, event.details) == (
        "report.unblinded_view",
        coordinator,
        report.code,
        {"via": "generation item", "batch": 7},
    )


def test_report_for_coordinator_unknown_code_is_404_and_logs_nothing(coordinator):
    with pytest.raises(Http404):
        selectors.report_for_coordinator(code="R-NOPE00", actor=coordinator)
    assert AuditEvent.objects.count() == 0


def test_study_surface_cues_computed_once_per_set_of_reports(
    coordinator, django_assert_num_queries
):
    cache.clear()
    study = services.study_create(name="Draft", created_by=coordinator, seed=1)
    services.study_reports_add(
        study=study, reports=[ReportFactory(text="Court."), SyntheticReportFactory(text="Court.")]
    )
    # The membership fingerprint, then the texts the cues are computed from.
    with django_assert_num_queries(2):
        first = selectors.study_surface_cues(study=study)
    # Same reports: the fingerprint only.
    with django_assert_num_queries(1):
        again = selectors.study_surface_cues(study=study)
    assert [cue.name for cue in first.cues] == ["length", "sections", "placeholders"]
    assert again == first
    assert first.warn is False
