"""Reports → Import pages: preview, commit, limits, and no access for reviewers."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from review.models import Report, ReportImport
from review.views.imports import SESSION_KEY

JSONL = "\n".join(
    json.dumps({"text": text, "id": f"N{i}"})
    for i, text in enumerate(
        ["Mme [NOM] hospitalisée à [HOPITAL].", "Second rapport, sans marque.", "Troisième."]
    )
).encode()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, data=JSONL, name="lot.jsonl", headers=None, **fields):
    payload = {"file": SimpleUploadedFile(name, data), "language": "fr", **fields}
    return client.post(reverse("review:report_import"), payload, headers=headers or {})


def test_import_page_shows_form_and_past_imports(coordinator_client):
    response = coordinator_client.get(reverse("review:report_import"))
    assert response.status_code == 200
    assert 'hx-encoding="multipart/form-data"' in response.content.decode()
    assert 'id="upload-progress"' in response.content.decode()


def test_preview_then_commit_imports_everything(coordinator_client, coordinator, media_root):
    response = upload(coordinator_client)
    assert response.status_code == 200
    page = response.content.decode()
    assert "3 reports in lot.jsonl (jsonl, encoding utf-8)" in page
    assert "[NOM]" not in page.split('id="import-result"')[1]
    assert Report.objects.count() == 0
    token = response.context["token"]
    stored = media_root / "imports" / f"{token}.upload"
    assert stored.read_bytes() == JSONL

    committed = coordinator_client.post(reverse("review:report_import_commit"), {"token": token})
    assert committed.status_code == 302
    assert Report.objects.count() == 3
    report_import = ReportImport.objects.get()
    assert (report_import.file_name, report_import.report_count, report_import.created_by) == (
        "lot.jsonl",
        3,
        coordinator,
    )
    assert not stored.exists()
    # The same token cannot commit twice.
    again = coordinator_client.post(reverse("review:report_import_commit"), {"token": token})
    assert again.status_code == 400
    assert "This preview has expired" in again.content.decode()
    assert Report.objects.count() == 3


def test_preview_lists_errors_and_stores_nothing(coordinator_client, media_root):
    bad = b'{"text": ""}\n{"text": "ok"}\nnot json\n'
    response = upload(coordinator_client, data=bad, headers={"HX-Request": "true"})
    assert response.status_code == 400
    page = response.content.decode()
    assert page.startswith('\n<div id="import-result">')
    assert "line 3: not valid JSON (Expecting value)" in page
    assert "line 1: empty text" in page
    assert not (media_root / "imports").exists() or not list((media_root / "imports").iterdir())
    assert Report.objects.count() == 0


def test_preview_problems_are_translated_for_french_coordinators(coordinator_client):
    coordinator_client.cookies["django_language"] = "fr"
    bad = b'{"text": ""}\n{"text": "ok", "language": "de"}\n'
    response = upload(coordinator_client, data=bad, headers={"HX-Request": "true"})
    assert response.status_code == 400
    page = response.content.decode()
    assert '<li class="error">ligne 1\u00a0: texte vide</li>' in page
    assert "ligne 2\u00a0: la langue doit être l&#x27;une de\u00a0: fr, en" in page
    assert Report.objects.count() == 0


def test_commit_refuses_token_of_another_session_or_forged(
    coordinator_client, client, coordinator, media_root
):
    response = upload(coordinator_client)
    token = response.context["token"]
    # A forged path or unknown token is never read.
    for forged in ("../../etc/passwd", "0" * 32, token.upper()):
        refused = coordinator_client.post(reverse("review:report_import_commit"), {"token": forged})
        assert refused.status_code == 400
    session = coordinator_client.session
    session[SESSION_KEY] = {}
    session.save()
    refused = coordinator_client.post(reverse("review:report_import_commit"), {"token": token})
    assert refused.status_code == 400
    assert Report.objects.count() == 0


def test_commit_refuses_tampered_stored_file(coordinator_client, media_root):
    response = upload(coordinator_client)
    token = response.context["token"]
    Path(media_root / "imports" / f"{token}.upload").write_bytes(b'{"text": "autre"}\n')
    refused = coordinator_client.post(reverse("review:report_import_commit"), {"token": token})
    assert refused.status_code == 400
    assert "The stored upload changed" in refused.content.decode()
    assert Report.objects.count() == 0


def test_upload_over_limit_refused_before_reading(coordinator_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 2048
    response = upload(coordinator_client, data=b"x" * 200_000)
    assert response.status_code == 413
    assert "over the upload limit of 0 MB (IMPORT_MAX_UPLOAD_BYTES)" in response.content.decode()
    assert Report.objects.count() == 0


def test_csv_with_chosen_column_and_encoding(coordinator_client):
    data = "n°;compte rendu\n1;Fièvre à 39 °C, l\u2019œdème régresse.\n".encode("cp1252")
    response = upload(
        coordinator_client, data=data, name="e.csv", text_column="compte rendu", encoding="cp1252"
    )
    assert response.status_code == 200
    assert "Fièvre à 39 °C, l\u2019œdème régresse." in response.content.decode()


@pytest.mark.parametrize("name", ["review:report_import", "review:report_import_commit"])
def test_reviewer_gets_403_on_import_pages(reviewer_client, name):
    assert reviewer_client.get(reverse(name)).status_code in (403, 405)
    response = reviewer_client.post(reverse(name), {"token": "0" * 32})
    assert response.status_code == 403
    assert Report.objects.count() == 0


def test_reviewer_upload_refused(reviewer_client):
    response = upload(reviewer_client)
    assert response.status_code == 403
    assert Report.objects.count() == 0


# --- the commit stores the preview's prepared reports (issue 21) --------------------------


def _stored_rows():
    rows = Report.objects.values_list("text", "original_text", "external_id", "provenance")
    # Everything but the import's own id, which differs from one import to the next.
    return sorted(
        (
            (text, original, external_id, {k: v for k, v in provenance.items() if k != "import_id"})
            for text, original, external_id, provenance in rows
        ),
        key=lambda row: row[2],
    )


def test_commit_stores_the_preview_without_preparing_again(
    coordinator_client, media_root, monkeypatch
):
    response = upload(coordinator_client)
    token = response.context["token"]
    prepared = media_root / "imports" / f"{token}.prepared"
    assert json.loads(prepared.read_bytes())["file_name"] == "lot.jsonl"

    def not_again(**kwargs):
        raise AssertionError("the upload was prepared a second time")

    monkeypatch.setattr("review.imports.services._prepare", not_again)
    committed = coordinator_client.post(reverse("review:report_import_commit"), {"token": token})
    assert committed.status_code == 302
    assert Report.objects.count() == 3
    assert not prepared.exists()


def test_commit_of_the_stored_preview_equals_a_fresh_preparation(coordinator_client, media_root):
    token = upload(coordinator_client).context["token"]
    coordinator_client.post(reverse("review:report_import_commit"), {"token": token})
    from_preview = _stored_rows()
    Report.objects.all().delete()
    token = upload(coordinator_client).context["token"]
    (media_root / "imports" / f"{token}.prepared").unlink()  # the commit prepares itself
    coordinator_client.post(reverse("review:report_import_commit"), {"token": token})
    assert _stored_rows() == from_preview
    assert len(from_preview) == 3
    assert "[NOM]" not in from_preview[0][0]


def test_a_tampered_stored_preview_is_not_used(coordinator_client, media_root):
    token = upload(coordinator_client).context["token"]
    prepared = media_root / "imports" / f"{token}.prepared"
    forged = json.loads(prepared.read_bytes())
    forged["reports"][0]["text"] = "Texte forgé."
    prepared.write_bytes(json.dumps(forged).encode())
    committed = coordinator_client.post(reverse("review:report_import_commit"), {"token": token})
    assert committed.status_code == 302
    assert not Report.objects.filter(text="Texte forgé.").exists()
    assert Report.objects.count() == 3


def test_a_duplicate_stored_after_the_preview_is_still_refused(coordinator_client):
    first = upload(coordinator_client).context["token"]
    second = upload(coordinator_client).context["token"]
    assert (
        coordinator_client.post(
            reverse("review:report_import_commit"), {"token": first}
        ).status_code
        == 302
    )
    refused = coordinator_client.post(reverse("review:report_import_commit"), {"token": second})
    assert refused.status_code == 400
    assert "duplicate of existing report" in refused.content.decode()
    assert Report.objects.count() == 3
