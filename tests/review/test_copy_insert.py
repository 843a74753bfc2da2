"""review.copy_insert: COPY on PostgreSQL writes the rows bulk_create writes."""

from django.db import connection
from django.forms.models import model_to_dict

from review.copy_insert import rows_insert
from review.models import Assignment, Report, content_hash
from tests.factories import ReportFactory


def _columns(instance, *, skip=("id", "code", "display_code")):
    values = model_to_dict(instance)
    values.update({f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields})
    return {k: v for k, v in values.items() if k not in skip and not k.endswith("_at")}


def test_the_suite_runs_on_postgresql():
    assert connection.vendor == "postgresql"  # or this file proves nothing about COPY


_REPORT_COLUMNS = (
    "code",
    "text",
    "original_text",
    "source",
    "language",
    "annotations",
    "metadata",
    "provenance",
    "content_hash",
)


def test_reports_read_back_as_bulk_create_wrote_them(db):
    text = "Patient de 64 ans, « FOLFOX » C3.\nAntécédents : HTA."
    values = (
        text,
        text + " [NOM]",
        Report.Source.REAL,
        "fr",
        [{"field": "regimen", "value": "FOLFOX", "start": 24, "end": 30}],
        {"service": "oncologie", "n": 3},
        {"kind": "import"},
        content_hash(text),
    )
    columns = dict(zip(_REPORT_COLUMNS, ("R-BULK01", *values), strict=True))
    Report.objects.bulk_create([Report(**columns)])
    rows_insert(Report, fields=_REPORT_COLUMNS, rows=[("R-COPY01", *values)])
    bulk, copied = Report.objects.get(code="R-BULK01"), Report.objects.get(code="R-COPY01")
    assert _columns(copied) == _columns(bulk)
    assert copied.created_at is not None
    assert copied.annotations == [{"field": "regimen", "value": "FOLFOX", "start": 24, "end": 30}]


