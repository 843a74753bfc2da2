"""The rating flow's writes in one or two statements (issue 21): the API's PUT of scores and
its submit, the page's submit, and `Prefer: return=minimal`. Each fast path must answer and
refuse exactly as the slow path does, all or nothing; query budgets included."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from review import services
from review.models import Assignment, AuditEvent, Domain, Rating, Study, StudyReviewer
from tests.review.api.clients import api_client
from tests.review.api.test_reviewer_next import API_OVERHEAD
from tests.review.test_query_budgets import REQUEST_OVERHEAD

SIX = {
    "language_quality": 8,
    "medical_consistency": 7,
    "completeness": 6,
    "conciseness": 5,
    "overall_impression": 4,
    "ai_authorship": 3,
}
MINIMAL = {"HTTP_PREFER": "return=minimal"}


def _first(study, reviewer):
    return Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position").first()


def _scores(assignment):
    return dict(Rating.objects.filter(assignment=assignment).values_list("domain__key", "score"))


def _put(api, assignment, scores, **extra):
    return api.put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": scores},
        format="json",
        **extra,
    )


def _submit(api, assignment, **extra):
    return api.post(f"/api/v1/me/assignments/{assignment.code}/submit/", **extra)


def test_put_minimal_answers_204_and_saves_every_score(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    assert assignment.status == Assignment.Status.PENDING
    response = _put(api_client(reviewer), assignment, SIX, **MINIMAL)
    assert response.status_code == 204
    assert response["Preference-Applied"] == "return=minimal"
    assert response.content == b""
    assert _scores(assignment) == SIX
    assignment.refresh_from_db()
    # A PUT on a pending report starts it, as the slow path does.
    assert assignment.status == Assignment.Status.IN_PROGRESS
    assert assignment.first_opened_at is not None


def test_put_without_preference_answers_the_assignment(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    response = _put(api_client(reviewer), assignment, {"completeness": 9})
    assert response.status_code == 200
    data = response.json()
    assert data["code"] == assignment.code
    assert [d["score"] for d in data["domains"] if d["key"] == "completeness"] == [9]
    assert "Preference-Applied" not in response


@pytest.mark.parametrize(
    ("header", "minimal"),
    [
        ("return=minimal", True),
        ("respond-async, return=minimal", True),
        ("return = minimal; charset=x", True),
        ("RETURN=MINIMAL", True),
        ("return=representation", False),
        ("minimal", False),
    ],
)
def test_prefer_header_is_read_as_rfc_7240_says(open_study, reviewer, header, minimal):
    response = _put(
        api_client(reviewer), _first(open_study, reviewer), {"completeness": 2}, HTTP_PREFER=header
    )
    assert response.status_code == (204 if minimal else 200)


def test_put_with_an_unknown_domain_writes_nothing(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    response = _put(api_client(reviewer), assignment, {"completeness": 5, "beauty": 5}, **MINIMAL)
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_domain"
    assert _scores(assignment) == {}
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.PENDING


def test_put_with_a_score_off_the_scale_writes_nothing(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    response = _put(api_client(reviewer), assignment, {"completeness": 5, "conciseness": 11})
    assert response.status_code == 400
    assert response.json()["code"] == "score_out_of_range"
    assert _scores(assignment) == {}


def test_put_on_another_reviewers_assignment_is_404(open_study, reviewer, other_reviewer):
    theirs = _first(open_study, other_reviewer)
    response = _put(api_client(reviewer), theirs, {"completeness": 5}, **MINIMAL)
    assert response.status_code == 404
    assert _scores(theirs) == {}


def test_put_by_a_removed_reviewer_is_404(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    StudyReviewer.objects.filter(study=open_study, reviewer=reviewer).update(active=False)
    response = _put(api_client(reviewer), assignment, {"completeness": 5}, **MINIMAL)
    assert response.status_code == 404
    assert _scores(assignment) == {}


def test_put_on_a_closed_study_is_409(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    Study.objects.filter(pk=open_study.pk).update(status=Study.Status.CLOSED)
    response = _put(api_client(reviewer), assignment, {"completeness": 5}, **MINIMAL)
    assert response.status_code == 409
    assert response.json()["code"] == "study_closed"
    assert _scores(assignment) == {}


def test_put_after_submit_keeps_its_audit_row(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    assert _put(api, assignment, SIX, **MINIMAL).status_code == 204
    assert _submit(api, assignment, **MINIMAL).status_code == 204
    response = _put(api, assignment, {"completeness": 1}, **MINIMAL)
    assert response.status_code == 204
    assert _scores(assignment)["completeness"] == 1
    event = AuditEvent.objects.get(action="rating.change_after_submit")
    assert (event.target, event.details) == (
        assignment.code,
        {"domain": "completeness", "old": 6, "new": 1},
    )


def test_submit_minimal_answers_204(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    _put(api, assignment, SIX, **MINIMAL)
    response = _submit(api, assignment, **MINIMAL)
    assert response.status_code == 204
    assert response["Preference-Applied"] == "return=minimal"
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.SUBMITTED
    assert assignment.submitted_at is not None


def test_submit_incomplete_names_the_missing_domains(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    _put(api, assignment, {k: v for k, v in SIX.items() if k != "conciseness"}, **MINIMAL)
    response = _submit(api, assignment, **MINIMAL)
    assert response.status_code == 400
    assert response.json()["code"] == "incomplete"
    assert "Conciseness" in response.json()["detail"]
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.IN_PROGRESS


def test_submit_twice_is_409(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    _put(api, assignment, SIX, **MINIMAL)
    assert _submit(api, assignment, **MINIMAL).status_code == 204
    again = _submit(api, assignment, **MINIMAL)
    assert again.status_code == 409
    assert again.json()["code"] == "already_submitted"


def test_submit_on_a_closed_study_is_409(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    _put(api, assignment, SIX, **MINIMAL)
    Study.objects.filter(pk=open_study.pk).update(status=Study.Status.CLOSED)
    response = _submit(api, assignment, **MINIMAL)
    assert response.status_code == 409
    assert response.json()["code"] == "study_closed"
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.IN_PROGRESS


def test_put_and_submit_query_budgets(open_study, reviewer, django_assert_num_queries):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    # One statement: lock, check every key and score, upsert all, start a pending report.
    with django_assert_num_queries(API_OVERHEAD + 1):
        assert _put(api, assignment, SIX, **MINIMAL).status_code == 204
    # Without the preference, the answer reads the assignment back (two queries).
    with django_assert_num_queries(API_OVERHEAD + 1 + 2):
        assert _put(api, assignment, SIX).status_code == 200
    # The locks, then the update conditional on every domain being scored; the transaction
    # is a savepoint inside the test's (two more statements).
    with django_assert_num_queries(API_OVERHEAD + 4):
        assert _submit(api, assignment, **MINIMAL).status_code == 204


def _opened_and_scored(study, reviewer) -> Assignment:
    """The reviewer's first assignment, opened, each of the six domains scored (SIX)."""
    assignment = _first(study, reviewer)
    services.assignment_open(assignment=assignment)
    for key, score in SIX.items():
        services.rating_save(assignment=assignment, domain_key=key, score=score)
    return assignment


