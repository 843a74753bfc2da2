import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from generation.models import Batch, BatchItem, SamplingFrame
from tests.factories import PASSWORD
from tests.generation.conftest import process_all


def test_generation_pages_forbidden_to_reviewers(reviewer_client, launch):
    batch = launch(count=1)
    for url in (
        reverse("generation:batch_list"),
        reverse("generation:batch_launch"),
        reverse("generation:batch_detail", args=[batch.pk]),
        reverse("generation:item_report", args=[batch.items.get().pk]),
        reverse("generation:frame_list"),
    ):
        assert reviewer_client.get(url).status_code == 403


def test_launch_form_and_frames_page_get_write_nothing(coordinator_client):
    # The default frame and prompts come from a data migration, not from a page view.
    for name in ("generation:batch_launch", "generation:frame_list"):
        with CaptureQueriesContext(connection) as queries:
            assert coordinator_client.get(reverse(name)).status_code == 200
        writes = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].split(" ", 1)[0] in {"INSERT", "UPDATE", "DELETE"}
            and "django_session" not in q["sql"]
        ]
        assert writes == []


def test_batch_launch_form_shows_estimate(coordinator_client):
    response = coordinator_client.get(reverse("generation:batch_launch"))
    assert response.status_code == 200
    assert b'hx-get="/generation/batches/new/?part=estimate"' in response.content
    frame = SamplingFrame.objects.get()
    estimate = coordinator_client.get(
        reverse("generation:batch_launch"),
        {
            "part": "estimate",
            "count": 100,
            "frame": frame.pk,
            "language": "fr",
            "backend": "mistral",
            "model": "mistral-large-latest",
            "temperature": 0.7,
            "critique": "on",
            "max_revisions": 1,
        },
        headers={"HX-Request": "true"},
    )
    assert estimate.status_code == 200
    # The default prompt is two-pass: 100 x writer (1800 in, 1300 out) + extraction (1700,
    # 900) + judge (2400, 300) at 2 EUR in / 6 EUR out per million tokens = 1.14 + 0.88 +
    # 0.66 EUR; one revision round (1.12 + 0.88 + 0.66) at most.
    body = estimate.content.decode()
    assert "Estimated cost: about €2.68 (590000 input + 250000 output tokens" in body
    assert "At most €5.34 if every report is revised" in body
    assert (
        "writer (mistral-large-latest): €1.14 · extraction (mistral-large-latest): €0.88 · "
        "judge (mistral-large-latest): €0.66" in body
    )


def test_batch_launch_post_creates_batch(
    coordinator_client, coordinator, django_capture_on_commit_callbacks
):
    coordinator_client.get(reverse("generation:batch_launch"))
    frame = SamplingFrame.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        response = coordinator_client.post(
            reverse("generation:batch_launch"),
            {
                "count": 3,
                "frame": frame.pk,
                "language": "en",
                "backend": "offline",
                "temperature": 0.5,
                "seed": 12,
            },
        )
    batch = Batch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("generation:batch_detail", args=[batch.pk])
    assert (batch.count, batch.language, batch.seed, batch.created_by) == (3, "en", 12, coordinator)


@pytest.mark.parametrize("count", [0, -1, 5001])
def test_batch_launch_post_bad_count_creates_nothing(coordinator_client, count):
    coordinator_client.get(reverse("generation:batch_launch"))
    frame = SamplingFrame.objects.get()
    response = coordinator_client.post(
        reverse("generation:batch_launch"),
        {"count": count, "frame": frame.pk, "language": "fr", "backend": "offline"},
    )
    assert response.status_code == 400
    assert Batch.objects.count() == 0


def test_batch_launch_post_mistral_without_key_refused(coordinator_client, settings):
    settings.MISTRAL_API_KEY = ""
    settings.MISTRAL_SERVER_URL = ""
    coordinator_client.get(reverse("generation:batch_launch"))
    frame = SamplingFrame.objects.get()
    response = coordinator_client.post(
        reverse("generation:batch_launch"),
        {
            "count": 5,
            "frame": frame.pk,
            "language": "fr",
            "backend": "mistral",
            "model": "mistral-large-latest",
        },
    )
    assert response.status_code == 400
    assert "MISTRAL_API_KEY" in response.content.decode()
    assert Batch.objects.count() == 0


def test_batch_progress_partial_polls_then_stops_with_286(coordinator_client, launch):
    batch = launch(count=2)
    url = reverse("generation:batch_detail", args=[batch.pk]) + "?part=progress"
    running = coordinator_client.get(url, headers={"HX-Request": "true"})
    assert running.status_code == 200
    assert 'hx-trigger="every 1500ms"' in running.content.decode()
    process_all(batch)
    done = coordinator_client.get(url, headers={"HX-Request": "true"})
    assert done.status_code == 286
    body = done.content.decode()
    assert 'data-counter="done">2<' in body and "hx-trigger" not in body


