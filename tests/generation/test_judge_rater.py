"""The LLM judge as a blinded rater of a study, through the real SDK and the fake server."""

import json

import numpy as np
import pandas as pd
import pingouin
import pytest
from django.urls import reverse

from generation.judge_rater import study_judge_launch, study_report_judge
from generation.output import OutputInvalid
from review.blinding.presentation import normalise_text
from review.computations import computations_refresh
from review.judge import judge_results
from review.models import JudgeRating, Rating, Report, StudyReport
from review.results import study_results
from tests.review.rated_study import rated_study

SECRET_SCENARIO = {"site": "pancreas", "plan": "folfirinox-secret-plan"}
DOMAINS = (
    "language_quality",
    "medical_consistency",
    "completeness",
    "conciseness",
    "overall_impression",
    "ai_authorship",
)


def _physician_score(report, reviewer_index, domain):
    # Real reports score higher on consistency; synthetic ones look more AI-written.
    base = 8 if report.source == "real" else 6
    if domain == "ai_authorship":
        base = 3 if report.source == "real" else 7
    return base + (report.pk + reviewer_index) % 3 - 1


def _judge_score(report, domain):
    base = 9 if report.source == "real" else 6
    if domain == "ai_authorship":
        base = 2 if report.source == "real" else 8
    return base + report.pk % 2


@pytest.fixture
def study(db, coordinator, reviewers):
    study = rated_study(
        coordinator=coordinator,
        reviewers=reviewers,
        n_real=6,
        n_synthetic=6,
        score=_physician_score,
    )
    # Provenance a judge must never see: writer model, batch name, scenario.
    Report.objects.filter(source="synthetic").update(
        provenance={
            "kind": "generation",
            "batch": "77",
            "batch_name": "secret-batch-name",
            "model": "writer-model-zz",
            "prompt_version": "compte-rendu-fr-v2",
            "scenario": SECRET_SCENARIO,
        }
    )
    return study


def _reports(study):
    return list(Report.objects.filter(memberships__study=study).order_by("pk"))


def _rate_all(study, fake_mistral, model="mistral-small-latest"):
    reports = _reports(study)
    for report in reports:
        fake_mistral.script(
            "rating",
            json.dumps(
                {"scores": [{"domain": d, "score": _judge_score(report, d)} for d in DOMAINS]}
            ),
        )
    for report in reports:
        assert (
            study_report_judge(
                study_id=study.pk, report_id=report.pk, backend="mistral", model=model
            )
            == "done"
        )
    return reports


def test_judge_rates_blinded_and_apart_from_physicians(
    study, mistral_settings, fake_mistral, django_capture_on_commit_callbacks
):
    ratings_before = Rating.objects.count()
    physicians_before = study_results(study=study, with_plots=False).figures
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert study_judge_launch(study=study, model="mistral-small-latest") == 12
    assert len(callbacks) == 1
    reports = _rate_all(study, fake_mistral)
    requests = fake_mistral.requests_of("rating")
    assert len(requests) == 12
    assert {r.model for r in requests} == {"mistral-small-latest"}
    for report, request in zip(reports, requests, strict=True):
        sent = json.dumps(request.body, ensure_ascii=False)
        # Never the source, the provenance, the scenario or the report's code.
        for secret in (
            "synthetic",
            "secret-batch-name",
            "writer-model-zz",
            "folfirinox-secret-plan",
            "pancreas",
            "provenance",
            "scenario",
            report.code,
        ):
            assert secret not in sent, secret
        assert '"real"' not in sent and "source" not in sent
        # What a physician reads: the normalised text and the domains' help texts.
        assert "<<<\n" + normalise_text(report.text) + "\n>>>" in request.prompt_text
        assert "Are diagnosis, stage, treatments and course clinically coherent?" in (
            request.prompt_text
        )
        schema = request.body["response_format"]["json_schema"]["schema"]
        assert schema["$defs"]["DomainScore"]["properties"]["domain"]["enum"] == list(DOMAINS)
    # Stored apart: 12 reports x 6 domains, the physicians' table untouched.
    assert JudgeRating.objects.count() == 72
    assert Rating.objects.count() == ratings_before
    physicians_after = study_results(study=study, with_plots=False).figures
    assert physicians_after["n_ratings"] == physicians_before["n_ratings"]
    assert physicians_after["n_reviewers"] == physicians_before["n_reviewers"] == 2
    # A redelivered task replaces its rows, adds none.
    fake_mistral.script(
        "rating",
        json.dumps({"scores": [{"domain": d, "score": 5} for d in DOMAINS]}),
    )
    study_report_judge(
        study_id=study.pk, report_id=reports[0].pk, backend="mistral", model="mistral-small-latest"
    )
    assert JudgeRating.objects.count() == 72
    assert set(JudgeRating.objects.filter(report=reports[0]).values_list("score", flat=True)) == {5}


