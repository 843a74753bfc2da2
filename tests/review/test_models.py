import re

import pytest
from django.db import IntegrityError, transaction

from review.models import Assignment, AuditEvent, Rating, Report, Study
from tests.factories import ReportFactory


def _first_assignment(study):
    return Assignment.objects.filter(study=study).order_by("pk").first()


def test_rating_score_above_study_scale_rejected_by_database(open_study):
    assignment = _first_assignment(open_study)
    domain = open_study.domains.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(assignment=assignment, domain=domain, score=11)
    assert Rating.objects.count() == 0


def test_rating_score_below_study_scale_rejected_by_database(open_study):
    assignment = _first_assignment(open_study)
    domain = open_study.domains.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(assignment=assignment, domain=domain, score=0)
    assert Rating.objects.count() == 0


def test_rating_update_outside_scale_rejected_by_database(open_study):
    assignment = _first_assignment(open_study)
    domain = open_study.domains.first()
    rating = Rating.objects.create(assignment=assignment, domain=domain, score=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.filter(pk=rating.pk).update(score=12)
    rating.refresh_from_db()
    assert rating.score == 10


def test_rating_scale_follows_the_study_bounds(coordinator, reviewers):
    from tests.conftest import make_open_study

    study = make_open_study(coordinator=coordinator, reviewers=reviewers)
    Study.objects.filter(pk=study.pk).update(scale_min=1, scale_max=5)
    assignment = _first_assignment(study)
    domain = study.domains.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(assignment=assignment, domain=domain, score=6)
    assert Rating.objects.create(assignment=assignment, domain=domain, score=5).score == 5


def test_rating_unique_per_assignment_and_domain(open_study):
    assignment = _first_assignment(open_study)
    domain = open_study.domains.first()
    Rating.objects.create(assignment=assignment, domain=domain, score=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(assignment=assignment, domain=domain, score=5)
    assert Rating.objects.filter(assignment=assignment).count() == 1


def test_study_scale_must_be_ordered(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Study.objects.create(name="bad", scale_min=10, scale_max=1)
    assert Study.objects.count() == 0


def test_study_raters_at_least_one(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Study.objects.create(name="bad", raters_per_report=0)
    assert Study.objects.count() == 0


def test_report_source_must_be_known(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(text="x", source="generated")
    assert Report.objects.count() == 0


def test_report_empty_text_rejected(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(text="", source="real")


def test_report_code_is_random_not_sequential(db):
    reports = ReportFactory.create_batch(30)
    codes = [report.code for report in reports]
    assert len(set(codes)) == 30
    assert all(len(code) == 8 and code.startswith("R-") for code in codes)
    assert codes != sorted(codes)


def test_assignment_submitted_requires_time(open_study):
    assignment = _first_assignment(open_study)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.filter(pk=assignment.pk).update(status="submitted")


def test_audit_event_is_append_only(db):
    event = AuditEvent.objects.create(action="x")
    event.action = "y"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "x"


def test_codes_draw_each_letter_of_the_alphabet_uniformly(monkeypatch):
    # Every byte value maps to a letter, each letter to exactly 8 of them: a uniform byte
    # gives a uniform letter. With the 256 byte values in order, each letter appears 8 times.
    from review import models

    monkeypatch.setattr(models.secrets, "token_bytes", lambda n: bytes(range(256))[:n])
    code = models.random_code("R-", 256)
    assert code[:2] == "R-" and len(code) == 258
    assert {letter: code[2:].count(letter) for letter in models.CODE_ALPHABET} == dict.fromkeys(
        models.CODE_ALPHABET, 8
    )
    assert code[2:34] == models.CODE_ALPHABET
    monkeypatch.undo()
    assert re.fullmatch(r"R-[0-9A-HJKMNP-TV-Z]{6}", models.report_code_new())
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{10}", models.assignment_code_new())


def test_report_ids_by_code_answers_the_stored_codes_as_one_array_parameter(
    db, django_assert_num_queries
):
    reports = ReportFactory.create_batch(3)
    asked = [reports[0].code, reports[2].code, "R-NOPE00", *(f"X{n:07d}" for n in range(2000))]
    with django_assert_num_queries(1) as captured:
        found = Report.objects.ids_by_code(asked)
    assert found == {reports[0].code: reports[0].pk, reports[2].code: reports[2].pk}
    # One bound array, not a parameter per code: 2,000 of those cost 15-40 ms to send.
    assert "= ANY(" in captured.captured_queries[0]["sql"]
    assert Report.objects.ids_by_code([]) == {}
