"""Composing a study: real reports by import, synthetic ones by named batch, tags and
metadata filters, counts before commit, and the composition preview."""

import pytest
from django.urls import reverse

from review import composition, services
from review.composition import ReportSelection
from review.exceptions import InvalidInput
from review.models import AuditEvent, ReportImport, Study
from tests.factories import ReportFactory, SyntheticReportFactory


@pytest.fixture
def corpus(coordinator):
    """Two imports (3 and 2 real reports), 2 demo stand-ins, two batches (4 and 3)."""
    first = ReportImport.objects.create(
        created_by=coordinator, file_name="chu-2023.csv", file_hash="a", file_format="csv"
    )
    second = ReportImport.objects.create(
        created_by=coordinator, file_name="chu-2024.csv", file_hash="b", file_format="csv"
    )
    imported_2023 = [
        ReportFactory(report_import=first, metadata={"site": site, "year": "2023"})
        for site in ("lung", "lung", "breast")
    ]
    imported_2024 = [
        ReportFactory(report_import=second, metadata={"site": "colon", "year": "2024"})
        for _ in range(2)
    ]
    standins = ReportFactory.create_batch(2, provenance={"kind": "demo-standin"})

    def synthetic(batch, name, site, flags=()):
        return SyntheticReportFactory(
            provenance={
                "kind": "generation",
                "batch": batch,
                "batch_name": name,
                "scenario": {"site": site},
                "flags": list(flags),
            }
        )

    pilot = [synthetic("3", "Pilot lung", "lung") for _ in range(3)] + [
        synthetic("3", "Pilot lung", "lung", flags=["segment_not_found"])
    ]
    breast = [synthetic("5", "Breast run", "breast") for _ in range(3)]
    return {
        "imports": (first, second),
        "imported_2023": imported_2023,
        "imported_2024": imported_2024,
        "standins": standins,
        "pilot": pilot,
        "breast": breast,
    }


def _pks(reports):
    return sorted(r.pk for r in reports)


def test_choices_show_imports_batches_by_name_and_counts(corpus):
    first, second = corpus["imports"]
    assert [(c.value, c.label, c.count) for c in composition.real_import_choices()] == [
        (str(second.pk), f"chu-2024.csv ({second.created_at:%Y-%m-%d})", 2),
        (str(first.pk), f"chu-2023.csv ({first.created_at:%Y-%m-%d})", 3),
        ("none", "Not from an import (e.g. demo stand-ins)", 2),
    ]
    assert [(c.value, c.label, c.count) for c in composition.synthetic_batch_choices()] == [
        ("5", "Breast run (#5)", 3),
        ("3", "Pilot lung (#3)", 4),
    ]


def test_pick_by_import_keeps_a_new_import_apart_from_the_standins(corpus):
    first, _second = corpus["imports"]
    picked = composition.reports_select(
        selection=ReportSelection(real_imports=(str(first.pk),)), seed=1
    )
    assert _pks(picked) == _pks(corpus["imported_2023"])
    standins = composition.reports_select(selection=ReportSelection(real_imports=("none",)), seed=1)
    assert _pks(standins) == _pks(corpus["standins"])


def test_pick_by_batch_with_count_and_flags(corpus):
    all_pilot = composition.reports_select(
        selection=ReportSelection(synthetic_batches=("3",)), seed=1
    )
    assert _pks(all_pilot) == _pks(corpus["pilot"])
    unflagged = composition.reports_select(
        selection=ReportSelection(synthetic_batches=("3",), exclude_flagged=True), seed=1
    )
    assert _pks(unflagged) == _pks(corpus["pilot"][:3])
    two = composition.reports_select(
        selection=ReportSelection(synthetic_batches=("3", "5"), synthetic_count=2), seed=9
    )
    assert len(two) == 2
    assert two == composition.reports_select(
        selection=ReportSelection(synthetic_batches=("3", "5"), synthetic_count=2), seed=9
    )
    with pytest.raises(InvalidInput) as refused:
        composition.reports_select(
            selection=ReportSelection(synthetic_batches=("5",), synthetic_count=4), seed=1
        )
    assert refused.value.message == "Only 3 synthetic reports match; asked for 4."


