"""A study exported with export_study, the database emptied, the study imported again
with import_study: every results figure, CSV and the dataset come out identical."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from generation import services as generation_services
from review import services
from review.imports.parsing import ImportOptions
from review.imports.services import report_import_commit
from review.models import (
    Assignment,
    AuditEvent,
    Domain,
    Rating,
    Report,
    ReportSearch,
    Study,
    StudyReport,
)
from tests.factories import CoordinatorFactory, ReportFactory, ReviewerFactory

COMPARED = (
    "results.json",
    "summary.csv",
    "agreement.csv",
    "authorship.csv",
    "breakdown.csv",
    "ratings.csv",
    "dataset.jsonl",
)
IMPORT_CSV = (
    "id;texte\nA1;Patiente suivie pour un cancer du sein, évolution favorable.\n"
    "A2;Patient suivi pour un cancer bronchique, chimiothérapie en cours.\n"
).encode()


def _score(report: Report, reviewer_index: int, domain: str) -> int:
    base = 8 if report.source == "real" else 6
    return max(1, min(10, base + (sum(map(ord, report.code + domain)) % 5) - 2 + reviewer_index))


def _build_study() -> Study:
    coordinator = CoordinatorFactory()
    reviewers = ReviewerFactory.create_batch(3)
    report_import_commit(
        data=IMPORT_CSV,
        file_name="export.csv",
        options=ImportOptions(text_column="texte", id_column="id"),
        created_by=coordinator,
    )
    batch = generation_services.batch_launch(
        count=6, backend="offline", seed=12, created_by=coordinator, enqueue=False
    )
    assert generation_services.batch_run_in_process(batch=batch)["done"] == 6
    study = services.study_create(
        name="Backed up", created_by=coordinator, raters_per_report=2, seed=77
    )
    reports = list(Report.objects.all()) + ReportFactory.create_batch(4)
    services.study_reports_add(study=study, reports=reports)
    services.study_reviewers_set(study=study, reviewers=reviewers, actor=coordinator)
    services.study_open(study=study, actor=coordinator)
    order = {r.pk: i for i, r in enumerate(reviewers)}
    domains = list(Domain.objects.filter(study=study))
    assignments = list(Assignment.objects.filter(study=study).select_related("report"))
    # All but one assignment submitted; that one half-rated, with a comment.
    pending = assignments[0]
    Rating.objects.bulk_create(
        Rating(
            assignment=a,
            domain=d,
            score=_score(a.report, order[a.reviewer_id], d.key),
        )
        for a in assignments
        for d in (domains[:2] if a == pending else domains)
    )
    now = timezone.now()
    Assignment.objects.filter(study=study).exclude(pk=pending.pk).update(
        status=Assignment.Status.SUBMITTED, submitted_at=now, active_ms=75000, comment="vu"
    )
    Assignment.objects.filter(pk=pending.pk).update(
        status=Assignment.Status.IN_PROGRESS, first_opened_at=now, comment="=à revoir"
    )
    services.study_close(study=study, actor=coordinator)
    return study


def _bundle_without_local_ids(path) -> dict:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    ids = {row["id"]: i for i, row in enumerate(bundle["report_imports"])}
    for i, row in enumerate(bundle["report_imports"]):
        row["id"] = i
    for row in bundle["reports"]:
        row["report_import"] = ids.get(row["report_import"])
    return bundle


def test_export_then_import_into_empty_database_gives_identical_results(roles, settings, tmp_path):
    settings.STATS_BOOTSTRAP_RESAMPLES = 200
    study = _build_study()
    code = study.code
    first, second = tmp_path / "first", tmp_path / "second"
    call_command("export_study", code, "--out", str(first))
    figures = json.loads((first / "results.json").read_text())
    assert figures["domains"] and figures["comparison"]

    call_command("flush", "--no-input")
    assert (Study.objects.count(), Report.objects.count(), Rating.objects.count()) == (0, 0, 0)
    assert get_user_model().objects.count() == 0
    cache.clear()

    call_command("import_study", str(first))
    restored = Study.objects.get(code=code)
    assert restored.status == "closed"
    # Its reports are indexed for the coordinators' search as the restore commits.
    assert set(ReportSearch.objects.values_list("report_id", flat=True)) == set(
        restored.reports.values_list("pk", flat=True)
    )
    assert AuditEvent.objects.filter(action="import.study", study=restored).count() == 1
    # The accounts come back inactive, to be activated by an administrator.
    assert set(get_user_model().objects.values_list("is_active", flat=True)) == {False}
    call_command("export_study", code, "--out", str(second))

    for name in COMPARED:
        assert (second / name).read_bytes() == (first / name).read_bytes(), name
    assert _bundle_without_local_ids(second / "study.json") == _bundle_without_local_ids(
        first / "study.json"
    )
    pending = Assignment.objects.get(study=restored, status="in_progress")
    assert (pending.comment, pending.ratings.count()) == ("=à revoir", 2)


def test_import_study_refuses_existing_code_and_damaged_bundle(roles, tmp_path):
    study = _build_study()
    out = tmp_path / "export"
    call_command("export_study", study.code, "--out", str(out))
    counts = (Study.objects.count(), Report.objects.count(), Rating.objects.count())
    with pytest.raises(CommandError, match=f"A study with code {study.code} already exists."):
        call_command("import_study", str(out))
    bundle = json.loads((out / "study.json").read_text())
    bundle["study"]["code"] = "S-OTHER1"
    bundle["reports"][0]["text"] += " altéré"
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(CommandError, match="its text does not match its content hash"):
        call_command("import_study", str(damaged))
    (tmp_path / "not.json").write_text("{", encoding="utf-8")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("import_study", str(tmp_path / "not.json"))
    # A score off the study's scale passes the bundle's checks but not the database's
    # trigger: a clear message, and the half-restored study is rolled back.
    bundle = json.loads((out / "study.json").read_text())
    bundle["study"]["code"] = "S-OTHER2"
    rated = next(row for row in bundle["assignments"] if row["ratings"])
    rated["ratings"][next(iter(rated["ratings"]))] = 99
    off_scale = tmp_path / "off_scale.json"
    off_scale.write_text(json.dumps(bundle), encoding="utf-8")
    refused = r"the database refused the bundle \(\w+.*\); nothing imported\."
    with pytest.raises(CommandError, match=refused):
        call_command("import_study", str(off_scale))
    assert (Study.objects.count(), Report.objects.count(), Rating.objects.count()) == counts


def _build_audit_study() -> Study:
    """An annotation audit judged by three reviewers: verdicts with fixed values and spans,
    additions (one by a majority, one by a single reviewer, one only tied on its value),
    the coordinator's adjudications of both kinds, a reminder and a cannot-assess record."""
    from review.models import (
        AddedAdjudication,
        AddedAnnotation,
        AnnotationAdjudication,
        AnnotationVerdict,
        CannotAssess,
        Reminder,
    )
    from tests.review.audit_study.conftest import TEXT, make_audit_study, span

    coordinator = CoordinatorFactory()
    reviewers = ReviewerFactory.create_batch(3)
    # Seed 7 gives the reviewers, in the order their accounts were made, R3 R1 R2; the
    # restore makes them in pseudonym order, so nothing may depend on user ids.
    study = make_audit_study(coordinator=coordinator, reviewers=reviewers, n_reports=2, k=3, seed=7)
    assert list(study.panel.order_by("reviewer_id").values_list("pseudonym", flat=True)) == [
        "R3",
        "R1",
        "R2",
    ]
    Study.objects.filter(pk=study.pk).update(
        reminder_every_days=4,
        house_style={"accents": {"gastrectomie": "gastrectomie"}, "abbreviations": {"Hb": "Hb"}},
    )
    after, sortie, drug = (
        span(TEXT, "FLOT après chirurgie"),
        span(TEXT, "12/03/2024"),
        span(TEXT, "antalgiques"),
    )
    plans = [
        ({0: ("correct",), 1: ("wrong_value", "cT3N2M0"), 2: ("wrong_span", *after)}, True),
        ({0: ("correct",), 1: ("wrong_value", "cT3N2M0"), 3: ("not_in_text",)}, True),
        ({0: ("wrong_span", 11, 17), 1: ("correct",), 4: ("wrong_value", "actif")}, False),
    ]
    now = timezone.now()
    reports = list(Report.objects.filter(memberships__study=study).order_by("code"))
    for assignment in Assignment.objects.filter(study=study).select_related("report"):
        seat = study.panel.get(reviewer=assignment.reviewer)
        verdicts, adds = plans[int(seat.pseudonym[1:]) - 1]
        for index, (verdict, *fix) in verdicts.items():
            row = AnnotationVerdict(assignment=assignment, annotation_index=index, verdict=verdict)
            if verdict == "wrong_value":
                row.corrected_value = fix[0]
            if verdict == "wrong_span":
                row.corrected_start, row.corrected_end = fix
            row.save()
        if adds:
            AddedAnnotation.objects.create(
                assignment=assignment,
                field="discharge_date",
                value=f"2024-03-1{seat.pseudonym[1:]}",  # values tied: the first one wins
                start=sortie[0],
                end=sortie[1],
            )
        else:
            AddedAnnotation.objects.create(
                assignment=assignment,
                field="discharge_treatment",
                value="antalgiques",
                start=drug[0],
                end=drug[1],
            )
        if assignment.report == reports[1] and seat.pseudonym == "R3":
            continue  # left in progress: its verdicts are not results
        Assignment.objects.filter(pk=assignment.pk).update(
            status=Assignment.Status.SUBMITTED, submitted_at=now, active_ms=61234
        )
    AnnotationAdjudication.objects.create(
        study=study,
        report=reports[0],
        annotation_index=4,
        verdict="wrong_value",
        value="sevré",
        decided_by=coordinator,
    )
    AnnotationAdjudication.objects.create(
        study=study,
        report=reports[1],
        annotation_index=2,
        verdict="wrong_span",
        start=after[0],
        end=after[1],
        decided_by=coordinator,
    )
    AddedAdjudication.objects.create(
        study=study,
        report=reports[0],
        field="discharge_treatment",
        start=drug[0],
        end=drug[1],
        accepted=True,
        value="paracétamol",
        decided_by=coordinator,
    )
    Reminder.objects.create(study=study, reviewer=reviewers[0], kind="scheduled", remaining=2)
    CannotAssess.objects.create(
        study=study, report=reports[1], reviewer=reviewers[1], reason="other", note="illisible"
    )
    services.study_close(study=study, actor=coordinator)
    return study


