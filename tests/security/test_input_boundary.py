"""Hostile input that used to answer 500 now answers 4xx with a clear message naming what
was wrong, and changes nothing (issue: NUL and lone surrogates from paths, query strings,
forms and JSON; scores such as "--5", "²", "①" or 5,000 digits; JSON nested 10,000 deep;
?limit= above 2^63; reviewer=abc; mathtext in a domain label; oversized and form-encoded
API bodies)."""

import json

import pytest
from django.urls import reverse

from review import services
from review.computations import computations_refresh
from review.models import Assignment, AuditEvent, Domain, Rating, Report, StudyReviewer
from tests.factories import PASSWORD


def fingerprint() -> tuple:
    return (
        sorted(Rating.objects.values_list("assignment_id", "domain_id", "score")),
        sorted(Assignment.objects.values_list("pk", "status", "comment", "active_ms")),
        sorted(StudyReviewer.objects.values_list("pk", "active")),
        Report.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def mine(open_study, reviewer) -> Assignment:
    assignment = Assignment.objects.filter(study=open_study, reviewer=reviewer).first()
    services.assignment_open(assignment=assignment)
    return assignment


@pytest.fixture
def as_reviewer(client, reviewer):
    client.login(username=reviewer.username, password=PASSWORD)
    return client


@pytest.fixture
def as_coordinator(client, coordinator):
    client.login(username=coordinator.username, password=PASSWORD)
    return client


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/r/%00/", "path"),
        ("/r/abc%00def/score/completeness/", "path"),
        ("/?q=%00", "query parameter 'q'"),
        ("/coordinate/reports/?q=a%00b", "query parameter 'q'"),
        ("/coordinate/reports/?%00=1", "query parameter"),
        ("/admin/review/report/?source__exact=%00", "query parameter 'source__exact'"),
    ],
)
def test_nul_in_path_or_query_400_names_the_field(as_coordinator, url, field):
    before = fingerprint()
    response = as_coordinator.get(url)
    assert response.status_code == 400
    assert response.content.decode() == (
        f"{field} contains a NUL character or an invalid (lone surrogate) character."
    )
    assert fingerprint() == before