@pytest.mark.parametrize("count", [1, 50])
def test_batch_progress_partial_query_count_constant(
    coordinator_client, launch, django_assert_num_queries, count
):
    batch = launch(count=count)
    url = reverse("generation:batch_detail", args=[batch.pk]) + "?part=progress"
    coordinator_client.get(url, headers={"HX-Request": "true"})
    # session, user with their roles (one query), batch, one aggregate over items
    with django_assert_num_queries(4):
        response = coordinator_client.get(url, headers={"HX-Request": "true"})
    assert f'data-counter="pending">{count}<' in response.content.decode()


def test_batch_detail_shows_failures_and_actions(coordinator_client, launch):
    batch = launch(count=2)
    process_all(batch)
    BatchItem.objects.filter(batch=batch, index=1).update(
        status="failed",
        error="gave up after 5 attempts; last error: Mistral API answered 503",
        report=None,
    )
    body = coordinator_client.get(
        reverse("generation:batch_detail", args=[batch.pk])
    ).content.decode()
    assert "Mistral API answered 503" in body
    assert "Retry failed items" in body
    assert ">oncology-fr@2</a>" in body


def test_batch_cancel_and_retry_actions(
    coordinator_client, launch, django_capture_on_commit_callbacks
):
    batch = launch(count=3)
    response = coordinator_client.post(
        reverse("generation:batch_action", args=[batch.pk, "cancel"])
    )
    assert response.status_code == 302
    assert set(batch.items.values_list("status", flat=True)) == {"skipped"}
    BatchItem.objects.filter(batch=batch, index=0).update(status="failed")
    with django_capture_on_commit_callbacks(execute=False):
        coordinator_client.post(reverse("generation:batch_action", args=[batch.pk, "retry-failed"]))
    assert batch.items.get(index=0).status == "pending"


def test_item_report_highlights_annotations(coordinator_client, launch):
    batch = launch(count=1)
    process_all(batch)
    item = batch.items.get()
    body = coordinator_client.get(
        reverse("generation:item_report", args=[item.pk])
    ).content.decode()
    spans = item.report.annotations
    # One link per span that does not overlap an earlier one; every span has a table row.
    ends = [s["end"] for s in spans]
    shown = sum(1 for i, s in enumerate(spans) if all(s["start"] >= e for e in ends[:i]))
    assert body.count('<a class="annotation ann-') == shown
    assert body.count('<tr id="ann-') == len(spans)
    stage = item.scenario["stage"]
    span = next(s for s in spans if s["field"] == "stage")
    assert (
        f'data-field="stage" title="stage: {stage} [{span["start"]}–{span["end"]}]">'
        f"stade {stage}</a>"
    ) in body
    assert "<dt>prompt_version</dt><dd>compte-rendu-fr-v2</dd>" in body


