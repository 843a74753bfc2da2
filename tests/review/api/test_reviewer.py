"""The reviewer's API: queue, ratings, submission; refusals answered like the pages'."""

from review.models import Assignment, Rating, Report
from tests.review.api.clients import api_client


def _mine(study, reviewer):
    return Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position")


def test_queue_lists_code_position_status_only(open_study, reviewer):
    data = api_client(reviewer).get("/api/v1/me/queue/").json()
    expected = [
        {"code": a.code, "report_code": a.report.code, "position": a.position, "status": "pending"}
        for a in _mine(open_study, reviewer).select_related("report")
    ]
    assert data == expected


def test_put_ratings_then_submit(open_study, reviewer):
    assignment = _mine(open_study, reviewer).first()
    keys = list(open_study.domains.values_list("key", flat=True))
    api = api_client(reviewer)
    response = api.put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": dict.fromkeys(keys, 8), "comment": "clear"},
        format="json",
    )
    assert response.status_code == 200
    assert [d["score"] for d in response.json()["domains"]] == [8] * 6
    response = api.post(f"/api/v1/me/assignments/{assignment.code}/submit/")
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    replay = api.post(f"/api/v1/me/assignments/{assignment.code}/submit/")
    assert replay.status_code == 409
    assert replay.json() == {
        "detail": "This report was already submitted.",
        "code": "already_submitted",
    }


def test_put_ratings_out_of_range_is_400_and_all_or_nothing(open_study, reviewer):
    assignment = _mine(open_study, reviewer).first()
    response = api_client(reviewer).put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": {"completeness": 5, "conciseness": 11}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The score must be between 1 and 10.",
        "code": "score_out_of_range",
    }
    assert Rating.objects.count() == 0


def test_put_ratings_unknown_domain_and_non_integer(open_study, reviewer):
    assignment = _mine(open_study, reviewer).first()
    api = api_client(reviewer)
    unknown = api.put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": {"style": 5}},
        format="json",
    )
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown_domain"
    not_int = api.put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": {"completeness": "x"}},
        format="json",
    )
    assert not_int.status_code == 400
    assert not_int.json() == {"scores": {"completeness": ["A valid integer is required."]}}
    assert Rating.objects.count() == 0


def test_closed_study_rating_is_409(open_study, reviewer, coordinator):
    api_client(coordinator).post(f"/api/v1/studies/{open_study.pk}/close/")
    assignment = _mine(open_study, reviewer).first()
    response = api_client(reviewer).put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": {"completeness": 5}},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "study_closed"
    assert Rating.objects.count() == 0


def test_assignment_text_is_the_normalised_text_the_rating_page_shows(open_study, reviewer):
    # The selector normalises once (chatter, Markdown, spacing, headings); the serializer
    # only maps the field, so the API and the page cannot drift apart.
    assignment = _mine(open_study, reviewer).first()
    Report.objects.filter(pk=assignment.report_id).update(
        text="Voici le compte rendu demandé :\n\n## Motif d'hospitalisation\n"
        "**Bilan**  de suivi.\r\n\nCONCLUSION :\n- sortie à domicile\n"
    )
    data = api_client(reviewer).get(f"/api/v1/me/assignments/{assignment.code}/").json()
    # List items capitalised: the house style's one list style.
    assert data["text"] == (
        "Motif d'hospitalisation\nBilan de suivi.\n\nConclusion\n- Sortie à domicile"
    )