def _independent_kappa(a, b, labels):
    """Quadratic-weighted kappa from its definition (Cohen 1968)."""
    k = len(labels)
    index = {v: i for i, v in enumerate(labels)}
    observed = np.zeros((k, k))
    for x, y in zip(a, b, strict=True):
        observed[index[x], index[y]] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    weights = np.array([[(i - j) ** 2 for j in range(k)] for i in range(k)]) / (k - 1) ** 2
    return 1 - (weights * observed).sum() / (weights * expected).sum()


def test_judge_physician_agreement_matches_an_independent_computation(
    study, mistral_settings, fake_mistral
):
    reports = _rate_all(study, fake_mistral)
    (comparison,) = judge_results(study=study)
    assert comparison.model == "mistral-small-latest"
    ratings = pd.DataFrame(
        list(
            Rating.objects.filter(assignment__study=study).values_list(
                "assignment__report_id", "domain__key", "score"
            )
        ),
        columns=["report", "domain", "score"],
    )
    for row in comparison.domains:
        panel = ratings[ratings["domain"] == row.domain].groupby("report")["score"].mean()
        judge = pd.Series({r.pk: _judge_score(r, row.domain) for r in reports}, dtype=float)
        judge = judge.loc[panel.index]
        long = pd.concat(
            [
                pd.DataFrame({"target": panel.index, "rater": "judge", "score": judge.values}),
                pd.DataFrame({"target": panel.index, "rater": "panel", "score": panel.values}),
            ]
        )
        icc = pingouin.intraclass_corr(long, targets="target", raters="rater", ratings="score")
        # ICC(A,1) in McGraw & Wong's naming = Shrout & Fleiss ICC(2,1).
        icc2 = icc.set_index("Type").loc["ICC(A,1)"]
        assert row.n_reports == 12
        assert row.icc21 == pytest.approx(icc2["ICC"], abs=1e-9)
        assert (row.icc21_low, row.icc21_high) == pytest.approx(tuple(icc2["CI95"]), abs=0.01)
        rounded = np.clip(np.floor(panel.values + 0.5), 1, 10).astype(int)
        assert row.kappa_quadratic == pytest.approx(
            _independent_kappa(judge.values.astype(int), rounded, list(range(1, 11))), abs=1e-9
        )
        difference = judge.values - panel.values
        assert row.bias == pytest.approx(difference.mean(), abs=1e-12)
        half = 2.200985160082949 * difference.std(ddof=1) / np.sqrt(12)  # t(0.975, 11)
        assert (row.bias_low, row.bias_high) == pytest.approx(
            (difference.mean() - half, difference.mean() + half), abs=1e-9
        )
        assert row.kappa_low <= row.kappa_quadratic <= row.kappa_high
    # Authorship AUC: P(synthetic scored higher) + ½ P(tie), counted by hand.
    real = [_judge_score(r, "ai_authorship") for r in reports if r.source == "real"]
    synthetic = [_judge_score(r, "ai_authorship") for r in reports if r.source == "synthetic"]
    wins = sum((s > r) + 0.5 * (s == r) for s in synthetic for r in real)
    assert comparison.judge_auc == wins / (len(real) * len(synthetic)) == 1.0
    panel_auth = Rating.objects.filter(assignment__study=study, domain__key="ai_authorship")
    real_p = [
        x.score
        for x in panel_auth.select_related("assignment__report")
        if x.assignment.report.source == "real"
    ]
    syn_p = [
        x.score
        for x in panel_auth.select_related("assignment__report")
        if x.assignment.report.source == "synthetic"
    ]
    wins_p = sum((s > r) + 0.5 * (s == r) for s in syn_p for r in real_p)
    assert comparison.physicians_auc == pytest.approx(wins_p / (len(real_p) * len(syn_p)))
    assert comparison.plot_svg.startswith("<svg")


