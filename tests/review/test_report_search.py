"""Coordinators' report search: PostgreSQL full-text search in the report's language (what
the French configuration does and does not stem), accent-insensitive through `unaccent` in
both directions, codes and external ids. Every search test runs twice: on reports whose
search vectors are stored (review.search_index) and on reports not indexed yet (vectors
computed by the query), which must find the same reports. The demo's SQLite fallback runs
on SQLite itself: tests/test_sqlite_demo_database.py."""

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.urls import reverse

from review.models import Report, ReportSearch
from review.search_index import reports_search_index, reports_search_index_all
from review.selectors import SEARCH_CONFIGS, fulltext_matching, report_list
from tests.factories import ReportFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search runs on PostgreSQL"
)


@pytest.fixture(params=["indexed", "not indexed"])
def reports(request, db):
    made = {
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
    if request.param == "indexed":
        assert reports_search_index_all() == len(made)
    assert ReportSearch.objects.count() == (len(made) if request.param == "indexed" else 0)
    return made


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


def test_search_uses_both_gin_indexes_of_the_stored_vectors(reports):
    # Each half of the match on stored vectors is served by its own GIN index, with plain
    # scans priced out (a handful of rows would never pick an index).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plans = {}
        for column, config in (("stemmed", "french"), ("unaccented", "french_unaccent")):
            query = SearchQuery("pemetrexed", config=config, search_type="websearch")
            plans[column] = ReportSearch.objects.filter(**{column: query}).explain()
    assert "review_reportsearch_stemmed" in plans["stemmed"]
    assert "review_reportsearch_unaccented" in plans["unaccented"]
    # The report table keeps no full-text expression index: inserts no longer compute vectors.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [Report._meta.db_table, "%to_tsvector%"],
        )
        assert cursor.fetchall() == []
    # And the selector's OR of both finds what each half finds (both directions of accents).
    assert fulltext_matching(language="fr", search="pemetrexed").exists()


def test_stored_vectors_are_the_configurations_vectors_of_the_text(db):
    french = ReportFactory(text="Patiente hospitalisée, pémétrexed et œdème.")
    english = ReportFactory(language="en", text="Known liver metastases, café.")
    assert reports_search_index(report_ids=[french.pk]) == 1
    assert reports_search_index(report_ids=[french.pk]) == 0  # already indexed: skipped
    assert reports_search_index_all() == 1  # the English one only
    with connection.cursor() as cursor:
        for report, (config, folded) in (
            (french, SEARCH_CONFIGS["fr"]),
            (english, SEARCH_CONFIGS["en"]),
        ):
            cursor.execute(
                "SELECT s.stemmed = to_tsvector(%s::regconfig, r.text),"
                "       s.unaccented = to_tsvector(%s::regconfig, r.text)"
                " FROM review_reportsearch s JOIN review_report r ON r.id = s.report_id"
                " WHERE r.id = %s",
                [config, folded, report.pk],
            )
            same_stemmed, same_unaccented = cursor.fetchone()
            assert (same_stemmed, same_unaccented) == (True, True)
    assert ReportSearch.objects.get(pk=french.pk).unaccented == (
        "'hospitalise':2 'oedem':5 'patient':1 'pemetrexed':3"
    )
    assert ReportSearch.objects.get(pk=french.pk).stemmed == (
        "'hospitalis':2 'patient':1 'pémétrexed':3 'œdem':5"
    )


def test_indexed_and_not_yet_indexed_reports_are_found_together_once(db):
    indexed = ReportFactory(text="Reprise du pemetrexed en maintenance.")
    reports_search_index_all()
    pending = ReportFactory(text="C1 de pémétrexed et carboplatine le 12/03.")
    assert set(ReportSearch.objects.values_list("report_id", flat=True)) == {indexed.pk}
    found = list(report_list(search="pemetrexed").values_list("pk", flat=True))
    assert sorted(found) == sorted([indexed.pk, pending.pk])
    # Deleting a report deletes its vectors.
    indexed.delete()
    assert ReportSearch.objects.count() == 0
