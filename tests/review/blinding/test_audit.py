"""The leak audit: passes on the app as it is, finds deliberately planted leaks."""

import copy
import dataclasses
import random
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from review import selectors, services
from review.blinding.audit import blinding_audit
from review.computations import computations_refresh
from review.models import CODE_ALPHABET, Assignment, Rating, Report, Study
from tests.conftest import make_open_study
from tests.factories import ReportFactory, SyntheticReportFactory

# Codes from a seeded stream: the audit's code checks see the same codes every run.
pytestmark = pytest.mark.usefixtures("seeded_codes")

RATE_TEMPLATE = Path(django_settings.BASE_DIR) / "templates" / "review" / "rate.html"


def _seeded_codes(study, seed):
    """Codes as the app draws them (uniform over the alphabet), but from a seeded generator:
    the audit's verdict on random codes is then the same on every run, and the test checks
    a verdict rather than its odds (a rank test at p < 0.001 still fails 1 run in 1,000)."""
    rng = random.Random(seed)

    def code(length):
        return "".join(rng.choice(CODE_ALPHABET) for _ in range(length))

    for report in study.reports.order_by("pk"):
        Report.objects.filter(pk=report.pk).update(code=f"R-{code(6)}")
    for assignment in Assignment.objects.filter(study=study).order_by("pk"):
        Assignment.objects.filter(pk=assignment.pk).update(code=code(10))
    return study


@pytest.fixture
def small_study(coordinator, reviewers):
    # k=1: each reviewer renders 8 of the 16 reports, enough for the token checks.
    study = make_open_study(
        coordinator=coordinator, reviewers=reviewers, n_real=8, n_synthetic=8, k=1, seed=5
    )
    return _seeded_codes(study, seed=5)


def leak_into_rate_page(monkeypatch, settings, tmp_path, *, value, markup):
    """Plant a leak the way a careless change would: pass something about the report to
    the rating page's template and render it in `markup` (which uses {{ a.extra.leak }})."""
    original = selectors.reviewer_assignment

    def leaky(**kwargs):
        blinded = original(**kwargs)
        report = Report.objects.get(code=blinded.report_code)
        return dataclasses.replace(blinded, extra={"leak": value(report)})

    monkeypatch.setattr(selectors, "reviewer_assignment", leaky)
    template = RATE_TEMPLATE.read_text(encoding="utf-8")
    planted = template.replace('<article class="report"', markup, 1)
    assert planted != template
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "rate.html").write_text(planted, encoding="utf-8")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates


def test_audit_passes_without_leak_and_writes_nothing(small_study):
    result = blinding_audit(study=small_study, permutations=20)
    assert result.leaks == []
    assert result.pages == 2 * (1 + 1 + 8 + 8 * 3)  # home, queue, 8 entries, 8 x 3 pages
    assert result.reports == 16
    assert Rating.objects.count() == 0
    assert set(Assignment.objects.values_list("status", flat=True)) == {"pending"}
    assert Assignment.objects.filter(first_opened_at__isnull=False).count() == 0


def test_audit_finds_class_name_from_source(small_study, monkeypatch, settings, tmp_path):
    leak_into_rate_page(
        monkeypatch,
        settings,
        tmp_path,
        value=lambda report: report.source,
        markup='<article class="report {{ a.extra.leak }}"',
    )
    result = blinding_audit(study=small_study, permutations=0)
    messages = [finding.message for finding in result.leaks]
    assert any(
        m.startswith("'rate:class:synthetic' is on 0/8 real and 8/8 synthetic") for m in messages
    )
    assert any(m.startswith("'rate:class:real' is on 8/8 real and 0/8 synthetic") for m in messages)
    assert "'synthetic' appears on 0/8 real and 8/8 synthetic rate payloads" in messages
    assert not result.passed


def test_audit_finds_data_attribute_with_creation_time(
    small_study, monkeypatch, settings, tmp_path
):
    leak_into_rate_page(
        monkeypatch,
        settings,
        tmp_path,
        value=lambda report: report.created_at.isoformat(),
        markup='<article data-created="{{ a.extra.leak }}" class="report"',
    )
    result = blinding_audit(study=small_study, permutations=0)
    assert [f.message for f in result.leaks if f.check == "identifier"] == [
        "the report's creation time is visible to reviewers on the pages of 16 report(s), "
        f"e.g. {min(small_study.reports.values_list('code', flat=True))}"
    ]


def test_audit_finds_database_id_in_url(small_study, monkeypatch, settings, tmp_path):
    leak_into_rate_page(
        monkeypatch,
        settings,
        tmp_path,
        value=lambda report: report.pk,
        markup='<a href="/report/{{ a.extra.leak }}/"></a><article class="report"',
    )
    result = blinding_audit(study=small_study, permutations=0)
    assert [f.message.split(",")[0] for f in result.leaks if f.check == "identifier"] == [
        "the report's database id is visible to reviewers on the pages of 16 report(s)"
    ]


def test_audit_finds_codes_sequential_by_source(small_study):
    for number, report in enumerate(small_study.reports.order_by("source", "pk")):
        prefix = "0" if report.source == "real" else "Z"
        Report.objects.filter(pk=report.pk).update(code=f"R-{prefix}0000{CODE_ALPHABET[number]}")
    # 100 permutations: the fewest with which a permutation p-value can go below 0.01.
    result = blinding_audit(study=small_study, permutations=100, max_reports_per_reviewer=1)
    checks = sorted({(f.check, f.message.split(" (")[0]) for f in result.leaks})
    assert ("code", "report codes differ by source") in checks
    assert result.statistics["report code p"] < 0.001
    assert result.statistics["classifier accuracy"] == 1.0
    assert (
        "classifier",
        "a classifier on report codes and queue positions predicts the source "
        "with accuracy 1.00 against chance 0.50",
    ) in checks