def test_annotation_audit_round_trip_gives_the_same_verified_dataset(roles, tmp_path):
    from review.audit_study import dataset
    from review.audit_study.results import audit_data, audit_results

    study = _build_audit_study()
    code = study.code
    data = audit_data(study=study)
    verified = "".join(dataset.verified_lines(data))
    metrics = audit_results(data=data, n_boot=50).metrics
    labels = {r.code: dataset.report_labels(r) for r in data.reports}
    first, second = tmp_path / "first", tmp_path / "second"
    call_command("export_study", code, "--out", str(first))
    audit_names = sorted(p.name for p in first.iterdir() if p.name.startswith(f"{code}-"))
    assert f"{code}-verified.jsonl" in audit_names and f"{code}-verified.zip" in audit_names

    call_command("flush", "--no-input")
    cache.clear()
    call_command("import_study", str(first))
    restored = Study.objects.get(code=code)
    assert (restored.kind, restored.status, restored.reminder_every_days) == (
        "annotation_audit",
        "closed",
        4,
    )
    assert restored.house_style == {
        "accents": {"gastrectomie": "gastrectomie"},
        "abbreviations": {"Hb": "Hb"},
    }
    from review.models import (
        AddedAdjudication,
        AddedAnnotation,
        AnnotationAdjudication,
        AnnotationVerdict,
        CannotAssess,
        Reminder,
    )

    assert AnnotationVerdict.objects.filter(assignment__study=restored).count() == 18
    assert AddedAnnotation.objects.filter(assignment__study=restored).count() == 6
    assert AnnotationAdjudication.objects.filter(study=restored).count() == 2
    assert AddedAdjudication.objects.filter(study=restored).count() == 1
    assert list(Reminder.objects.filter(study=restored).values_list("kind", "remaining")) == [
        ("scheduled", 2)
    ]
    assert list(CannotAssess.objects.filter(study=restored).values_list("reason", "note")) == [
        ("other", "illisible")
    ]
    data_after = audit_data(study=restored)
    assert "".join(dataset.verified_lines(data_after)) == verified
    assert {r.code: dataset.report_labels(r) for r in data_after.reports} == labels
    after_metrics = audit_results(data=data_after, n_boot=50).metrics
    assert json.dumps(after_metrics, sort_keys=True) == json.dumps(metrics, sort_keys=True)
    # The labels: the coordinator's value fix, majority span fix and accepted addition.
    first_report = data_after.reports[0]
    assert [(lab.field, lab.value, lab.decision) for lab in labels[first_report.code]] == [
        ("age", "64", "majority"),
        ("tnm", "cT3N2M0", "majority"),
        ("smoking", "sevré", "coordinator"),
        ("discharge_date", "2024-03-11", "majority"),
        ("discharge_treatment", "paracétamol", "coordinator"),
    ]
    call_command("export_study", code, "--out", str(second))
    for name in (*audit_names, "study.json"):
        if name == "study.json":
            assert _bundle_without_local_ids(second / name) == _bundle_without_local_ids(
                first / name
            )
        else:
            assert (second / name).read_bytes() == (first / name).read_bytes(), name


