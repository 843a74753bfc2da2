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
    ]
    assert (stored["schema"], stored["site"], stored["language"]) == (1, "breast", "en")
    assert all(set(t) == {"modality", "intent", "regimen", "line"} for t in stored["treatments"])
    assert Scenario.from_json(stored) == scenario
    assert isinstance(scenario.treatments[0], Treatment)