def test_pick_by_tag_and_metadata(corpus, coordinator):
    first, second = corpus["imports"]
    lung_2023 = corpus["imported_2023"][:2]
    for report in lung_2023 + corpus["breast"][:1]:
        services.report_tags_set(report=report, names=["Pilot"], actor=coordinator)
    tagged = composition.reports_select(
        selection=ReportSelection(
            real_imports=(str(first.pk), str(second.pk)),
            synthetic_batches=("3", "5"),
            tags=("pilot",),
        ),
        seed=1,
    )
    assert _pks(tagged) == _pks(lung_2023 + corpus["breast"][:1])
    by_metadata = composition.reports_select(
        selection=ReportSelection(
            real_imports=(str(first.pk), str(second.pk)),
            metadata=composition.metadata_filter_parse("site=lung; year=2023"),
        ),
        seed=1,
    )
    assert _pks(by_metadata) == _pks(lung_2023)
    assert [(c.value, c.count) for c in composition.tag_choices()] == [("pilot", 3)]
    assert AuditEvent.objects.filter(action="report.tags").count() == 3


def test_metadata_filter_refuses_malformed_lines():
    with pytest.raises(InvalidInput) as refused:
        composition.metadata_filter_parse("site lung")
    assert refused.value.message == (
        "Write metadata filters as key=value (letters, digits, _ in the key): site lung"
    )


def test_tags_refuse_non_slugs(corpus, coordinator):
    report = corpus["standins"][0]
    with pytest.raises(InvalidInput):
        services.report_tags_set(report=report, names=["two words"], actor=coordinator)
    assert list(report.tags.all()) == []


def test_preview_counts_per_source_batch_and_site(corpus):
    first, _ = corpus["imports"]
    preview = composition.composition_preview(
        selection=ReportSelection(real_imports=(str(first.pk),), synthetic_batches=("3", "5")),
        seed=1,
    )
    assert preview.total == 10
    assert preview.by_source == {"real": 3, "synthetic": 7}
    assert (preview.real_available, preview.synthetic_available) == (3, 7)
    assert preview.by_batch == [("Breast run", 3), ("Pilot lung", 4)]
    assert preview.by_site == [("lung", 6), ("breast", 4)]
    assert preview.problems == []


def test_study_form_preview_then_create_with_exact_counts(coordinator_client, corpus, reviewers):
    first, _ = corpus["imports"]
    data = {
        "name": "Lung pilot",
        "raters_per_report": 2,
        "scale_min": 1,
        "scale_max": 10,
        "seed": 4,
        "noninferiority_margin": 1.0,
        "real_imports": [str(first.pk)],
        "synthetic_batches": ["3"],
        "synthetic_count": 2,
        "reviewers": [r.pk for r in reviewers],
    }
    page = coordinator_client.get(reverse("review:study_create")).content.decode()
    assert "chu-2023.csv" in page and "3 reports" in page
    assert "Pilot lung (#3) — 4 reports" in page

    partial = coordinator_client.post(
        reverse("review:study_create") + "?preview=1", data, HTTP_HX_REQUEST="true"
    )
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="composition"')
    assert "5 reports in the study" in body
    assert "(3 real, 2 synthetic;" in body
    assert Study.objects.count() == 0

    counted = coordinator_client.post(reverse("review:study_create"), {**data, "preview": "1"})
    assert counted.status_code == 200
    assert "5 reports in the study" in counted.content.decode()
    assert Study.objects.count() == 0

    created = coordinator_client.post(reverse("review:study_create"), data)
    assert created.status_code == 302
    study = Study.objects.get(name="Lung pilot")
    assert (
        sorted(study.reports.values_list("source", flat=True)) == ["real"] * 3 + ["synthetic"] * 2
    )
    assert set(study.reports.filter(source="real")) == set(corpus["imported_2023"])


def test_study_form_refuses_no_choice_and_too_many(coordinator_client, corpus, reviewers):
    base = {
        "name": "X",
        "raters_per_report": 2,
        "scale_min": 1,
        "scale_max": 10,
        "noninferiority_margin": 1.0,
        "reviewers": [r.pk for r in reviewers],
    }
    empty = coordinator_client.post(reverse("review:study_create"), base)
    assert empty.status_code == 400
    assert "Choose some reports: an import, a batch, or both." in empty.content.decode()
    too_many = coordinator_client.post(
        reverse("review:study_create"), {**base, "synthetic_batches": ["5"], "synthetic_count": 9}
    )
    assert too_many.status_code == 400
    assert "Only 3 synthetic reports match; asked for 9." in too_many.content.decode()
    assert Study.objects.count() == 0
