import csv
import io
import json

import pytest
from django.urls import reverse

from review.computations import computations_refresh
from review.models import AuditEvent
from tests.factories import PASSWORD, CoordinatorFactory
from tests.review.rated_study import rated_study

RESULT_URLS = (
    ("review:study_results", ()),
    ("review:study_export_csv", ("ratings",)),
    ("review:study_export_csv", ("summary",)),
    ("review:study_export_csv", ("agreement",)),
    ("review:study_export_csv", ("authorship",)),
    ("review:study_export_csv", ("breakdown",)),
    ("review:study_dataset_jsonl", ()),
    ("review:study_dataset_card", ()),
    ("review:study_methods", ("en",)),
    ("review:study_figure", ("means", "png")),
)


def _score(report, reviewer_index, domain):
    return 8 if report.source == "real" else 6 + reviewer_index


@pytest.fixture
def study(coordinator, reviewers):
    return rated_study(
        coordinator=coordinator, reviewers=reviewers, n_real=3, n_synthetic=3, score=_score
    )


def _read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize(("name", "args"), RESULT_URLS)
def test_results_urls_forbidden_to_reviewers(reviewer_client, study, name, args):
    response = reviewer_client.get(reverse(name, args=[study.pk, *args]))
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "args"), RESULT_URLS)
def test_results_urls_redirect_anonymous_to_login(client, study, name, args):
    url = reverse(name, args=[study.pk, *args])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_results_api_forbidden_to_reviewers(reviewer_client, study):
    response = reviewer_client.get(f"/api/v1/studies/{study.pk}/results/")
    assert response.status_code == 403