def test_audit_finds_queue_with_real_reports_first(coordinator, reviewers):
    study = make_open_study(
        coordinator=coordinator, reviewers=reviewers, n_real=8, n_synthetic=8, k=2, seed=3
    )
    for reviewer in reviewers:
        mine = list(Assignment.objects.filter(study=study, reviewer=reviewer))
        for offset, assignment in enumerate(mine):
            Assignment.objects.filter(pk=assignment.pk).update(position=1000 + offset)
        ordered = sorted(mine, key=lambda a: (a.report.source != "real", a.pk))
        for position, assignment in enumerate(ordered, start=1):
            Assignment.objects.filter(pk=assignment.pk).update(position=position)
    result = blinding_audit(study=study, permutations=0, max_reports_per_reviewer=1)
    assert [f.message.split(" (")[0] for f in result.leaks if f.check == "position"] == [
        "queue positions differ by source"
    ]


def test_audit_page_simulates_opening_of_draft(coordinator_client, coordinator, reviewers):
    study = services.study_create(name="Draft", created_by=coordinator, seed=1)
    services.study_reports_add(
        study=study,
        reports=ReportFactory.create_batch(3) + SyntheticReportFactory.create_batch(3),
    )
    services.study_reviewers_set(study=study, reviewers=reviewers)
    url = reverse("review:blinding_audit", args=[study.pk])
    # Computed in the background (issue 21), never while the coordinator waits.
    assert "Being computed in the background" in coordinator_client.get(url).content.decode()
    assert computations_refresh(study=study, kinds=["leak_audit"]) == ["leak_audit"]
    page = coordinator_client.get(url)
    assert page.status_code == 200
    assert "No leak found" in page.content.decode()
    assert "its opening was simulated and rolled back" in page.content.decode()
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT
    assert Assignment.objects.filter(study=study).count() == 0


def test_reviewer_gets_403_on_audit_page(reviewer_client, small_study):
    response = reviewer_client.get(reverse("review:blinding_audit", args=[small_study.pk]))
    assert response.status_code == 403


def test_audit_command_exit_status(small_study, capsys):
    call_command("audit_blinding", small_study.code, "--permutations", "0")
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "No leak found: nothing reviewers receive (pages, codes, queue order, the look and "
        "coherence of the text) tells real from synthetic reports."
    )
    assert "Queue positions: real and synthetic reports sit at the same places" in out
    for number, report in enumerate(small_study.reports.order_by("source", "pk")):
        prefix = "0" if report.source == "real" else "Z"
        Report.objects.filter(pk=report.pk).update(code=f"R-{prefix}0000{CODE_ALPHABET[number]}")
    with pytest.raises(
        CommandError, match=r"Reviewers could tell real from synthetic reports: 1 problem"
    ):
        call_command(
            "audit_blinding",
            small_study.code,
            "--permutations",
            "0",
            "--max-reports-per-reviewer",
            "1",
        )
    assert "LEAK [code] report codes differ by source" in capsys.readouterr().err


def test_a_panel_reviewer_who_can_also_coordinate_is_a_leak(coordinator, reviewers):
    from django.contrib.auth.models import Group

    dual = reviewers[1]
    study = make_open_study(
        coordinator=coordinator, reviewers=reviewers, n_real=8, n_synthetic=8, k=1, seed=5
    )
    # Panels refuse coordinators, so the role comes after the seat (a promotion mid-study).
    dual.groups.add(Group.objects.get(name="coordinator"))
    _seeded_codes(study, seed=5)
    seat = study.panel.get(reviewer=dual)
    result = blinding_audit(study=study, permutations=20)
    assert [(f.check, f.message) for f in result.leaks] == [
        (
            "panel",
            f"{seat.pseudonym} ({dual.username}) can also coordinate: the coordinator pages "
            "show every report's source, so their ratings are not blind; take them off the "
            "panel or withdraw their coordinator role",
        )
    ]
    assert result.passed is False


def test_too_few_permutations_cannot_call_the_code_classifier_a_leak(small_study):
    # The same planted codes as above: with 20 permutations the smallest p-value is 1/21,
    # so the classifier's perfect accuracy is reported but cannot be decided a leak (the
    # rank test on codes, which needs no permutations, still finds it).
    for number, report in enumerate(small_study.reports.order_by("source", "pk")):
        prefix = "0" if report.source == "real" else "Z"
        Report.objects.filter(pk=report.pk).update(code=f"R-{prefix}0000{CODE_ALPHABET[number]}")
    result = blinding_audit(study=small_study, permutations=20, max_reports_per_reviewer=1)
    assert result.statistics["classifier accuracy"] == 1.0
    assert result.statistics["classifier permutations"] == 20
    assert [f.check for f in result.leaks] == ["code"]
    assert any(
        "with 20 permutations p cannot go below 0.01, so this run cannot call it a leak" in line
        for line in result.explanations
    )


def test_audit_verdict_is_the_same_on_every_run(small_study):
    first = blinding_audit(study=small_study, permutations=20)
    second = blinding_audit(study=small_study, permutations=20)
    assert first.statistics == second.statistics
    assert first.findings == second.findings
