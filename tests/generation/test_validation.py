import json

from generation.backends.base import GenerationRequest
from generation.backends.offline import OfflineBackend
from generation.output import GeneratedReport, output_parse
from generation.sampler import scenario_sample
from generation.validation import report_validate


def _offline(frame_model, *, language="fr", index=0, site=""):
    scenario = scenario_sample(
        frame=frame_model, seed=11, index=index, language=language, site_filter=site
    )
    result = OfflineBackend().generate(
        GenerationRequest(
            scenario=scenario,
            system_prompt="",
            user_prompt="",
            model="offline",
            temperature=0,
            seed=0,
            language=language,
        )
    )
    return scenario, json.loads(result.content)


def test_offline_reports_have_exact_offsets_and_no_flags(frame_model):
    for language in ("fr", "en"):
        for index in range(150):
            scenario, data = _offline(frame_model, language=language, index=index)
            validated = report_validate(
                output=output_parse(json.dumps(data)), scenario=scenario, language=language
            )
            assert validated.flags == []
            assert len(validated.annotations) == sum(
                len(a["segments"]) for a in data["annotations"]
            )
            for span in validated.annotations:
                assert validated.narrative[span["start"] : span["end"]] == span["text"]


def test_offline_report_annotates_stage_and_treatments(frame_model):
    scenario, data = _offline(frame_model, site="lung", index=2)
    validated = report_validate(
        output=GeneratedReport.model_validate(data), scenario=scenario, language="fr"
    )
    stage = [a for a in validated.annotations if a["field"] == "stage"]
    assert [a["value"] for a in stage] == [scenario.stage]
    assert stage[0]["text"] == f"stade {scenario.stage}"
    treatments = [a for a in validated.annotations if a["field"] == "treatment"]
    assert [t["modality"] for t in treatments] == [t.modality for t in scenario.treatments]


def _planted(frame_model, mutate, site="lung"):
    scenario, data = _offline(frame_model, site=site, index=4)
    mutate(scenario, data)
    validated = report_validate(
        output=GeneratedReport.model_validate(data), scenario=scenario, language="fr"
    )
    return scenario, validated


def test_flag_contradiction_on_planted_stage(frame_model):
    def mutate(scenario, data):
        stage = next(a for a in data["annotations"] if a["field"] == "stage")
        other = "II" if scenario.stage != "II" else "III"
        data["narrative"] = data["narrative"].replace(stage["segments"][0], f"stade {other}")
        stage["segments"], stage["value"] = [f"stade {other}"], other

    scenario, validated = _planted(frame_model, mutate)
    assert [f["code"] for f in validated.flags] == ["contradicts_scenario"]
    assert validated.flags[0]["detail"].endswith(f"scenario stage {scenario.stage}")


def test_flag_segment_not_found(frame_model):
    def mutate(scenario, data):
        data["annotations"].append(
            {"field": "ecog", "value": str(scenario.ecog), "segments": ["PS absent du texte"]}
        )

    _scenario, validated = _planted(frame_model, mutate)
    assert validated.flags == [
        {
            "code": "segment_not_found",
            "detail": "ecog: 'PS absent du texte' is not in the narrative",
        }
    ]


def test_flag_guideline_violated_on_planted_surgery(frame_model):
    # Find a stage IV lung scenario and make the report add a curative lobectomy.
    for index in range(100):
        scenario, data = _offline(frame_model, site="lung", index=index)
        if scenario.stage_group == "IV" and scenario.histology == "adenocarcinoma":
            break
    data["narrative"] += "\nLobectomie programmée.\n"
    data["annotations"].append(
        {
            "field": "treatment",
            "value": "lobectomie",
            "segments": ["Lobectomie programmée"],
            "modality": "surgery",
            "intent": "curative",
        }
    )
    validated = report_validate(
        output=GeneratedReport.model_validate(data), scenario=scenario, language="fr"
    )
    assert [(f["code"], f.get("ref")) for f in validated.flags] == [
        ("regimen_vs_histology", "no-curative-surgery-metastatic")
    ]
    assert validated.flags[0]["detail"].startswith(
        "No curative surgery for distant metastatic disease"
    )


def test_clinical_flags_on_what_the_narrative_states(frame_model):
    # An HCC report that calls the liver tests normal, and a concurrent combination
    # written in sequence: both named, with evidence.
    for index in range(200):
        scenario, data = _offline(frame_model, site="liver", index=index)
        if scenario.plan == "hcc-atezo-bev":
            break
    assert scenario.plan == "hcc-atezo-bev"
    data["narrative"] += "\nBilan hépatique normal. Atézolizumab, puis bévacizumab.\n"
    validated = report_validate(
        output=GeneratedReport.model_validate(data), scenario=scenario, language="fr"
    )
    assert sorted(f["code"] for f in validated.flags) == [
        "concurrent_vs_sequential",
        "lab_vs_disease",
    ]


def test_flag_missing_section_markdown_and_chatter(frame_model):
    def mutate(scenario, data):
        data["narrative"] = "Voici le compte rendu demandé.\n**Important**\n" + data[
            "narrative"
        ].replace("Mode de vie\n", "")

    _scenario, validated = _planted(frame_model, mutate)
    assert sorted(f["code"] for f in validated.flags) == [
        "chatter",
        "leftover_markdown",
        "missing_section",
    ]
    assert {"code": "missing_section", "detail": "Mode de vie"} in validated.flags