def test_results_page_shows_summary_and_plots(coordinator_client, study):
    computations_refresh(study=study)
    response = coordinator_client.get(reverse("review:study_results", args=[study.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Medical consistency" in page
    # Real 8.00 ± 0.00 (3 reports); synthetic reviewers give 6 and 7 → 6.50.
    assert "8.00 ± 0.00" in page
    assert "6.50 ± 0.55" in page
    assert page.count("<svg") == 4


def test_study_detail_links_to_results(coordinator_client, study):
    page = coordinator_client.get(reverse("review:study_detail", args=[study.pk])).content.decode()
    assert reverse("review:study_results", args=[study.pk]) in page


def test_results_page_query_count_independent_of_report_count(
    client, django_assert_num_queries, reviewers
):
    coordinator = CoordinatorFactory()
    small = rated_study(coordinator=coordinator, reviewers=reviewers, n_real=1, n_synthetic=0)
    large = rated_study(coordinator=coordinator, reviewers=reviewers, n_real=25, n_synthetic=25)
    client.login(username=coordinator.username, password=PASSWORD)
    counts = []
    for study in (small, large):
        computations_refresh(study=study)
        # Never computed on the page (issue 21): session, user with their roles, study; the
        # ratings' fingerprint and the stored results; the judge's fingerprint (the same
        # ratings' one and its own scores) and its stored comparison; progress per reviewer
        # (for the progress plot); the calibration references (issue 17; the test–retest
        # table costs nothing when the study has no attention checks).
        with django_assert_num_queries(10) as captured:
            assert client.get(reverse("review:study_results", args=[study.pk])).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_results_page_is_served_from_the_stored_figures_with_their_age(
    coordinator_client, study, django_assert_num_queries
):
    url = reverse("review:study_results", args=[study.pk])
    # Nothing stored yet: the page says so at once and schedules the computation.
    first = coordinator_client.get(url).content.decode()
    assert "Being computed in the background" in first
    assert "8.00 ± 0.00" not in first
    assert sorted(computations_refresh(study=study)) == [
        "judge",
        "results:en",
        "results:fr",
        "surface",
    ]
    page = coordinator_client.get(url).content.decode()
    assert "8.00 ± 0.00" in page
    assert "Computed 0\xa0minutes ago" in page
    # A second refresh finds every fingerprint current and computes nothing.
    assert computations_refresh(study=study) == []


def test_results_cache_invalidated_by_rating_change(coordinator_client, study):
    from review.models import Rating

    url = reverse("review:study_results", args=[study.pk])
    computations_refresh(study=study)
    assert "8.00 ± 0.00" in coordinator_client.get(url).content.decode()
    rating = Rating.objects.filter(
        assignment__study=study, assignment__report__source="real", domain__key="language_quality"
    ).first()
    rating.score = 2
    rating.save()
    # The stored figures are shown, marked stale, until the background refresh has run.
    stale = coordinator_client.get(url).content.decode()
    assert "8.00 ± 0.00" in stale
    assert "Ratings changed since" in stale
    assert "results:en" in computations_refresh(study=study)
    page = coordinator_client.get(url).content.decode()
    # 6 real ratings, one changed from 8 to 2: mean 7.00.
    assert "7.00 ± 2.45" in page
    assert "Ratings changed since" not in page


def test_ratings_csv_has_exact_columns_and_records_audit(coordinator_client, coordinator, study):
    response = coordinator_client.get(
        reverse("review:study_export_csv", args=[study.pk, "ratings"])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _read_csv(response)
    assert rows[0] == [
        "study",
        "report",
        "source",
        "batch",
        "model",
        "prompt_version",
        "reviewer",
        "domain",
        "score",
        "comment",
        "submitted_at",
        "active_ms",
    ]
    # 6 reports × 2 reviewers × 6 domains.
    assert len(rows) == 1 + 72
    synthetic = next(r for r in rows[1:] if r[2] == "synthetic")
    assert synthetic[3:6] == ["7", "mistral-large-latest", "fr-v1"]
    assert synthetic[11] == "90000"
    event = AuditEvent.objects.get(action="export.ratings")
    assert event.actor == coordinator
    assert event.study == study


def test_agreement_and_authorship_csv_columns(coordinator_client, study):
    agreement = _read_csv(
        coordinator_client.get(reverse("review:study_export_csv", args=[study.pk, "agreement"]))
    )
    assert agreement[0] == [
        "domain",
        "scope",
        "statistic",
        "value",
        "ci_low",
        "ci_high",
        "n_reports",
        "n_reviewers",
        "k",
        "design",
        "valid",
        "recommended",
        "band",
        "ci_method",
        "note",
    ]
    # 6 domains × 3 scopes × 10 statistics (complete crossed table: no sub-table row).
    assert len(agreement) == 1 + 180
    authorship = _read_csv(
        coordinator_client.get(reverse("review:study_export_csv", args=[study.pk, "authorship"]))
    )
    assert authorship[0][:9] == [
        "scope",
        "reviewer",
        "auc",
        "ci_low",
        "ci_high",
        "delong_ci_low",
        "delong_ci_high",
        "n_real",
        "n_synthetic",
    ]
    pooled = authorship[1]
    # Real always 8, synthetic 6 or 7: every synthetic scores lower → AUC 0; three reports
    # per source: no interval of either kind.
    assert pooled[:7] == ["pooled", "", "0.0", "", "", "", ""]
    assert pooled[7:9] == ["6", "6"]
    assert pooled[-1] == "fewer than 5 reports of a source: no interval"
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "study.open",
        "export.agreement",
        "export.authorship",
    } or "export.agreement" in set(AuditEvent.objects.values_list("action", flat=True))


def test_unknown_export_is_404(coordinator_client, study):
    response = coordinator_client.get(
        reverse("review:study_export_csv", args=[study.pk, "secrets"])
    )
    assert response.status_code == 404


def test_dataset_jsonl_has_synthetic_reports_only(coordinator_client, study):
    response = coordinator_client.get(reverse("review:study_dataset_jsonl", args=[study.pk]))
    lines = b"".join(response.streaming_content).decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 3
    assert set(records[0]) == {
        "code",
        "language",
        "text",
        "annotations",
        "provenance",
        "physician_ratings",
    }
    assert records[0]["provenance"]["model"] == "mistral-large-latest"
    # Each synthetic report: R1 gave 6 and R2 7 in every domain.
    assert records[0]["physician_ratings"]["medical_consistency"] == {"mean": 6.5, "n_ratings": 2}
    assert len(records[0]["physician_ratings"]) == 6
    assert AuditEvent.objects.filter(action="export.dataset", study=study).count() == 1


def test_dataset_card_lists_counts_models_and_scores(coordinator_client, study):
    response = coordinator_client.get(reverse("review:study_dataset_card", args=[study.pk]))
    card = response.content.decode()
    assert "- Synthetic reports: 3\n" in card
    assert "- mistral-large-latest: 3\n" in card
    assert "- fr-v1: 3\n" in card
    assert "## Clinical guideline knowledge base\n\n- oncology-fr@1: 3\n" in card
    assert "| Language quality | 6.50 | 8.00 | -1.50 [" in card


def test_dataset_card_counts_annotations_by_field(coordinator_client, study):
    from review.models import Report

    spans = [
        {"field": "tnm_stage", "value": "pT2N0", "start": 0, "end": 5},
        {"field": "tnm_stage", "value": "M0", "start": 6, "end": 8},
        {"field": "surgery", "value": "lobectomy", "start": 9, "end": 18},
    ]
    Report.objects.filter(memberships__study=study, source="synthetic").update(annotations=spans)
    card = coordinator_client.get(
        reverse("review:study_dataset_card", args=[study.pk])
    ).content.decode()
    assert "- Annotations: 9\n" in card
    assert "### Annotations by field\n\n- surgery: 3\n- tnm_stage: 6\n" in card
    assert "?" not in card.split("### Annotations by field")[1].split("##")[0]


def test_results_api_returns_figures(coordinator_client, study):
    response = coordinator_client.get(f"/api/v1/studies/{study.pk}/results/")
    assert response.status_code == 200
    data = response.json()
    assert data["study"] == study.code
    assert data["n_ratings"] == 72
    row = next(r for r in data["comparison"] if r["domain"] == "medical_consistency")
    assert row["mean_real"] == 8.0
    assert row["mean_synthetic"] == 6.5
    assert row["difference"] == -1.5
    assert data["note_labels"]["no_variance"].startswith("no variance")
    pooled_icc = next(
        r for r in data["agreement"] if r["recommended"] and r["domain"] == "completeness"
    )
    assert pooled_icc["statistic"] == "ICC(2,1)"


def test_results_page_of_study_without_submitted_ratings(coordinator_client, open_study):
    computations_refresh(study=open_study)
    response = coordinator_client.get(reverse("review:study_results", args=[open_study.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "0 ratings of 0 reports by 0 reviewers" in page
    assert "no rating of real reports" in page


def test_ratings_long_table_is_one_query(django_assert_num_queries, study):
    from review.results import study_ratings_frame

    with django_assert_num_queries(1):
        frame = study_ratings_frame(study=study)
    assert len(frame) == 72
    assert sorted(frame["reviewer"].unique()) == ["R1", "R2"]
    assert frame.loc[frame["source"] == "real", "batch"].isna().all()
    assert set(frame.loc[frame["source"] == "synthetic", "batch"]) == {"7"}


def _recommended_statistics(page_rows) -> set[str]:
    return {row["statistic"] for row in page_rows if row["recommended"]}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_methods_paragraph_names_exactly_the_statistics_shown(coordinator_client, study, language):
    response = coordinator_client.get(reverse("review:study_methods", args=[study.pk, language]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode()
    figures = coordinator_client.get(f"/api/v1/studies/{study.pk}/results/").json()
    shown = _recommended_statistics(figures["agreement"])
    # Two reviewers rated every report: crossed design, ICC(2,1) everywhere.
    assert shown == {"ICC(2,1)"}
    paragraph = text.split("###")[0]
    assert "ICC(2,1)" in paragraph
    for other in ("ICC(1,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"):
        assert other not in text, other
    # Its table lists the recommended row of every domain and scope, as the page does.
    table = text.split("###")[1]
    assert table.count("| ICC(2,1) |") == 18
    # The interval method and the family actually used are named.
    if language == "en":
        assert "## Methods" in text
        assert "The 6 quality domains" not in text
        assert "The 5 quality domains form one family: each verdict reads a 99% interval" in text
        assert "(2000 resamples, seed 5; Efron 1987)" in text
        assert text.count("ICC(2,1) (two-way random effects") == 1
        assert "its 95% CI from the F distribution (McGraw & Wong 1996)" in paragraph
    else:
        assert "## Méthodes" in text
        assert (
            "Les 5 domaines de qualité forment une famille : chaque verdict lit un "
            "intervalle à 99 %" in text
        )


def test_methods_in_an_unknown_language_is_404(coordinator_client, study):
    response = coordinator_client.get(reverse("review:study_methods", args=[study.pk, "de"]))
    assert response.status_code == 404


def test_figures_download_as_svg_and_png(coordinator_client, study):
    svg = coordinator_client.get(reverse("review:study_figure", args=[study.pk, "means", "svg"]))
    assert svg["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert svg.content.decode().startswith("<svg")
    png = coordinator_client.get(reverse("review:study_figure", args=[study.pk, "roc", "png"]))
    assert png["Content-Type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert png["Content-Disposition"] == f'attachment; filename="{study.code}-roc.png"'
    missing = coordinator_client.get(reverse("review:study_figure", args=[study.pk, "pie", "png"]))
    assert missing.status_code == 404


def test_results_page_shows_the_recommended_statistic_with_notes_in_french(
    coordinator_client, study
):
    url = reverse("review:study_results", args=[study.pk])
    computations_refresh(study=study)
    english = coordinator_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = coordinator_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    # Every scope of every domain: ICC(2,1) (both reviewers rated every report), and the
    # engine's note codes as sentences in the reader's language.
    assert english.count("<td>ICC(2,1)</td>") == 18
    assert "fewer than 5 reports rated by two reviewers or more: no interval" in english
    assert (
        "moins de 5 comptes rendus notés par au moins deux évaluateurs : pas d&#x27;intervalle"
        in french
    )
    assert "plan croisé" in french
    assert "Différence [IC ajusté]" in french
    assert "The 5 quality domains form one family" in english
