from collections import Counter

from scipy.stats import chisquare

from generation import guidelines, sampler
from generation.clinical import checker, knowledge


def _sample(**kwargs):
    # The scenario as stored on the batch item (its JSON shape is the contract).
    return sampler.scenario_sample(**kwargs).to_json()


def test_scenario_sample_same_seed_same_scenario(frame_model):
    first = [_sample(frame=frame_model, seed=42, index=i, language="fr") for i in range(20)]
    second = [_sample(frame=frame_model, seed=42, index=i, language="fr") for i in range(20)]
    assert first == second


def test_scenario_sample_other_seed_other_scenarios(frame_model):
    first = [_sample(frame=frame_model, seed=1, index=i, language="fr") for i in range(20)]
    second = [_sample(frame=frame_model, seed=2, index=i, language="fr") for i in range(20)]
    assert first != second


def test_scenario_sample_site_distribution_matches_frame(frame_model):
    draws = 6000
    counts = Counter(
        _sample(frame=frame_model, seed=2024, index=i, language="fr")["site"] for i in range(draws)
    )
    weights = sampler.site_weights(frame_model)
    sites = sorted(weights)
    observed = [counts[s] for s in sites]
    expected = [weights[s] * draws for s in sites]
    assert sum(observed) == draws
    result = chisquare(observed, expected)
    assert result.pvalue > 0.001, (observed, expected)


def test_scenario_sample_stage_distribution_matches_frame_for_lung(frame_model):
    draws = 3000
    counts = Counter(
        _sample(frame=frame_model, seed=9, index=i, language="fr", site_filter="lung")[
            "stage_group"
        ]
        for i in range(draws)
    )
    stage_p = frame_model.sites["lung"].stage.p
    observed = [counts[s] for s in guidelines.STAGES]
    expected = [stage_p[s] * draws for s in guidelines.STAGES]
    assert chisquare(observed, expected).pvalue > 0.001


def test_breast_stage_marginals_are_the_corrected_ones(frame_model):
    # Francim "regional" is mostly stage II (T1-2 N1): stage III is ~10%, not 29%.
    draws = 3000
    counts = Counter(
        _sample(frame=frame_model, seed=4, index=i, language="fr", site_filter="breast")[
            "stage_group"
        ]
        for i in range(draws)
    )
    stage_p = frame_model.sites["breast"].stage.p
    observed = [counts[s] for s in guidelines.STAGES]
    expected = [stage_p[s] * draws for s in guidelines.STAGES]
    assert chisquare(observed, expected).pvalue > 0.001
    assert 0.08 <= counts["III"] / draws <= 0.12


def test_scenario_sample_never_breaks_a_clinical_rule(frame_model):
    kb = knowledge.default_knowledge()
    broken = []
    for i in range(3000):
        scenario = sampler.scenario_sample(frame=frame_model, seed=77, index=i, language="en")
        assert scenario.guideline == "oncology-fr@2"
        case = scenario.clinical_case()
        violations = checker.scenario_violations(kb, case)
        if violations:
            broken.append((scenario.plan, [v.as_dict() for v in violations]))
        if case.metastatic_sites:
            assert "M0" not in case.tnm
    assert broken == []


def test_scenario_sample_site_filter_and_admin_details(frame_model):
    s = _sample(frame=frame_model, seed=5, index=3, language="en", site_filter="breast")
    assert s["site"] == "breast"
    assert s["language"] == "en"
    admin = s["admin"]
    assert admin["admission_date"] < admin["discharge_date"]
    assert set(admin) == {
        "patient_first_name",
        "patient_last_name",
        "birth_date",
        "physician",
        "hospital",
        "department",
        "city",
        "admission_date",
        "discharge_date",
    }
