from generation.sampler import scenario_sample
from generation.scenario import Scenario, Treatment


def test_scenario_json_round_trip_keeps_the_stored_shape(frame_model):
    scenario = scenario_sample(
        frame=frame_model, seed=5, index=3, language="en", site_filter="breast"
    )
    stored = scenario.to_json()
    assert list(stored) == [
        "schema",
        "language",
        "site",
        "histology",
        "stage",
        "tnm",
        "sex",
        "age",
        "biomarkers",
        "metastatic_sites",
        "ecog",
        "comorbidities",
        "smoking",
        "plan",
        "treatments",
        "reason",
        "admin",
        "guideline",
        "group",
        "stage_group",
        "menopause",
        "child_pugh",
        "plan_source",
        "plan_fallback",
        "fallback_reasons",
        "complication",
        "labs",
        "timeline",
        "clinical_tnm",
        "risk_group",
        "postoperative",
    ]
    assert (stored["schema"], stored["site"], stored["language"]) == (2, "breast", "en")
    assert stored["guideline"] == "oncology-fr@2"
    assert all(
        set(t)
        == {
            "modality",
            "intent",
            "regimen",
            "line",
            "regimen_en",
            "drugs",
            "procedure",
            "step",
            "concurrent",
            "status",
            "start_date",
            "months",
        }
        for t in stored["treatments"]
    )
    assert Scenario.from_json(stored) == scenario
    assert isinstance(scenario.treatments[0], Treatment)


def test_scenario_stored_before_the_knowledge_base_still_reads(frame_model):
    stored = scenario_sample(frame=frame_model, seed=5, index=3, language="fr").to_json()
    schema_1 = {
        key: value
        for key, value in stored.items()
        if key
        in {
            "schema",
            "language",
            "site",
            "histology",
            "stage",
            "tnm",
            "sex",
            "age",
            "biomarkers",
            "metastatic_sites",
            "ecog",
            "comorbidities",
            "smoking",
            "plan",
            "treatments",
            "reason",
            "admin",
        }
    }
    schema_1["treatments"] = [
        {k: t[k] for k in ("modality", "intent", "regimen", "line")} for t in stored["treatments"]
    ]
    old = Scenario.from_json({**schema_1, "schema": 1})
    assert old.clinical_case() is None
    assert Scenario.from_json(stored).clinical_case() is not None
