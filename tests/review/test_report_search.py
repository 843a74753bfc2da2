"""Coordinators' report search: PostgreSQL full-text search in the report's language (what
the French configuration does and does not stem), accent-insensitive through `unaccent` in
both directions, codes and external ids. The demo's SQLite fallback runs on SQLite itself:
tests/test_sqlite_demo_database.py."""

import pytest
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.urls import reverse

from review.models import Report
from review.selectors import SEARCH_CONFIGS, fulltext_matching, report_list
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
        "accented_drug": ReportFactory(text="C1 de pémétrexed et carboplatine le 12/03."),
        "unaccented_drug": ReportFactory(text="Reprise du pemetrexed en maintenance."),
        "unaccented_word": ReportFactory(text="Patiente hospitalisee en urgence, oedeme."),
    }


def _found(search):
    return {r.pk for r in report_list(search=search)}


def _keys(reports, *names):
    return {reports[name].pk for name in names}


def test_french_stemming_finds_singular_plural_and_case_but_not_the_adjective(reports):
    # The French snowball stemmer: métastases, métastase, Métastases → "métastas";
    # métastatique → "métastat": a different lexeme, so it is not found. Without its
    # accents "métastases" is also the English "metastases" (english_unaccent: "metastas").
    assert _found("métastases") == _keys(reports, "plural", "singular", "capital", "english")
    # (English stems "metastatique" to "metastatiqu", not its "metastatic" → "metastat".)
    assert _found("métastatique") == _keys(reports, "adjective")
    # hospitalisation and hospitalisée share the stem "hospitalis".
    assert _found("hospitalisation") == _keys(reports, "hospital")


def test_unaccented_query_finds_accented_text(reports):
    # french_unaccent: "pémétrexed" is indexed as "pemetrexed", "Métastases" as "metastas".
    assert _found("pemetrexed") == _keys(reports, "accented_drug", "unaccented_drug")
    assert _found("metastases") == _keys(reports, "plural", "singular", "capital", "english")
    assert _found("metastatique") == _keys(reports, "adjective")


def test_accented_query_finds_unaccented_text(reports):
    assert _found("pémétrexed") == _keys(reports, "accented_drug", "unaccented_drug")
    # "hospitalisée" (accented) and "hospitalisee" (typed without its accent) both reach
    # "hospitalise" through unaccent.
    assert _found("hospitalisée") == _keys(reports, "hospital", "unaccented_word")
    # unaccent also unfolds the ligature: "œdème" → "oedeme" → "oedem".
    assert _found("œdème") == _keys(reports, "unaccented_word")
    assert _found("oedème") == _keys(reports, "unaccented_word")


def test_accent_aware_stemming_is_kept_beside_unaccent(reports):
    # The built-in french configuration stems "hospitalisée" to "hospitalis", as it does
    # "hospitalisation"; after unaccent the stemmer sees "hospitalisee" → "hospitalise",
    # which "hospitalisation" would miss. A report matching either configuration is found.
    assert _found("hospitalisation") == _keys(reports, "hospital")
    assert _found("hospitalisee") == _keys(reports, "hospital", "unaccented_word")


def test_accent_insensitive_phrase_and_exclusion(reports):
    assert _found('"metastases hepatiques"') == _keys(reports, "plural")
    assert _found("pemetrexed -carboplatine") == _keys(reports, "unaccented_drug")


def test_english_reports_use_the_english_configuration(reports):
    # english stems "metastases" to "metastas", "metastasis" to "metastasi": no English
    # match. The French stemmer makes "metastas" of it, which the unaccented French
    # reports hold.
    assert _found("metastasis") == _keys(reports, "plural", "singular", "capital")
    assert _found("liver") == _keys(reports, "english")
    assert _found("diseases") == _keys(reports, "english")


def test_search_by_drug_phrase_and_exclusion(reports):
    assert _found("pembrolizumab") == _keys(reports, "drug")
    assert _found('"métastases hépatiques"') == _keys(reports, "plural")
    assert _found("métastases -pulmonaires") == _keys(reports, "plural", "singular", "english")


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


def test_search_uses_both_gin_indexes_of_each_language(reports):
    # Each half of a language's match (the subquery of report_list) is served by its own GIN
    # index, with plain scans priced out (a handful of rows would never pick an index). The
    # halves are planned one by one: how the planner combines them (a BitmapOr, or one index
    # and a recheck) depends on statistics the rest of the suite leaves behind.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plans = {}
        for language, configs in SEARCH_CONFIGS.items():
            for config in configs:
                plans[config] = (
                    Report.objects.filter(language=language)
                    .annotate(vector=SearchVector("text", config=config))
                    .filter(
                        vector=SearchQuery("pemetrexed", config=config, search_type="websearch")
                    )
                    .explain()
                )
    assert "review_report_text_fts_fr" in plans["french"]
    assert "review_report_text_fts_unaccent_fr" in plans["french_unaccent"]
    assert "review_report_text_fts_en" in plans["english"]
    assert "review_report_text_fts_unaccent_en" in plans["english_unaccent"]
    # And the selector's OR of both finds what each half finds (both directions of accents).
    assert fulltext_matching(language="fr", search="pemetrexed").exists()