def _as_version_1(bundle: dict) -> dict:
    """What export_study wrote before version 2: none of the fields and parts added since."""
    from review import backup

    v1 = {k: v for k, v in bundle.items() if k not in backup.V2_PARTS}
    v1["version"] = 1
    v1["study"] = {k: v for k, v in bundle["study"].items() if k not in backup.STUDY_FIELDS_V2}
    v1["domains"] = [
        {k: v for k, v in row.items() if k not in backup.DOMAIN_FIELDS_V2}
        for row in bundle["domains"]
    ]
    v1["reports"] = [
        {k: v for k, v in row.items() if k not in (*backup.MEMBERSHIP_FIELDS_V2, "tags")}
        for row in bundle["reports"]
    ]
    v1["assignments"] = [
        {
            k: v
            for k, v in row.items()
            if k not in (*backup.ASSIGNMENT_FIELDS_V2, *backup.ASSIGNMENT_TIMES_V2, "verdicts")
        }
        for row in bundle["assignments"]
    ]
    return v1


def test_version_1_bundle_still_restores_and_unknown_versions_are_refused(roles, tmp_path):
    study = _build_study()
    code = study.code
    out = tmp_path / "export"
    call_command("export_study", code, "--out", str(out))
    bundle = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert bundle["version"] == 2
    ratings = (out / "ratings.csv").read_bytes()
    call_command("flush", "--no-input")
    cache.clear()

    future = tmp_path / "future.json"
    future.write_text(json.dumps({**bundle, "version": 3}), encoding="utf-8")
    with pytest.raises(
        CommandError,
        match=r"^Unsupported bundle version 3: this version of synthreports reads versions "
        r"1, 2\. Nothing was imported\.$",
    ):
        call_command("import_study", str(future))
    future.write_text(json.dumps({**bundle, "version": True}), encoding="utf-8")
    with pytest.raises(CommandError, match=r"^Unsupported bundle version True: "):
        call_command("import_study", str(future))
    assert (Study.objects.count(), Report.objects.count(), get_user_model().objects.count()) == (
        0,
        0,
        0,
    )

    old = tmp_path / "old.json"
    old.write_text(json.dumps(_as_version_1(bundle)), encoding="utf-8")
    call_command("import_study", str(old))
    restored = Study.objects.get(code=code)
    assert (
        restored.kind,
        restored.reminder_every_days,
        restored.house_style,
        restored.attention_checks,
    ) == ("rating", None, {}, 0)
    # 12 reports × 2 raters; every assignment rated on the 6 domains but one, on 2.
    assert Assignment.objects.filter(study=restored).count() == 24
    assert Rating.objects.filter(assignment__study=restored).count() == 23 * 6 + 2
    again = tmp_path / "again"
    call_command("export_study", code, "--out", str(again))
    assert (again / "ratings.csv").read_bytes() == ratings