def test_nothing_to_insert_does_nothing(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_insert(Report, fields=("code",), rows=[]) == 0


def test_copy_writes_tabs_backslashes_defaults_and_json(db):
    # On PostgreSQL the import inserts with COPY: each column must hold what bulk_create
    # (and a plain save) would store, defaults and JSON included.
    from django.utils import timezone

    before = timezone.now()
    rows_insert(
        Report,
        fields=("code", "text", "source", "metadata", "provenance", "content_hash"),
        rows=[
            (
                "COPY01",
                "Texte « un »\tavec tabulation\\ et barre.",
                Report.Source.REAL,
                {"site": "sein", "n": 2},
                {"kind": "import", "placeholders": [{"kind": "date"}]},
                content_hash("Texte « un »\tavec tabulation\\ et barre."),
            ),
            ("COPY02", "Deux\nlignes.", "real", {}, {}, ""),
        ],
    )
    first, second = Report.objects.order_by("id")
    assert (first.code, first.text, first.original_text) == (
        "COPY01",
        "Texte « un »\tavec tabulation\\ et barre.",
        "",
    )
    assert (first.language, first.annotations, first.external_id) == ("fr", [], "")
    assert first.metadata == {"site": "sein", "n": 2}
    assert first.provenance == {"kind": "import", "placeholders": [{"kind": "date"}]}
    assert first.content_hash == content_hash(first.text)
    assert first.report_import is None
    assert before <= first.created_at <= timezone.now()
    assert (second.code, second.text, second.metadata, second.provenance) == (
        "COPY02",
        "Deux\nlignes.",
        {},
        {},
    )


def test_values_of_another_type_go_through_their_field(db, open_study, reviewer):
    # The as-is path takes only a str for a text column and an int for an integer one;
    # anything else is prepared by the field, as bulk_create would.
    from django.utils.translation import gettext_lazy

    text = "Compte rendu de contrôle."
    rows_insert(
        Report,
        fields=("code", "text", "source", "language", "external_id", "content_hash"),
        rows=[
            (
                "R-LAZY01",
                text,
                Report.Source.REAL,
                gettext_lazy("fr"),
                gettext_lazy("CR-7"),
                content_hash(text),
            )
        ],
    )
    copied = Report.objects.get(code="R-LAZY01")
    assert (copied.language, copied.external_id, copied.original_text) == ("fr", "CR-7", "")
    report = ReportFactory()
    rows_insert(
        Assignment,
        fields=("study_id", "reviewer_id", "report_id", "position"),
        rows=[(open_study.pk, reviewer.pk, report.pk, "902")],
    )
    assert Assignment.objects.get(study=open_study, report=report).position == 902


# --- rows_insert: tuples of some columns, the others as a new instance would hold them ------


def _stored(model, **lookup):
    return model.objects.filter(**lookup).values().get()


def test_assignment_rows_read_back_as_bulk_create_wrote_them(open_study, reviewer):
    from django.utils import timezone

    first, second, third = ReportFactory.create_batch(3)
    Assignment.objects.bulk_create(
        [Assignment(study=open_study, reviewer=reviewer, report=first, position=900)]
    )
    before = timezone.now()
    count = rows_insert(
        Assignment,
        fields=("study_id", "reviewer_id", "report_id", "position", "kind", "display_code"),
        rows=[
            (open_study.pk, reviewer.pk, second.pk, 901, Assignment.Kind.ATTENTION, "R-ABC123"),
            (open_study.pk, reviewer.pk, third.pk, 902, "regular", ""),
        ],
    )
    assert count == 2
    bulk = _stored(Assignment, study=open_study, position=900)
    copied = _stored(Assignment, study=open_study, position=901)
    differ = ("id", "code", "report_id", "position", "kind", "display_code", "updated_at")
    assert {k: v for k, v in copied.items() if k not in differ} == {
        k: v for k, v in bulk.items() if k not in differ
    }
    assert (copied["status"], copied["active_ms"], copied["comment"]) == ("pending", 0, "")
    assert (copied["kind"], copied["display_code"]) == ("attention", "R-ABC123")
    assert before <= copied["updated_at"] <= timezone.now()
    # A callable default is called for each row: every assignment gets a code of its own.
    other = _stored(Assignment, study=open_study, position=902)
    assert len(copied["code"]) == len(other["code"]) == 10
    assert copied["code"] != other["code"]
    assert (other["kind"], other["display_code"]) == ("regular", "")


def test_callable_defaults_are_drawn_for_each_row_and_json_defaults_stored(open_study):
    from review.models import StudyReport

    reports = ReportFactory.create_batch(3)
    StudyReport.objects.filter(study=open_study).delete()
    assert (
        rows_insert(
            StudyReport,
            fields=("study_id", "report_id"),
            rows=[(open_study.pk, report.pk) for report in reports],
        )
        == 3
    )
    stored = list(
        StudyReport.objects.filter(study=open_study)
        .order_by("report_id")
        .values_list("report_id", "role", "reference_scores")
    )
    assert stored == [(report.pk, "member", {}) for report in reports]


def test_rows_insert_refuses_unknown_or_missing_columns_and_writes_nothing(open_study):
    import pytest

    before = Assignment.objects.count()
    with pytest.raises(ValueError, match="Assignment has no column reviewer"):
        rows_insert(Assignment, fields=("study_id", "reviewer"), rows=[(open_study.pk, 1)])
    # position has no default: a row without it is refused before anything is sent.
    with pytest.raises(ValueError, match=r"Assignment\.position has no default"):
        rows_insert(
            Assignment,
            fields=("study_id", "reviewer_id", "report_id"),
            rows=[(open_study.pk, 1, 1)],
        )
    with pytest.raises(ValueError, match=r"Assignment\.updated_at is set to the time"):
        rows_insert(Assignment, fields=("study_id", "updated_at"), rows=[(open_study.pk, None)])
    assert Assignment.objects.count() == before
    assert rows_insert(Assignment, fields=("study_id",), rows=[]) == 0
