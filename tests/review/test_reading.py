"""What coordinators read: annotated text with colours and a legend, definition lists
instead of printed dicts, audit filters, the bilingual domain editor, the API root."""

import datetime as dt

from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from review import services
from review.annotations import PALETTE_SIZE, annotated_text, field_colour
from review.models import AuditEvent
from tests.factories import SyntheticReportFactory

TEXT = "Patiente de 64 ans, adénocarcinome pulmonaire stade IV."


def _spans():
    return [
        {"field": "age", "value": "64", "start": 12, "end": 18},
        {"field": "histology", "value": "adénocarcinome", "start": 20, "end": 34},
        {"field": "primary_site", "value": "poumon", "start": 35, "end": 45},
        {"field": "stage", "value": "IV", "start": 46, "end": 54},
        # Overlaps the histology span: listed, not highlighted.
        {"field": "primary_site", "value": "poumon", "start": 30, "end": 40},
    ]


def test_annotated_text_one_colour_per_field_legend_and_offsets():
    result = annotated_text(TEXT, _spans())
    assert [(s.number, s.field, s.text, s.shown) for s in result.spans] == [
        (1, "age", "64 ans", True),
        (2, "histology", "adénocarcinome", True),
        (3, "primary_site", "nome pulmo", False),
        (4, "primary_site", "pulmonaire", True),
        (5, "stage", "stade IV", True),
    ]
    assert [(e.field, e.colour, e.count) for e in result.legend] == [
        ("age", 1, 1),
        ("primary_site", 9, 2),
        ("histology", 10, 1),
        ("stage", 11, 1),
    ]
    assert str(result.html) == (
        "Patiente de "
        '<a class="annotation ann-1" href="#ann-1" data-field="age" title="age: 64 [12–18]">'
        "64 ans</a>, "
        '<a class="annotation ann-10" href="#ann-2" data-field="histology" '
        'title="histology: adénocarcinome [20–34]">adénocarcinome</a> '
        '<a class="annotation ann-9" href="#ann-4" data-field="primary_site" '
        'title="primary_site: poumon [35–45]">pulmonaire</a> '
        '<a class="annotation ann-11" href="#ann-5" data-field="stage" '
        'title="stage: IV [46–54]">stade IV</a>.'
    )


def test_annotated_text_escapes_and_hashes_unknown_fields():
    result = annotated_text("<b>x</b>", [{"field": "x<y", "value": '"', "start": 3, "end": 4}])
    assert "&lt;b&gt;" in result.html
    assert 'data-field="x&lt;y"' in result.html
    assert 0 <= field_colour("x<y") < PALETTE_SIZE == 27


def test_report_page_shows_legend_table_and_definition_lists(coordinator_client):
    report = SyntheticReportFactory(
        text=TEXT,
        annotations=_spans()[:4],
        provenance={
            "kind": "generation",
            "batch": "7",
            "flags": [],
            "scenario": {"site": "lung", "admin": {"hospital": "CHU <Nord>"}},
        },
    )
    body = coordinator_client.get(reverse("review:report_detail", args=[report.code])).content
    html = body.decode()
    assert '<tr id="ann-2">' in html
    assert '<td class="num">20</td><td class="num">34</td>' in html
    assert '<span class="swatch ann-10" aria-hidden="true"></span>histology (1)' in html
    assert "<dt>batch</dt><dd>7</dd>" in html
    assert "<dt>hospital</dt><dd>CHU &lt;Nord&gt;</dd>" in html
    assert "{&#x27;" not in html and "{'" not in html  # no printed Python dict


def test_definitions_tag_renders_nested_values():
    rendered = Template("{% load definitions %}{% definitions value %}").render(
        Context({"value": {"flags": ["a", "b"], "passes": [{"tokens": 3}], "empty": {}}})
    )
    assert rendered == (
        '<dl class="definitions"><dt>flags</dt><dd>a, b</dd>'
        '<dt>passes</dt><dd><ol class="definitions-list"><li><dl class="definitions">'
        "<dt>tokens</dt><dd>3</dd></dl></li></ol></dd>"
        '<dt>empty</dt><dd><span class="muted">—</span></dd></dl>'
    )


def test_audit_filters_by_study_code_user_action_and_dates(
    coordinator_client, coordinator, open_study, reviewer
):
    other = services.study_create(name="Other", created_by=coordinator)
    services.audit_log(actor=reviewer, action="study.note", study=open_study, target="x")
    old = services.audit_log(actor=coordinator, action="study.note", study=open_study)
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))

    def listed(**params):
        response = coordinator_client.get(reverse("review:audit_list"), params)
        assert response.status_code == 200
        return [(e.action, e.actor_id) for e in response.context["page"]]

    assert listed(study=open_study.code.lower(), action="study.note") == [
        ("study.note", reviewer.pk),
        ("study.note", coordinator.pk),
    ]
    assert listed(study=other.code) == [("study.create", coordinator.pk)]
    assert listed(user=reviewer.username) == [("study.note", reviewer.pk)]
    today = timezone.localdate()
    assert listed(action="study.note", date_to=str(today - dt.timedelta(days=5))) == [
        ("study.note", coordinator.pk)
    ]
    assert listed(action="study.note", date_from=str(today)) == [("study.note", reviewer.pk)]
    bad = coordinator_client.get(
        reverse("review:audit_list"), {"date_from": "2026-02-02", "date_to": "2026-02-01"}
    )
    assert bad.status_code == 400
    assert "The end date is before the start date." in bad.content.decode()


def test_audit_details_are_a_definition_list(coordinator_client, open_study):
    body = coordinator_client.get(reverse("review:audit_list"), {"action": "study.open"})
    assert "<dt>assignments</dt><dd>16</dd>" in body.content.decode()


def test_domain_editor_saves_english_and_french(coordinator_client, coordinator):
    study = services.study_create(name="Bilingual", created_by=coordinator)
    page = coordinator_client.get(reverse("review:study_domains", args=[study.pk]))
    assert page.context["formset"].initial[0]["label_fr"] == "Qualité de la langue"
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "0",
        "form-0-key": "clarity",
        "form-0-label": "Clarity",
        "form-0-anchor_low": "Unclear",
        "form-0-anchor_high": "Crystal clear",
        "form-0-label_fr": "Clarté",
        "form-0-anchor_low_fr": "Confus",
        "form-0-anchor_high_fr": "",
    }
    assert (
        coordinator_client.post(reverse("review:study_domains", args=[study.pk]), data).status_code
        == 302
    )
    domain = study.domains.get()
    assert (domain.label, domain.translations) == (
        "Clarity",
        {"fr": {"label": "Clarté", "anchor_low": "Confus"}},
    )
    assert domain.localized("anchor_high", "fr") == "Crystal clear"
    french = coordinator_client.get(
        reverse("review:study_detail", args=[study.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Clarté" in french


def test_one_rater_is_singular(coordinator_client, coordinator, reviewers):
    study = services.study_create(name="Solo", created_by=coordinator, raters_per_report=1)
    body = coordinator_client.get(reverse("review:study_detail", args=[study.pk])).content
    assert "Each rated by 1 reviewer on a 1–10 scale" in body.decode()


def test_api_root_lists_the_entry_points(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response.json() == {
        "schema": "http://testserver/api/schema/",
        "docs": "http://testserver/api/docs/",
        "my_queue": "http://testserver/api/v1/me/queue/",
        "studies": "http://testserver/api/v1/studies/",
        "reports": "http://testserver/api/v1/reports/",
        "imports": "http://testserver/api/v1/imports/",
        "batches": "http://testserver/api/v1/batches/",
    }