def test_nul_in_api_path_400_json(as_coordinator):
    response = as_coordinator.get("/api/v1/reports/%00/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "path contains a NUL character or an invalid (lone surrogate) character.",
        "code": "invalid_characters",
        "field": "path",
    }


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_nul_in_form_field_400_nothing_stored(as_reviewer, mine, encoding):
    before = fingerprint()
    url = reverse("review:rate_comment", args=[mine.code])
    if encoding == "multipart":
        response = as_reviewer.post(url, {"comment": "bien\x00"})
    else:
        response = as_reviewer.post(
            url, "comment=bien%00", content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 400
    assert "form field 'comment' contains a NUL character" in response.content.decode()
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"scores": {"completeness\\u0000": 5}}', "JSON key"),
        ('{"scores": {}, "comment": "a\\u0000b"}', "JSON field 'comment'"),
        ('{"scores": {}, "comment": "a\\ud800b"}', "JSON field 'comment'"),
        ('{"scores": {"x\\udfff": 5}}', "JSON key"),
        ('{"scores": {"completeness": "\\u0000"}}', "JSON field 'scores.completeness'"),
    ],
)
def test_nul_or_lone_surrogate_in_json_400_names_the_field(as_reviewer, mine, body, field):
    before = fingerprint()
    response = as_reviewer.put(
        f"/api/v1/me/assignments/{mine.code}/ratings/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["code"] == "invalid_characters"
    assert fingerprint() == before


def test_json_nested_10000_deep_400(as_reviewer, mine):
    before = fingerprint()
    body = '{"scores": ' + "[" * 10_000 + "]" * 10_000 + "}"
    response = as_reviewer.put(
        f"/api/v1/me/assignments/{mine.code}/ratings/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"
    assert fingerprint() == before


def test_json_nested_within_the_limit_goes_to_the_view(as_reviewer, mine):
    body = {"scores": {"completeness": 7}, "comment": ""}
    response = as_reviewer.put(
        f"/api/v1/me/assignments/{mine.code}/ratings/", body, content_type="application/json"
    )
    assert response.status_code == 200


def test_oversized_api_body_413_json_without_reading_it(as_reviewer, mine):
    before = fingerprint()
    response = as_reviewer.generic(
        "PUT",
        f"/api/v1/me/assignments/{mine.code}/ratings/",
        b'{"scores": {}}',
        content_type="application/json",
        CONTENT_LENGTH=str(60 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert fingerprint() == before


def test_form_encoded_put_415_not_a_silent_200(as_reviewer, mine):
    before = fingerprint()
    response = as_reviewer.put(
        f"/api/v1/me/assignments/{mine.code}/ratings/",
        "scores=5",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response.json() == {
        "detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.'
    }
    assert fingerprint() == before


@pytest.mark.parametrize("score", ["--5", "²", "①", "٣", "5" * 5000, "+-3", "0x5", "1e1", " "])
def test_strange_score_strings_400_whole_number_nothing_stored(as_reviewer, mine, score):
    before = fingerprint()
    response = as_reviewer.post(
        reverse("review:rate_score", args=[mine.code, "completeness"]),
        {"score-completeness": score},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "The score must be a whole number." in response.content.decode()
    assert fingerprint() == before


@pytest.mark.parametrize("score", ["²", "①", "5" * 5000, "--5"])
def test_strange_score_strings_api_400(as_reviewer, mine, score):
    before = fingerprint()
    response = as_reviewer.put(
        f"/api/v1/me/assignments/{mine.code}/ratings/",
        {"scores": {"completeness": score}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert fingerprint() == before


@pytest.mark.parametrize("active_ms", ["²", "٣", "9" * 5000, "--1", "1.5", ""])
def test_strange_heartbeat_active_ms_400(as_reviewer, mine, active_ms):
    before = fingerprint()
    response = as_reviewer.post(
        reverse("review:rate_heartbeat", args=[mine.code]), {"active_ms": active_ms}
    )
    assert response.status_code == 400
    assert fingerprint() == before


@pytest.mark.parametrize(
    "query", ["limit=18446744073709551617", "offset=18446744073709551617", "limit=-1", "limit=x"]
)
def test_reports_api_limit_offset_out_of_range_400(as_coordinator, open_study, query):
    before = fingerprint()
    response = as_coordinator.get(f"/api/v1/reports/?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert response.json() == {name: ["Must be a whole number from 0 to 1000000000."]}
    assert fingerprint() == before


def test_reports_api_page_size_capped(as_coordinator, open_study, settings):
    response = as_coordinator.get("/api/v1/reports/?limit=1000000")
    assert response.status_code == 200
    assert response.json()["count"] == 8
    assert len(response.json()["results"]) == 8


@pytest.mark.parametrize("value", ["abc", "99999999999999999999999", "", "1\x00"])
def test_remove_reviewer_bad_id_4xx_nothing_changed(as_coordinator, open_study, value):
    before = fingerprint()
    response = as_coordinator.post(
        reverse("review:study_action", args=[open_study.pk, "remove-reviewer"]),
        {"reviewer": value},
    )
    assert response.status_code == 400
    assert fingerprint() == before


def test_mathtext_in_domain_label_results_page_renders(as_coordinator, open_study, reviewer):
    Domain.objects.filter(study=open_study, key="completeness").update(label="Complétude $x^$")
    for assignment in Assignment.objects.filter(study=open_study):
        for domain in open_study.domains.all():
            services.rating_save(assignment=assignment, domain_key=domain.key, score=6)
    # The page serves the stored figures (computed by the task after submissions).
    computations_refresh(study=open_study, kinds=["results"])
    response = as_coordinator.get(reverse("review:study_results", args=[open_study.pk]))
    assert response.status_code == 200
    assert "Complétude $x^$" in response.content.decode()


def test_json_body_valid_passes_boundary_unchanged(as_coordinator):
    response = as_coordinator.post(
        "/api/v1/studies/", json.dumps({"name": "Étude ü"}), content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["name"] == "Étude ü"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            {"text": "Compte rendu.", "metadata": {"nom": "A\x00B"}},
            "metadata.nom contains a NUL or invalid (lone surrogate) character",
        ),
        (
            {"text": "Compte rendu.", "service\x00": "onco"},
            "metadata key contains a NUL or invalid (lone surrogate) character",
        ),
        (
            {"text": "Compte\x00 rendu."},
            "text contains a NUL or invalid (lone surrogate) character",
        ),
        (
            {"text": "Compte rendu, évolution\x00 favorable."},
            "text contains a NUL or invalid (lone surrogate) character",
        ),
        ({"text": "Compte rendu.", "id": "x" * 300}, "the id is longer than 255 characters"),
        ({"text": "Compte rendu.", "poids": float("nan")}, "metadata.poids is nan"),
        ({"text": "Compte rendu.", "note": "\ud800"}, "metadata.note contains a NUL"),
    ],
)
def test_import_preview_reports_what_the_commit_could_not_store(line, problem):
    from review.imports.parsing import ImportLimits, parse_upload

    data = json.dumps(line).encode()
    result = parse_upload(data, file_name="cr.jsonl", limits=ImportLimits.from_settings())
    assert [(p.location, str(p.message)[: len(problem)]) for p in result.problems] == [
        ("line 1", problem)
    ]


def test_import_line_nested_10000_deep_is_a_problem_not_a_crash():
    from review.imports.parsing import ImportLimits, parse_upload

    data = b'{"text": "x", "m": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    result = parse_upload(data, file_name="cr.jsonl", limits=ImportLimits.from_settings())
    assert [(p.location, p.message) for p in result.problems] == [
        ("line 1", "JSON nested too deeply")
    ]


def test_mathtext_in_a_plot_label_is_drawn_as_typed():
    from review.stats import plots

    row = {
        "domain": "d",
        "mean_real": 5,
        "mean_real_ci_low": 4,
        "mean_real_ci_high": 6,
        "mean_synthetic": 5,
        "mean_synthetic_ci_low": 4,
        "mean_synthetic_ci_high": 6,
    }
    # "$x^$" is malformed mathtext: parsed, it raised ValueError and the page answered 500.
    svg = plots.means_plot([row], {"d": "Complétude $x^$"})
    assert "Complétude $x^$" in svg
