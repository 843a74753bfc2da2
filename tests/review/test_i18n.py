import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from review.models import Study
from tests.factories import PASSWORD

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def test_french_catalogue_is_complete_and_keeps_every_placeholder():
    po = polib.pofile(str(CATALOGUE))
    assert len(po) > 150
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    for entry in po:
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        if entry.msgid_plural:
            for form in entry.msgstr_plural.values():
                assert sorted(PLACEHOLDER.findall(form)) == expected, entry.msgid
        else:
            assert sorted(PLACEHOLDER.findall(entry.msgstr)) == expected, entry.msgid


def test_language_follows_accept_language_header(client, reviewer, open_study):
    client.login(username=reviewer.username, password=PASSWORD)
    french = client.get(reverse("review:home"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content
    english = client.get(reverse("review:home"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content
    assert '<html lang="fr">' in french.decode()
    assert "0 / 8 évalués" in french.decode()
    assert "Mes études" in french.decode()
    assert '<html lang="en">' in english.decode()
    assert "0 / 8 rated" in english.decode()


def test_language_switcher_sets_french_for_the_session(client, reviewer, open_study):
    client.login(username=reviewer.username, password=PASSWORD)
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="fr">' in page
    assert "Commencer" in page


def test_forbidden_page_is_translated(client, reviewer):
    client.login(username=reviewer.username, password=PASSWORD)
    response = client.get(reverse("review:study_list"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 403
    assert "Accès non autorisé" in response.content.decode()


@pytest.mark.parametrize(("language", "expected"), [("fr", "22/11/2026"), ("en", "11/22/2026")])
def test_dates_follow_the_locale(coordinator_client, coordinator, language, expected):
    study = Study.objects.create(name="Pilot", created_by=coordinator)
    Study.objects.filter(pk=study.pk).update(
        created_at=datetime(2026, 11, 22, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
    )
    page = coordinator_client.get(
        reverse("review:study_list"), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert f"<td>{expected}</td>" in page


def test_lazy_database_retry_message_is_translated_per_request():
    from review.views.reviewer import DATABASE_RETRY_MESSAGE

    with translation.override("fr"):
        assert str(DATABASE_RETRY_MESSAGE).startswith("La note n'a pas pu être enregistrée")
    with translation.override("en"):
        assert str(DATABASE_RETRY_MESSAGE).startswith("The score could not be saved")


def test_compiled_french_catalogue_matches_the_po_file():
    po = polib.pofile(str(CATALOGUE))
    mo = polib.mofile(str(CATALOGUE.with_suffix(".mo")))

    def pairs(entries):
        return {
            (entry.msgctxt, entry.msgid): entry.msgstr or tuple(sorted(entry.msgstr_plural.items()))
            for entry in entries
            if entry.msgid
        }

    assert pairs(mo) == pairs(po.translated_entries())
