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
from review.models import Assignment, AuditEvent, Domain, Rating, Report, Study
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
    assert (Study.objects.count(), Report.objects.count(), Rating.objects.count()) == counts
