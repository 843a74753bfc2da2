"""Coordinators' report search: PostgreSQL full-text search in the report's language (what
the French configuration does and does not stem), codes and external ids, and the SQLite
fallback."""

import pytest
from django.db import connection
from django.urls import reverse

from review.selectors import report_list
from tests.factories import ReportFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search runs on PostgreSQL"
)


@pytest.fixture
def reports(db):
    return {
        "plural": ReportFactory(text="Bilan d'extension : métastases hépatiques multiples."),
        "singular": ReportFactory(text="Une métastase osseuse isolée au scanner."),
        "capital": ReportFactory(text="Métastases pulmonaires connues, stables."),
        "adjective": ReportFactory(text="Adénocarcinome métastatique du côlon."),
        "drug": ReportFactory(text="Traitement par pembrolizumab, 3e cycle, bien toléré."),
        "hospital": ReportFactory(text="Patiente hospitalisée pour altération de l'état général."),
        "english": ReportFactory(language="en", text="Known liver metastases; metastatic disease."),
    }


def _found(search):
    return {r.pk for r in report_list(search=search)}


def _keys(reports, *names):
    return {reports[name].pk for name in names}


def test_french_stemming_finds_singular_plural_and_case_but_not_the_adjective(reports):
    # The French snowball stemmer: métastases, métastase, Métastases → "métastas";
    # métastatique → "métastat": a different lexeme, so it is not found.
    assert _found("métastases") == _keys(reports, "plural", "singular", "capital")
    assert _found("métastatique") == _keys(reports, "adjective")
    # hospitalisation and hospitalisée share the stem "hospitalis".
    assert _found("hospitalisation") == _keys(reports, "hospital")


def test_accents_count_in_french_search(reports):
    # Without the accent no French report matches; the English one does, in English.
    assert _found("metastases") == _keys(reports, "english")


def test_english_reports_use_the_english_configuration(reports):
    # english stems "metastases" to "metastas", "metastasis" to "metastasi".
    assert _found("metastasis") == set()
    assert _found("liver") == _keys(reports, "english")
    assert _found("diseases") == _keys(reports, "english")


def test_sqlite_fallback_is_a_case_insensitive_substring(reports, monkeypatch):
    # The fallback branch, run here on PostgreSQL (whose UPPER also folds É; SQLite's LIKE
    # folds ASCII letters only): a substring, no stemming, so "métastatique" is not found.
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert _found("MÉTASTASE") == _keys(reports, "plural", "singular", "capital")
    assert _found("métastases") == _keys(reports, "plural", "capital")


def test_search_by_drug_phrase_and_exclusion(reports):
    assert _found("pembrolizumab") == _keys(reports, "drug")
    assert _found('"métastases hépatiques"') == _keys(reports, "plural")
    assert _found("métastases -pulmonaires") == _keys(reports, "plural", "singular")


def test_code_and_external_id_still_match(reports):
    report = reports["drug"]
    report.external_id = "CR-2023-001"
    report.save()
    assert _found(report.code[2:6]) >= {report.pk}
    assert _found("2023-001") == {report.pk}


def test_report_list_page_searches_text(coordinator_client, reports):
    body = coordinator_client.get(reverse("review:report_list") + "?q=pembrolizumab").content
    assert reports["drug"].code in body.decode()
    assert reports["plural"].code not in body.decode()