def test_results_page_has_the_judge_section(
    study, mistral_settings, fake_mistral, coordinator_client
):
    _rate_all(study, fake_mistral)
    # The results page shows stored computations (review.computations); store them now.
    computations_refresh(study=study)
    body = coordinator_client.get(reverse("review:study_results", args=[study.pk])).content.decode()
    assert 'id="judge-results"' in body
    assert "mistral-small-latest" in body and "ICC(2,1)" in body
    assert "<svg" in body[body.index('id="judge-results"') :]


def test_judge_answer_that_does_not_score_every_domain_stores_nothing(
    study, mistral_settings, fake_mistral
):
    report = _reports(study)[0]
    fake_mistral.script("rating", json.dumps({"scores": [{"domain": "conciseness", "score": 4}]}))
    with pytest.raises(OutputInvalid):
        study_report_judge(
            study_id=study.pk, report_id=report.pk, backend="mistral", model="mistral-large-latest"
        )
    assert JudgeRating.objects.count() == 0


def test_judge_of_a_report_no_longer_in_the_study_is_missing(study, mistral_settings, fake_mistral):
    report = _reports(study)[0]
    StudyReport.objects.filter(study=study, report=report).delete()
    assert (
        study_report_judge(
            study_id=study.pk, report_id=report.pk, backend="mistral", model="mistral-large-latest"
        )
        == "missing"
    )
    assert fake_mistral.requests == []


def test_dataset_export_carries_judge_scores_labelled(study, mistral_settings, fake_mistral):
    from review.exports import dataset_lines

    reports = _rate_all(study, fake_mistral)
    records = [json.loads(line) for line in dataset_lines(study=study)]
    synthetic = [r for r in reports if r.source == "synthetic"]
    assert [r["code"] for r in records] == sorted(r.code for r in synthetic)
    by_code = {r.code: r for r in synthetic}
    for record in records:
        judge = record["llm_judge_scores"]
        assert judge["note"] == "scores of an LLM judge (blinded), not of the physicians"
        assert judge["by_model"] == {
            "mistral-small-latest": {d: _judge_score(by_code[record["code"]], d) for d in DOMAINS}
        }


@pytest.mark.parametrize("n", [3, 9])
def test_results_page_with_a_judge_query_count_is_constant(
    db, coordinator, reviewers, coordinator_client, django_assert_num_queries, n
):
    from review.models import Domain

    study = rated_study(
        coordinator=coordinator,
        reviewers=reviewers,
        n_real=n,
        n_synthetic=n,
        score=_physician_score,
    )
    domains = list(Domain.objects.filter(study=study))
    JudgeRating.objects.bulk_create(
        JudgeRating(study=study, report=r, domain=d, model="judge-x", score=_judge_score(r, d.key))
        for r in _reports(study)
        for d in domains
    )
    url = reverse("review:study_results", args=[study.pk])
    computations_refresh(study=study)
    coordinator_client.get(url)
    # The same count for 3 and 9 reports per source: the page's reads (session, user with
    # their roles, study, the stored computations' fingerprints, panel progress, calibration
    # references), then the judge: its scores, the physicians' table, the domains
    with django_assert_num_queries(10):
        body = coordinator_client.get(url).content.decode()
    assert body.count('<tr data-domain="') == 6
