"""The reviewer's audit page and its htmx endpoints, and what a reviewer never sees."""

import re

import pytest
from django.urls import reverse

from review.models import AddedAnnotation, AnnotationVerdict, Assignment
from tests.factories import PASSWORD
from tests.review.audit_study.conftest import TEXT, make_audit_study, span
from tests.review.test_query_budgets import REQUEST_OVERHEAD

HTMX = {"HTTP_HX_REQUEST": "true"}


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _marks(html: str) -> list[tuple[str, str]]:
    """(data-ann, marked text) of each mark in the rendered narrative."""
    text = html.split('id="audit-text">', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<mark class="ann ann-\d+" data-ann="([\d ]+)"[^>]*>([^<]*)</mark>', text)


def test_page_marks_every_annotation_where_it_is_with_a_legend(client, audit_assignment, reviewer):
    html = (
        _login(client, reviewer)
        .get(reverse("review:audit", args=[audit_assignment.code]))
        .content.decode()
    )
    assert _marks(html) == [
        ("0", "64 ans"),
        ("1", "cT3N1M0"),
        ("2", "FLOT"),
        ("3", "ECOG 1"),
        ("4", "Tabagisme actif"),
    ]
    # The treatment is the second FLOT (after surgery): the text before its mark holds the first.
    before = html.split('id="audit-text">', 1)[1].split('data-ann="2"', 1)[0]
    assert before.count("FLOT") == 1
    assert "puis <mark" in before[-40:]
    legend = html.split('aria-label="Legend"', 1)[1].split("</ul>", 1)[0]
    assert "age (1)" in legend and "smoking (1)" in legend
    # Distinct colour per field.
    colours = re.findall(r'<mark class="ann (ann-\d+)"', html)
    assert len(set(colours)) == 5
    assert Assignment.objects.get(pk=audit_assignment.pk).status == Assignment.Status.IN_PROGRESS


def test_page_shows_no_provenance_model_or_batch(client, audit_assignment, reviewer):
    html = (
        _login(client, reviewer)
        .get(reverse("review:audit", args=[audit_assignment.code]))
        .content.decode()
    )
    for leak in (
        "mistral",
        "fr-v1",
        "oncology-fr",
        "synthetic",
        "Synthetic",
        "provenance",
        "batch",
    ):
        assert leak not in html


def test_each_verdict_kind_saves_with_its_correction(client, audit_assignment, reviewer):
    _login(client, reviewer)
    code = audit_assignment.code

    def post(index, **data):
        return client.post(reverse("review:audit_verdict", args=[code, index]), data, **HTMX)

    assert post(0, verdict="correct").status_code == 200
    answer = post(1, verdict="wrong_value")
    assert 'class="fix-value-input"' in answer.content.decode()
    post(1, verdict="wrong_value", value="cT3N2M0")
    post(2, verdict="wrong_span")
    start, end = span(TEXT, "FLOT après chirurgie")
    answer = post(2, verdict="wrong_span", start=start, end=end, selected="FLOT après chirurgie")
    assert "FLOT après chirurgie" in answer.content.decode()
    post(3, verdict="not_in_text")
    saved = {
        v.annotation_index: (v.verdict, v.corrected_value, v.corrected_start, v.corrected_end)
        for v in AnnotationVerdict.objects.filter(assignment=audit_assignment)
    }
    assert saved == {
        0: ("correct", "", None, None),
        1: ("wrong_value", "cT3N2M0", None, None),
        2: ("wrong_span", "", start, end),
        3: ("not_in_text", "", None, None),
    }
    # Changing one's mind clears the stale correction.
    post(1, verdict="correct")
    assert (
        AnnotationVerdict.objects.get(
            assignment=audit_assignment, annotation_index=1
        ).corrected_value
        == ""
    )


def test_span_follows_the_selected_text_when_offsets_are_off(client, audit_assignment, reviewer):
    _login(client, reviewer)
    start, end = span(TEXT, "antalgiques")
    response = client.post(
        reverse("review:audit_add", args=[audit_assignment.code]),
        {
            "field": "discharge_treatment",
            "value": "",
            "start": start - 2,
            "end": end - 2,
            "selected": "antalgiques",
        },
        **HTMX,
    )
    assert response.status_code == 200
    added = AddedAnnotation.objects.get(assignment=audit_assignment)
    assert (added.field, added.value, added.start, added.end) == (
        "discharge_treatment",
        "antalgiques",
        start,
        end,
    )
    assert "antalgiques" in response.content.decode()
    bad = client.post(
        reverse("review:audit_add", args=[audit_assignment.code]),
        {"field": "not-a-field", "start": 0, "end": 3},
        **HTMX,
    )
    assert bad.status_code == 400
    client.post(
        reverse("review:audit_added_delete", args=[audit_assignment.code, added.pk]), **HTMX
    )
    assert not AddedAnnotation.objects.filter(assignment=audit_assignment).exists()


def test_submit_needs_a_verdict_on_every_annotation(client, audit_assignment, reviewer):
    _login(client, reviewer)
    code = audit_assignment.code
    response = client.post(reverse("review:audit_submit", args=[code]), follow=True)
    assert "5 left" in response.content.decode()
    for index in range(5):
        client.post(reverse("review:audit_verdict", args=[code, index]), {"verdict": "correct"})
    response = client.post(reverse("review:audit_submit", args=[code]))
    assert response.status_code == 302
    nxt = (
        Assignment.objects.filter(study=audit_assignment.study, reviewer=reviewer)
        .exclude(pk=audit_assignment.pk)
        .get()
    )
    assert response["Location"] == reverse("review:audit", args=[nxt.code])
    assert Assignment.objects.get(pk=audit_assignment.pk).status == Assignment.Status.SUBMITTED


def test_rate_url_of_an_audit_assignment_leads_to_the_audit_page(
    client, audit_assignment, reviewer
):
    response = _login(client, reviewer).get(reverse("review:rate", args=[audit_assignment.code]))
    assert response["Location"] == reverse("review:audit", args=[audit_assignment.code])


def test_a_reviewer_never_sees_another_reviewers_verdicts(
    client, audit_study, reviewer, other_reviewer
):
    mine = (
        Assignment.objects.filter(study=audit_study, reviewer=reviewer)
        .order_by("report_id")
        .first()
    )
    theirs = Assignment.objects.get(study=audit_study, reviewer=other_reviewer, report=mine.report)
    _login(client, reviewer)
    client.post(
        reverse("review:audit_verdict", args=[mine.code, 1]),
        {"verdict": "wrong_value", "value": "SECRET-FIX"},
    )
    client.post(
        reverse("review:audit_add", args=[mine.code]),
        {"field": "lab", "value": "SECRET-ADD", "start": 0, "end": 7, "selected": TEXT[:7]},
    )
    client.logout()
    _login(client, other_reviewer)
    html = client.get(reverse("review:audit", args=[theirs.code])).content.decode()
    assert "SECRET-FIX" not in html and "SECRET-ADD" not in html
    assert 'aria-pressed="true"' not in html
    # The other reviewer's own endpoints on my assignment: 404, nothing changed.
    assert client.get(reverse("review:audit", args=[mine.code])).status_code == 404
    assert (
        client.post(
            reverse("review:audit_verdict", args=[mine.code, 1]), {"verdict": "correct"}
        ).status_code
        == 404
    )
    assert (
        AnnotationVerdict.objects.get(assignment=mine, annotation_index=1).verdict == "wrong_value"
    )


def test_a_coordinator_reads_results_and_adjudication_pages(client, audit_study, coordinator):
    _login(client, coordinator)
    assert client.get(reverse("review:audit_results", args=[audit_study.pk])).status_code == 200
    assert (
        client.get(reverse("review:audit_adjudication", args=[audit_study.pk])).status_code == 200
    )
    assert client.get(reverse("review:study_results", args=[audit_study.pk]))[
        "Location"
    ] == reverse("review:audit_results", args=[audit_study.pk])


@pytest.mark.parametrize("size", [1, 30])
def test_audit_page_queries_fixed(client, coordinator, reviewer, django_assert_num_queries, size):
    study = make_audit_study(coordinator=coordinator, reviewers=[reviewer], n_reports=size, k=1)
    last = Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position").last()
    _login(client, reviewer)
    # page: the assignment with study and report (seat checked in it), its verdicts, its
    # additions, the queue; then assignment_open: the seated assignment, one UPDATE.
    with django_assert_num_queries(REQUEST_OVERHEAD + 6):
        assert client.get(reverse("review:audit", args=[last.code])).status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_verdict_save_queries_fixed(client, coordinator, reviewer, django_assert_num_queries, size):
    study = make_audit_study(coordinator=coordinator, reviewers=[reviewer], n_reports=size, k=1)
    last = Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position").last()
    _login(client, reviewer)
    url = reverse("review:audit_verdict", args=[last.code, 0])
    # the seated assignment; savepoint, locked row, current verdict, insert, release; the
    # page read again for the partial (4).
    with django_assert_num_queries(REQUEST_OVERHEAD + 10):
        assert client.post(url, {"verdict": "correct"}, **HTMX).status_code == 200


def test_an_audit_reviewer_cannot_reach_the_reports_provenance(client, audit_assignment, reviewer):
    _login(client, reviewer)
    code = audit_assignment.report.code
    assert client.get(reverse("review:report_detail", args=[code])).status_code == 403
    assert client.get(f"/api/v1/reports/{code}/").status_code == 403
    assert (
        client.get(reverse("review:audit_results", args=[audit_assignment.study_id])).status_code
        == 403
    )
    assert (
        client.get(
            reverse("review:audit_verified_jsonl", args=[audit_assignment.study_id])
        ).status_code
        == 403
    )


def test_coordinator_creates_an_audit_study_with_the_form(client, coordinator, reviewers):
    from review.models import Report, Study
    from tests.factories import SyntheticReportFactory

    SyntheticReportFactory.create_batch(2, annotations=[])
    _login(client, coordinator)
    page = client.get(reverse("review:study_create")).content.decode()
    assert 'value="annotation_audit"' in page
    response = client.post(
        reverse("review:study_create"),
        {
            "name": "Audit via form",
            "kind": "annotation_audit",
            "raters_per_report": 2,
            "scale_min": 1,
            "scale_max": 10,
            "noninferiority_margin": 1.0,
            "reviewers": [r.pk for r in reviewers],
            "synthetic_batches": ["7"],
        },
    )
    study = Study.objects.get(name="Audit via form")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert study.kind == Study.Kind.ANNOTATION_AUDIT
    assert not study.domains.exists()
    assert Report.objects.filter(memberships__study=study).exclude(source="synthetic").count() == 0
    detail = client.get(reverse("review:study_detail", args=[study.pk])).content.decode()
    assert reverse("review:audit_results", args=[study.pk]) in detail


@pytest.mark.parametrize("size", [1, 30])
def test_audit_results_page_queries_fixed(
    client, coordinator, reviewer, django_assert_num_queries, size
):
    study = make_audit_study(coordinator=coordinator, reviewers=[reviewer], n_reports=size, k=1)
    for assignment in Assignment.objects.filter(study=study):
        for index in range(5):
            AnnotationVerdict.objects.create(
                assignment=assignment, annotation_index=index, verdict="correct"
            )
    Assignment.objects.filter(study=study).update(
        status=Assignment.Status.SUBMITTED, submitted_at="2026-01-01T00:00Z"
    )
    _login(client, coordinator)
    # the study; audit_data: panel, reports, submitted assignments, verdicts, additions,
    # decisions, decisions on additions (7); progress: counts, verdicts, additions (3).
    with django_assert_num_queries(REQUEST_OVERHEAD + 11):
        assert client.get(reverse("review:audit_results", args=[study.pk])).status_code == 200


def _added_marks(html: str) -> list[tuple[str, str, str, str, str]]:
    """(class, data-added, data-start, data-end, text) of each mark of an added span."""
    return re.findall(
        r'<mark class="([^"]*ann-added)"(?: data-ann="[\d ]+")? data-added="([\d ]+)" '
        r'data-field="[^"]*" data-start="(\d+)" data-end="(\d+)">([^<]*)</mark>',
        html,
    )


def test_added_spans_are_marked_in_the_reviewers_own_narrative_only(
    client, audit_study, reviewer, other_reviewer
):
    from review.annotation_fields import field_colour

    mine = (
        Assignment.objects.filter(study=audit_study, reviewer=reviewer)
        .order_by("report_id")
        .first()
    )
    theirs = Assignment.objects.get(study=audit_study, reviewer=other_reviewer, report=mine.report)
    _login(client, reviewer)
    missed = span(TEXT, "antalgiques")
    answer = client.post(
        reverse("review:audit_add", args=[mine.code]),
        {"field": "discharge_treatment", "value": "", "start": missed[0], "end": missed[1]},
        **HTMX,
    ).content.decode()
    first = AddedAnnotation.objects.get(assignment=mine)
    colour = field_colour("discharge_treatment")
    # The htmx answer marks the narrative again, out of band, with the new span.
    oob = answer.split('<div id="audit-text" hx-swap-oob="innerHTML">', 1)[1].split("</div>")[0]
    assert _added_marks(oob) == [
        (f"ann-{colour} ann-added", str(first.pk), str(missed[0]), str(missed[1]), "antalgiques")
    ]
    # An added span over a model annotation: the piece they share carries both.
    wider = span(TEXT, "gastrique cT3N1M0")
    client.post(
        reverse("review:audit_add", args=[mine.code]),
        {"field": "histology", "value": "adk", "start": wider[0], "end": wider[1]},
    )
    second = AddedAnnotation.objects.get(assignment=mine, field="histology")
    html = client.get(reverse("review:audit", args=[mine.code])).content.decode()
    text = html.split('id="audit-text">', 1)[1].split("</div>", 1)[0]
    tnm = span(TEXT, "cT3N1M0")
    assert _added_marks(text) == [
        (
            f"ann-{field_colour('histology')} ann-added",
            str(second.pk),
            str(wider[0]),
            str(tnm[0]),
            "gastrique ",
        ),
        (f"ann ann-{field_colour('tnm')} ann-added", str(second.pk), *map(str, tnm), "cT3N1M0"),
        (f"ann-{colour} ann-added", str(first.pk), *map(str, missed), "antalgiques"),
    ]
    assert f'data-ann="1" data-added="{second.pk}"' in text
    # The model's five annotations stay marked as before.
    assert [m[0] for m in re.findall(r'<mark class="ann [^"]*" data-ann="([\d ]+)"', text)] == [
        "0",
        "1",
        "2",
        "3",
        "4",
    ]
    # Another reviewer of the same report sees none of my additions in the text.
    client.logout()
    _login(client, other_reviewer)
    html = client.get(reverse("review:audit", args=[theirs.code])).content.decode()
    assert "ann-added" not in html.split('id="audit-text">', 1)[1].split("</div>", 1)[0]
    # Removing an addition takes its mark away.
    client.logout()
    _login(client, reviewer)
    answer = client.post(
        reverse("review:audit_added_delete", args=[mine.code, first.pk]), **HTMX
    ).content.decode()
    oob = answer.split('<div id="audit-text" hx-swap-oob="innerHTML">', 1)[1].split("</div>")[0]
    assert [m[1] for m in _added_marks(oob)] == [str(second.pk), str(second.pk)]
