import itertools
from collections import Counter

from scipy.stats import chisquare

from generation import frame_format, guidelines, sampler


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
        _sample(frame=frame_model, seed=9, index=i, language="fr", site_filter="lung")["stage"]
        for i in range(draws)
    )
    stage_p = frame_model.sites["lung"].stage.p
    observed = [counts[s] for s in guidelines.STAGES]
    expected = [stage_p[s] * draws for s in guidelines.STAGES]
    assert chisquare(observed, expected).pvalue > 0.001


def test_scenario_sample_never_violates_guidelines(frame_model):
    violations = []
    for i in range(4000):
        s = _sample(frame=frame_model, seed=77, index=i, language="en")
        broken = guidelines.guideline_violations(
            site=s["site"],
            histology=s["histology"],
            stage=s["stage"],
            biomarkers=s["biomarkers"],
            treatments=s["treatments"],
        )
        if broken:
            violations.append((s["plan"], broken))
        if s["stage"] != "IV":
            assert s["metastatic_sites"] == []
        else:
            assert 1 <= len(s["metastatic_sites"]) <= 3
    assert violations == []


def test_every_guideline_plan_satisfies_the_rules(frame_model):
    checked = 0
    for site, figures in frame_model.sites.items():
        for histology, stage in itertools.product(figures.histology.p, guidelines.STAGES):
            for combo in frame_format.biomarker_combinations(figures, histology):
                for plan in guidelines.plan_options(
                    site=site, histology=histology, stage=stage, biomarkers=combo
                ):
                    checked += 1
                    assert (
                        guidelines.guideline_violations(
                            site=site,
                            histology=histology,
                            stage=stage,
                            biomarkers=combo,
                            treatments=plan["treatments"],
                        )
                        == []
                    ), (site, histology, stage, combo, plan["id"])
    assert checked > 100


def test_guideline_violations_catch_surgery_at_stage_iv():
    broken = guidelines.guideline_violations(
        site="lung",
        histology="adenocarcinoma",
        stage="IV",
        biomarkers={"EGFR": "mutated", "ALK": "not rearranged"},
        treatments=[
            {"modality": "surgery", "intent": "curative", "regimen": "lobectomie", "line": None}
        ],
    )
    assert [b["rule"] for b in broken] == [
        "no-curative-surgery-metastatic",
        "metastatic-systemic-therapy",
        "nsclc-iv-driver-targeted",
    ]


def test_guideline_violations_catch_endocrine_for_hr_negative_breast():
    broken = guidelines.guideline_violations(
        site="breast",
        histology="invasive_ductal",
        stage="II",
        biomarkers={"HR": "negative", "HER2": "negative"},
        treatments=[
            {"modality": "endocrine", "intent": "adjuvant", "regimen": "létrozole", "line": None}
        ],
        check_requirements=False,
    )
    assert [b["rule"] for b in broken] == ["breast-hr-negative-no-endocrine"]


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