def test_frame_upload_invalid_shows_errors_and_creates_nothing(coordinator_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generation.frame_format import default_frame_data

    data = default_frame_data()
    data["name"] = "my-frame"
    data["sites"]["breast"]["sex"]["p"] = {"F": 0.7, "M": 0.1}
    upload = SimpleUploadedFile(
        "frame.json", json.dumps(data).encode(), content_type="application/json"
    )
    response = coordinator_client.post(reverse("generation:frame_list"), {"file": upload})
    assert response.status_code == 400
    assert (
        "sites.breast.sex.p: Value error, probabilities sum to 0.8000, not 1"
        in response.content.decode()
    )
    assert not SamplingFrame.objects.filter(name="my-frame").exists()
    data["sites"]["breast"]["sex"]["p"] = {"F": 0.99, "M": 0.01}
    upload = SimpleUploadedFile(
        "frame.json", json.dumps(data).encode(), content_type="application/json"
    )
    assert (
        coordinator_client.post(reverse("generation:frame_list"), {"file": upload}).status_code
        == 302
    )
    assert SamplingFrame.objects.get(name="my-frame").version == 3


# --- API ---------------------------------------------------------------------------------


@pytest.fixture
def api(client, coordinator):
    client.login(username=coordinator.username, password=PASSWORD)
    return client


def test_api_batch_lifecycle(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(
            "/api/v1/batches/",
            {"count": 2, "backend": "offline", "seed": 4, "language": "en"},
            content_type="application/json",
        )
    assert response.status_code == 201
    data = response.json()
    assert (data["count"], data["backend"], data["prompt"], data["status"]) == (
        2,
        "offline",
        "discharge-report-en-v2",
        "running",
    )
    assert data["progress"]["pending"] == 2
    assert data["guideline"] == "oncology-fr@2"
    batch = Batch.objects.get(pk=data["id"])
    process_all(batch)
    detail = api.get(f"/api/v1/batches/{batch.pk}/").json()
    assert (detail["status"], detail["progress"]["done"], detail["progress"]["finished"]) == (
        "finished",
        2,
        True,
    )
    conflict = api.post(f"/api/v1/batches/{batch.pk}/cancel/")
    assert conflict.status_code == 409 and conflict.json()["code"] == "batch_not_running"
    assert api.post(f"/api/v1/batches/{batch.pk}/retry-failed/").json()["code"] == "no_failed_items"


def test_api_cancel(api, launch):
    batch = launch(count=2)
    data = api.post(f"/api/v1/batches/{batch.pk}/cancel/").json()
    assert (data["status"], data["progress"]["skipped"]) == ("cancelled", 2)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"count": 2, "frame": "nope"}, "unknown_frame"),
        ({"count": 2, "model": "nope", "backend": "mistral"}, "unknown_model"),
        ({"count": 2, "backend": "mistral"}, "backend_unavailable"),
    ],
)
def test_api_bad_input_creates_nothing(api, settings, payload, code):
    settings.MISTRAL_API_KEY = ""
    settings.MISTRAL_SERVER_URL = ""
    response = api.post("/api/v1/batches/", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Batch.objects.count() == 0


@pytest.mark.parametrize("count", [0, -3])
def test_api_count_below_one_400_field_error(api, count):
    response = api.post("/api/v1/batches/", {"count": count}, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"count": ["Ensure this value is greater than or equal to 1."]}
    assert Batch.objects.count() == 0


def test_api_forbidden_to_reviewers(client, reviewer, launch):
    batch = launch(count=1)
    client.login(username=reviewer.username, password=PASSWORD)
    assert (
        client.post("/api/v1/batches/", {"count": 1}, content_type="application/json").status_code
        == 403
    )
    assert client.get(f"/api/v1/batches/{batch.pk}/").status_code == 403
    assert Batch.objects.count() == 1


def test_api_schema_documents_batch_endpoints(api):
    schema = api.get("/api/schema/?format=json").json()
    assert "/api/v1/batches/" in schema["paths"]
    assert "/api/v1/batches/{id}/retry-failed/" in schema["paths"]


def test_batch_page_shows_scenario_labels_not_keys(coordinator_client, launch):
    from django.utils.html import escape

    from generation import guidelines
    from generation.vocabulary import REASON_LABELS

    batch = launch(count=1)
    scenario = batch.items.get().scenario
    body = coordinator_client.get(
        reverse("generation:batch_detail", args=[batch.pk])
    ).content.decode()
    site, histology = scenario["site"], scenario["histology"]
    expected = (
        f"<td>{escape(guidelines.site_label(site, 'en'))} · "
        f"{escape(guidelines.histology_label(site, histology, 'en'))} · "
        f"stage {scenario['stage']} · {escape(REASON_LABELS[scenario['reason']]['en'])}</td>"
    )
    assert expected in body
    assert f"· {scenario['reason']}</td>" not in body


def test_launch_form_names_the_batch_and_composing_lists_it_by_name(
    coordinator_client, django_capture_on_commit_callbacks
):
    from generation import services
    from review.composition import synthetic_batch_choices

    coordinator_client.get(reverse("generation:batch_launch"))
    with django_capture_on_commit_callbacks(execute=False):
        response = coordinator_client.post(
            reverse("generation:batch_launch"),
            {
                "name": "  Lung pilot, offline ",
                "count": 2,
                "frame": SamplingFrame.objects.get().pk,
                "language": "fr",
                "backend": "offline",
                "seed": 4,
            },
        )
    batch = Batch.objects.get()
    assert response.status_code == 302, response.content.decode()
    assert batch.name == "Lung pilot, offline"
    services.batch_run_in_process(batch=batch)
    assert [(c.label, c.count) for c in synthetic_batch_choices()] == [
        (f"Lung pilot, offline (#{batch.pk})", 2)
    ]


def test_migration_fills_missing_batch_names_in_provenance(launch):
    import importlib

    from django.apps import apps

    from review.models import Report
    from tests.factories import SyntheticReportFactory

    batch = launch(count=1, name="Older batch")
    old = SyntheticReportFactory(provenance={"kind": "generation", "batch": str(batch.pk)})
    named = SyntheticReportFactory(
        provenance={"kind": "generation", "batch": str(batch.pk), "batch_name": "Kept"}
    )
    importlib.import_module("generation.migrations.0005_report_batch_names").forward(apps, None)
    assert Report.objects.get(pk=old.pk).provenance["batch_name"] == "Older batch"
    assert Report.objects.get(pk=named.pk).provenance["batch_name"] == "Kept"
