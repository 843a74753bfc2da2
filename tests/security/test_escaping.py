"""Report text carrying HTML/JS renders escaped on every page that shows it: the rating
page and its htmx partials, the coordinator's report viewer, the generation report viewer
(text between and inside its annotation marks), the import preview, the Django admin."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation import services as generation_services
from review import services
from review.models import Assignment, Report
from tests.factories import PASSWORD

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HOSTILE = f"Motif : bilan {SCRIPT} puis {IMG} fin."
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_IMG = "&lt;img src=x onerror=alert(1)&gt;"


def assert_escaped(html: str) -> None:
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert ESCAPED_SCRIPT in html
    assert ESCAPED_IMG in html


@pytest.fixture
def hostile_assignment(open_study, reviewer):
    assignment = (
        Assignment.objects.filter(study=open_study, reviewer=reviewer)
        .select_related("report")
        .order_by("position")
        .first()
    )
    Report.objects.filter(pk=assignment.report_id).update(text=HOSTILE)
    return assignment


def test_rating_page_escapes_report_text(reviewer_client, hostile_assignment):
    response = reviewer_client.get(reverse("review:rate", args=[hostile_assignment.code]))
    assert response.status_code == 200
    assert_escaped(response.content.decode())


def test_rating_htmx_partials_escape_comment_and_messages(reviewer_client, hostile_assignment):
    code = hostile_assignment.code
    saved = reviewer_client.post(
        reverse("review:rate_comment", args=[code]), {"comment": HOSTILE}, HTTP_HX_REQUEST="true"
    )
    assert saved.status_code == 200
    page = reviewer_client.get(reverse("review:rate", args=[code])).content.decode()
    assert_escaped(page)  # the text and the saved comment
    score = reviewer_client.post(
        reverse("review:rate_score", args=[code, "completeness"]),
        {"score-completeness": SCRIPT},
        HTTP_HX_REQUEST="true",
    )
    assert score.status_code == 400
    assert SCRIPT not in score.content.decode()


def test_coordinator_report_viewer_escapes_text(coordinator_client, hostile_assignment):
    response = coordinator_client.get(
        reverse("review:report_detail", args=[hostile_assignment.report.code])
    )
    assert response.status_code == 200
    assert_escaped(response.content.decode())


def test_generation_viewer_escapes_text_between_and_inside_marks(coordinator_client, coordinator):
    batch = generation_services.batch_launch(
        count=1, backend="offline", seed=3, created_by=coordinator, enqueue=False
    )
    generation_services.batch_run_in_process(batch=batch)
    item = batch.items.get()
    text = f"A {SCRIPT} B {IMG} C"
    start = text.index(IMG)
    annotations = [
        {"field": "smoking", "value": '"><b>v</b>', "start": 2, "end": 2 + len(SCRIPT)},
        {"field": "<i>f</i>", "value": "x", "start": start, "end": start + len(IMG)},
    ]
    Report.objects.filter(pk=item.report_id).update(text=text, annotations=annotations)
    response = coordinator_client.get(reverse("generation:item_report", args=[item.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert_escaped(html)
    assert (
        f'title="smoking: &quot;&gt;&lt;b&gt;v&lt;/b&gt; [2–{2 + len(SCRIPT)}]">'
        f"{ESCAPED_SCRIPT}</a>"
    ) in html
    assert 'data-field="&lt;i&gt;f&lt;/i&gt;"' in html
    assert "<b>v</b>" not in html and "<i>f</i>" not in html


def test_import_preview_escapes_text(coordinator_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = ("texte\n" + f'"{HOSTILE}"\n').encode()
    response = coordinator_client.post(
        reverse("review:report_import"),
        {"file": SimpleUploadedFile("x.csv", data), "language": "fr", "text_column": "texte"},
    )
    assert response.status_code == 200
    assert_escaped(response.content.decode())


def test_admin_change_page_escapes_text(client, hostile_assignment, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.login(username="root", password=PASSWORD)
    report = hostile_assignment.report
    response = client.get(reverse("admin:review_report_change", args=[report.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert SCRIPT not in html and "<img src=x" not in html
    assert ESCAPED_SCRIPT in html


def test_study_name_with_markup_escaped_on_reviewer_home(reviewer_client, hostile_assignment):
    services.study_update_settings(study=hostile_assignment.study, name=SCRIPT)
    response = reviewer_client.get(reverse("review:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert SCRIPT not in html
    assert ESCAPED_SCRIPT in html