def test_page_submit_saves_comment_and_reading_time_with_the_submit(
    reviewer_client, open_study, reviewer
):
    assignment = _opened_and_scored(open_study, reviewer)
    # The page was served 10 s ago: a visit of 4 s counts 4 s.
    Assignment.objects.filter(pk=assignment.pk).update(
        reading_visit_at=timezone.now() - timedelta(seconds=10), reading_visit_ms=1000
    )
    before = Assignment.objects.get(pk=assignment.pk).active_ms
    response = reviewer_client.post(
        reverse("review:rate_submit", args=[assignment.code]),
        {"comment": "Dates cohérentes.", "active_ms": "4000"},
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.SUBMITTED
    assert assignment.comment == "Dates cohérentes."
    assert assignment.active_ms == before + 3000
    assert assignment.reading_visit_ms == 4000


def test_page_submit_with_a_missing_domain_shows_the_page(reviewer_client, open_study, reviewer):
    assignment = _first(open_study, reviewer)
    services.assignment_open(assignment=assignment)
    for key in list(SIX)[:5]:
        services.rating_save(assignment=assignment, domain_key=key, score=5)
    response = reviewer_client.post(reverse("review:rate_submit", args=[assignment.code]))
    assert response.status_code == 400
    assert "Score every domain before submitting" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.IN_PROGRESS


def test_every_domain_of_the_study_is_needed_not_six(open_study, reviewer, coordinator):
    """The fast submit counts the study's own domains: a study with a seventh domain needs
    seven scores."""
    assignment = _first(open_study, reviewer)
    Domain.objects.create(study=open_study, key="dates", label="Dates", order=99)
    api = api_client(reviewer)
    _put(api, assignment, SIX, **MINIMAL)
    assert _submit(api, assignment, **MINIMAL).status_code == 400
    _put(api, assignment, {"dates": 7}, **MINIMAL)
    assert _submit(api, assignment, **MINIMAL).status_code == 204


def test_put_with_a_score_beyond_a_database_integer_is_400(open_study, reviewer):
    assignment = _first(open_study, reviewer)
    response = _put(api_client(reviewer), assignment, {"completeness": 2**40}, **MINIMAL)
    assert response.status_code == 400
    assert response.json()["code"] == "score_out_of_range"
    assert _scores(assignment) == {}


# --- the page's 15 s beat (reading time only) in one statement ---------------------------


def _visit_started(assignment, *, seconds_ago: int, counted_ms: int = 0):
    Assignment.objects.filter(pk=assignment.pk).update(
        reading_visit_at=timezone.now() - timedelta(seconds=seconds_ago),
        reading_visit_ms=counted_ms,
    )


def test_heartbeat_adds_only_what_is_not_yet_counted(reviewer_client, open_study, reviewer):
    assignment = _first(open_study, reviewer)
    _visit_started(assignment, seconds_ago=60, counted_ms=5000)
    url = reverse("review:rate_heartbeat", args=[assignment.code])
    assert reviewer_client.post(url, {"active_ms": "20000"}).status_code == 204
    assert reviewer_client.post(url, {"active_ms": "20000"}).status_code == 204  # repeated
    assignment.refresh_from_db()
    assert (assignment.active_ms, assignment.reading_visit_ms) == (15000, 20000)


def test_heartbeat_is_capped_by_the_wall_time_since_the_page(reviewer_client, open_study, reviewer):
    assignment = _first(open_study, reviewer)
    _visit_started(assignment, seconds_ago=3)
    url = reverse("review:rate_heartbeat", args=[assignment.code])
    assert reviewer_client.post(url, {"active_ms": "600000"}).status_code == 204
    assignment.refresh_from_db()
    assert 3000 <= assignment.active_ms < 4000


def test_heartbeat_queries(reviewer_client, open_study, reviewer, django_assert_num_queries):
    assignment = _first(open_study, reviewer)
    _visit_started(assignment, seconds_ago=60)
    url = reverse("review:rate_heartbeat", args=[assignment.code])
    with django_assert_num_queries(REQUEST_OVERHEAD + 1):
        assert reviewer_client.post(url, {"active_ms": "1000"}).status_code == 204


def test_heartbeat_on_a_closed_study_counts_nothing(reviewer_client, open_study, reviewer):
    assignment = _first(open_study, reviewer)
    _visit_started(assignment, seconds_ago=60)
    Study.objects.filter(pk=open_study.pk).update(status=Study.Status.CLOSED)
    url = reverse("review:rate_heartbeat", args=[assignment.code])
    assert reviewer_client.post(url, {"active_ms": "1000"}).status_code == 204
    assignment.refresh_from_db()
    assert assignment.active_ms == 0


def test_heartbeat_on_another_reviewers_report_is_404(reviewer_client, open_study, other_reviewer):
    theirs = _first(open_study, other_reviewer)
    _visit_started(theirs, seconds_ago=60)
    url = reverse("review:rate_heartbeat", args=[theirs.code])
    assert reviewer_client.post(url, {"active_ms": "1000"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.active_ms == 0


def _browser_form(page_html: str, code: str) -> dict:
    """What the browser posts when the reviewer submits the rating page: every field of
    form#submit-form (the checked radio buttons included), read from the page itself."""
    start = page_html.index('id="submit-form"')
    form = page_html[start : page_html.index("</form>", start)]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    checked = re.findall(r'name="(score-[^"]+)" value="(\d+)" checked', form)
    fields.update(checked)
    fields["comment"] = ""
    return fields


def test_the_page_submit_carries_the_scores_and_takes_the_fast_path(
    reviewer_client, open_study, reviewer, django_assert_num_queries
):
    """The radio buttons are inside the submit form: a browser's submit carries the six
    scores the page saved. They are saved again at once (one statement, as the API's PUT),
    then submitted (two): not six ORM saves."""
    queue = list(
        Assignment.objects.filter(study=open_study, reviewer=reviewer).order_by("position")
    )
    assignment = queue[0]
    page = reviewer_client.get(reverse("review:rate", args=[assignment.code]))
    for key, score in SIX.items():
        reviewer_client.post(
            reverse("review:rate_score", args=[assignment.code, key]),
            {f"score-{key}": str(score)},
            HTTP_HX_REQUEST="true",
        )
    page = reviewer_client.get(reverse("review:rate", args=[assignment.code]))
    form = _browser_form(page.content.decode(), assignment.code)
    assert {k: v for k, v in form.items() if k.startswith("score-")} == {
        f"score-{key}": str(score) for key, score in SIX.items()
    }
    # The reviewer changed their mind on one domain in the form without its save landing.
    form["score-completeness"] = "2"
    # The scores' statement, then the submit's lock and update inside a savepoint of the
    # test's transaction (four).
    with django_assert_num_queries(REQUEST_OVERHEAD + 1 + 4):
        response = reviewer_client.post(reverse("review:rate_submit", args=[assignment.code]), form)
    assert response.status_code == 302
    assert response["Location"] == reverse("review:rate", args=[queue[1].code])
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.SUBMITTED
    assert assignment.comment == ""
    assert dict(assignment.ratings.values_list("domain__key", "score")) == {
        **SIX,
        "completeness": 2,
    }


def test_a_page_submit_with_a_score_off_the_scale_changes_nothing(
    reviewer_client, open_study, reviewer
):
    assignment = _opened_and_scored(open_study, reviewer)
    form = {f"score-{key}": str(score) for key, score in SIX.items()}
    form["score-completeness"] = "11"
    response = reviewer_client.post(reverse("review:rate_submit", args=[assignment.code]), form)
    assert response.status_code == 400
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.IN_PROGRESS
    assert dict(assignment.ratings.values_list("domain__key", "score")) == SIX


# --- the submit that carries its scores: one request rates a report --------------------


def _submit_with(api, assignment, body, **extra):
    return api.post(
        f"/api/v1/me/assignments/{assignment.code}/submit/", body, format="json", **extra
    )


def _assert_untouched(assignment):
    """No score saved, and the assignment still pending with no comment."""
    assert _scores(assignment) == {}
    assignment.refresh_from_db()
    assert (assignment.status, assignment.comment) == (Assignment.Status.PENDING, "")


@pytest.fixture(params=["fast", "slow"])
def submit_path(request, monkeypatch):
    """Every case through the three statements and through the services they stand in for
    (what a non-PostgreSQL database, or any case they decline, goes through)."""
    if request.param == "slow":
        monkeypatch.setattr(
            services, "assignment_submit_with_scores_in_three_statements", lambda **_k: None
        )
        monkeypatch.setattr(services, "assignment_submit_in_two_statements", lambda **_k: None)
    return request.param


def test_submit_with_scores_saves_them_and_submits(open_study, reviewer, submit_path):
    assignment = _first(open_study, reviewer)
    response = _submit_with(
        api_client(reviewer), assignment, {"scores": SIX, "comment": "Bien écrit."}, **MINIMAL
    )
    assert response.status_code == 204
    assert response["Preference-Applied"] == "return=minimal"
    assert _scores(assignment) == SIX
    assignment.refresh_from_db()
    assert (assignment.status, assignment.comment) == (Assignment.Status.SUBMITTED, "Bien écrit.")
    assert assignment.submitted_at is not None


def test_submit_with_a_comment_only_keeps_the_saved_scores(open_study, reviewer, submit_path):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    _put(api, assignment, SIX, **MINIMAL)
    response = _submit_with(api, assignment, {"comment": "Relu deux fois."}, **MINIMAL)
    assert response.status_code == 204
    assert _scores(assignment) == SIX
    assignment.refresh_from_db()
    assert (assignment.status, assignment.comment) == (
        Assignment.Status.SUBMITTED,
        "Relu deux fois.",
    )


def test_submit_with_scores_answers_the_submitted_assignment(open_study, reviewer, submit_path):
    assignment = _first(open_study, reviewer)
    response = _submit_with(api_client(reviewer), assignment, {"scores": SIX})
    assert response.status_code == 200
    data = response.json()
    assert (data["code"], data["status"]) == (assignment.code, "submitted")
    assert {d["key"]: d["score"] for d in data["domains"]} == SIX


def test_submit_with_a_domain_left_out_saves_none_of_its_scores(open_study, reviewer, submit_path):
    assignment = _first(open_study, reviewer)
    five = {k: v for k, v in SIX.items() if k != "conciseness"}
    response = _submit_with(
        api_client(reviewer), assignment, {"scores": five, "comment": "x"}, **MINIMAL
    )
    assert response.status_code == 400
    assert response.json()["code"] == "incomplete"
    assert "Conciseness" in response.json()["detail"]
    _assert_untouched(assignment)


def test_submit_completing_saved_scores_takes_only_the_missing_one(
    open_study, reviewer, submit_path
):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    _put(api, assignment, {k: v for k, v in SIX.items() if k != "conciseness"}, **MINIMAL)
    response = _submit_with(api, assignment, {"scores": {"conciseness": 5}}, **MINIMAL)
    assert response.status_code == 204
    assert _scores(assignment) == SIX


@pytest.mark.parametrize(
    ("scores", "code"),
    [
        ({**SIX, "conciseness": 11}, "score_out_of_range"),
        ({**SIX, "beauty": 5}, "unknown_domain"),
    ],
    ids=["off-the-scale", "unknown-domain"],
)
def test_submit_with_a_refused_score_writes_nothing(
    open_study, reviewer, submit_path, scores, code
):
    assignment = _first(open_study, reviewer)
    response = _submit_with(api_client(reviewer), assignment, {"scores": scores}, **MINIMAL)
    assert response.status_code == 400
    assert response.json()["code"] == code
    _assert_untouched(assignment)


@pytest.mark.parametrize(
    "body",
    [
        ["scores"],
        {"scores": {"completeness": "7"}},
        {"scores": {"completeness": 7.5}},
        {"scores": [7, 7]},
        {"scores": SIX, "comment": "x" * 5001},
    ],
    ids=["not-an-object", "score-as-text", "score-not-whole", "scores-not-an-object", "comment"],
)
def test_a_malformed_submit_body_is_400_and_writes_nothing(open_study, reviewer, body):
    assignment = _first(open_study, reviewer)
    response = _submit_with(api_client(reviewer), assignment, body, **MINIMAL)
    assert response.status_code == 400
    _assert_untouched(assignment)


def test_submit_with_scores_after_a_submit_is_409_and_changes_nothing(
    open_study, reviewer, submit_path
):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    assert _submit_with(api, assignment, {"scores": SIX}, **MINIMAL).status_code == 204
    again = _submit_with(api, assignment, {"scores": {**SIX, "completeness": 1}}, **MINIMAL)
    assert again.status_code == 409
    assert again.json()["code"] == "already_submitted"
    assert _scores(assignment) == SIX
    assert not AuditEvent.objects.filter(action="rating.change_after_submit").exists()


def test_submit_with_scores_on_a_closed_study_is_409(open_study, reviewer, submit_path):
    assignment = _first(open_study, reviewer)
    Study.objects.filter(pk=open_study.pk).update(status=Study.Status.CLOSED)
    response = _submit_with(api_client(reviewer), assignment, {"scores": SIX}, **MINIMAL)
    assert response.status_code == 409
    assert response.json()["code"] == "study_closed"
    _assert_untouched(assignment)


def test_submit_with_scores_on_another_reviewers_assignment_is_404(
    open_study, reviewer, other_reviewer, submit_path
):
    theirs = _first(open_study, other_reviewer)
    response = _submit_with(api_client(reviewer), theirs, {"scores": SIX}, **MINIMAL)
    assert response.status_code == 404
    _assert_untouched(theirs)


def test_submit_with_scores_schedules_the_results_once(
    open_study, reviewer, django_capture_on_commit_callbacks
):
    assignment = _first(open_study, reviewer)
    with django_capture_on_commit_callbacks() as callbacks:
        response = _submit_with(api_client(reviewer), assignment, {"scores": SIX}, **MINIMAL)
    assert response.status_code == 204
    assert len(callbacks) == 1


def test_submit_with_scores_query_budget(open_study, reviewer, django_assert_num_queries):
    assignment = _first(open_study, reviewer)
    api = api_client(reviewer)
    # The PUT's statement and the submit's two: a rated report in one request of three
    # statements. Here the transaction is a savepoint inside the test's (two more).
    with django_assert_num_queries(API_OVERHEAD + 5):
        response = _submit_with(api, assignment, {"scores": SIX}, **MINIMAL)
    assert response.status_code == 204