def test_rating_study_guidance_round_trip_keeps_calibration_attention_checks_and_judge(
    roles, settings, tmp_path
):
    """Instructions, attention checks (a second showing of a report under another code),
    calibration items with their reference scores, domain examples, tags, the LLM judge's
    scores, a cannot-assess record and a reminder all come back; the figures are unchanged."""
    from review.models import CannotAssess, JudgeRating, Reminder, Tag
    from review.selectors_queue import study_calibration_agreement, study_test_retest
    from review.services import reviewer as services_reviewer

    settings.STATS_BOOTSTRAP_RESAMPLES = 200
    coordinator = CoordinatorFactory()
    reviewers = ReviewerFactory.create_batch(3)
    study = services.study_create(
        name="Guided", created_by=coordinator, raters_per_report=2, seed=5
    )
    members = ReportFactory.create_batch(4)
    members[0].tags.add(Tag.objects.create(name="pilot"))
    services.study_reports_add(study=study, reports=members)
    services.study_reviewers_set(study=study, reviewers=reviewers, actor=coordinator)
    calibration = ReportFactory.create_batch(2)
    items = services_reviewer.calibration_items_parse(
        study=study, text="\n".join(f"{report.code} 9 8 7 6 5 4" for report in calibration)
    )
    services_reviewer.study_calibration_set(study=study, items=items)
    services_reviewer.study_guidance_update(
        study=study,
        instructions="Read **all** of it.",
        instructions_fr="Tout lire.",
        attention_checks=1,
    )
    Domain.objects.filter(study=study, key="language_quality").update(
        example_low="Illisible.", example_high="Impeccable."
    )
    study = services.study_open(study=study, actor=coordinator)
    for assignment in Assignment.objects.filter(study=study).select_related("report"):
        base = {"calibration": 7, "attention": 6}.get(assignment.kind, 8)
        for domain in study.domains.all():
            services.rating_save(
                assignment=assignment,
                domain_key=domain.key,
                score=base - (sum(map(ord, assignment.report.code + domain.key)) % 2),
            )
        services.assignment_submit(assignment=assignment)
    JudgeRating.objects.create(
        study=study, report=members[1], domain=study.domains.first(), model="judge-1", score=7
    )
    CannotAssess.objects.create(
        study=study,
        report=members[2],
        reviewer=reviewers[0],
        reason="language",
        reassigned_to=reviewers[1],
    )
    Reminder.objects.create(study=study, reviewer=reviewers[2], kind="manual", remaining=0)
    services.study_close(study=study, actor=coordinator)
    code = study.code
    retest = study_test_retest(study=study)
    agreement = study_calibration_agreement(study=study)
    kinds = sorted(Assignment.objects.filter(study=study).values_list("kind", "display_code"))
    assert [kind for kind, _code in kinds].count("attention") == 3
    first, second = tmp_path / "first", tmp_path / "second"
    call_command("export_study", code, "--out", str(first))

    call_command("flush", "--no-input")
    cache.clear()
    call_command("import_study", str(first))
    restored = Study.objects.get(code=code)
    assert (restored.instructions, restored.instructions_fr, restored.attention_checks) == (
        "Read **all** of it.",
        "Tout lire.",
        1,
    )
    assert (
        sorted(Assignment.objects.filter(study=restored).values_list("kind", "display_code"))
        == kinds
    )
    domains = restored.domains.order_by("order")
    references = {d.key: n for d, n in zip(domains, (9, 8, 7, 6, 5, 4), strict=True)}
    assert sorted(
        StudyReport.objects.filter(study=restored, role="calibration").values_list(
            "report__code", "reference_scores"
        )
    ) == sorted((report.code, references) for report in calibration)
    assert study_test_retest(study=restored) == retest
    assert study_calibration_agreement(study=restored) == agreement
    assert list(Report.objects.get(code=members[0].code).tags.values_list("name", flat=True)) == [
        "pilot"
    ]
    assert list(JudgeRating.objects.values_list("report__code", "model", "score")) == [
        (members[1].code, "judge-1", 7)
    ]
    assert list(
        CannotAssess.objects.values_list(
            "report__code", "reviewer__username", "reason", "reassigned_to__username"
        )
    ) == [(members[2].code, reviewers[0].username, "language", reviewers[1].username)]
    assert list(Reminder.objects.values_list("reviewer__username", "kind", "remaining")) == [
        (reviewers[2].username, "manual", 0)
    ]
    call_command("export_study", code, "--out", str(second))
    for name in COMPARED:
        assert (second / name).read_bytes() == (first / name).read_bytes(), name
    assert _bundle_without_local_ids(second / "study.json") == _bundle_without_local_ids(
        first / "study.json"
    )
