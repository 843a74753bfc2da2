import copy

import pytest

from generation import frame_format


def _errors(data):
    with pytest.raises(frame_format.FrameInvalid) as info:
        frame_format.frame_validate(data)
    return info.value.errors


def test_default_frame_is_valid_and_sourced():
    frame = frame_format.frame_validate(frame_format.default_frame_data())
    assert frame.name == "france-incidence-2023"
    assert frame.sites["breast"].cases.n == 61214
    assert frame.sites["lung"].stage.p["IV"] == 0.576
    assert frame.version == 3
    # Version 2: correlated tables, corrected breast stage marginals, HCC by BCLC.
    # Version 3: p16-positive oropharynx at the French multicentre prevalence (43.1%).
    assert frame.correlations is not None
    assert frame.correlations.comorbidities.diabetes.p == 0.15
    assert frame.correlations.breast.subtypes.p["HR-/HER2-"] == 0.12
    assert frame.correlations.head_and_neck.p16_positive.p == 0.43
    assert frame.correlations.head_and_neck.p16_positive.source == "papillophar"
    assert frame.sites["breast"].stage.p["III"] == 0.10
    assert sorted(frame.sites["liver"].stage.p) == ["0", "A", "B", "C", "D"]
    assert frame.comorbidities == {}
    assert len(frame.sites) == 11


def test_frame_validate_probabilities_not_summing_to_one():
    data = frame_format.default_frame_data()
    data["sites"]["lung"]["stage"]["p"]["IV"] = 0.5
    assert _errors(data) == ["sites.lung.stage.p: Value error, probabilities sum to 0.9240, not 1"]


def test_frame_validate_unknown_key_and_missing_source():
    data = frame_format.default_frame_data()
    data["ecog"]["p"] = {"0": 0.5, "9": 0.5}
    data["smoking"]["source"] = "nowhere"
    data["sites"]["martian"] = copy.deepcopy(data["sites"]["kidney"])
    errors = _errors(data)
    assert "ecog.p: unknown key(s) '9'; expected some of '0', '1', '2', '3', '4'" in errors
    assert "smoking.source: 'nowhere' is not a key of 'sources'" in errors
    assert any(e.startswith("sites: unknown key(s) 'martian'") for e in errors)


def test_frame_validate_extra_field_rejected():
    data = frame_format.default_frame_data()
    data["sites"]["breast"]["colour"] = "pink"
    assert _errors(data) == ["sites.breast.colour: Extra inputs are not permitted"]


def test_frame_validate_biomarker_value_unknown_to_the_knowledge_base():
    data = frame_format.default_frame_data()
    data["sites"]["stomach"]["biomarkers"] = {
        "HER2": {"p": {"positive": 0.5, "equivocal": 0.5}, "source": "assumption"}
    }
    assert _errors(data) == [
        "sites.stomach.biomarkers.HER2.p: unknown key(s) 'equivocal'; expected some of "
        "'positive', 'negative'"
    ]


def test_frame_validate_tnm_stage_for_the_liver_is_refused():
    data = frame_format.default_frame_data()
    data["sites"]["liver"]["stage"]["p"] = {"I": 0.5, "IV": 0.5}
    assert _errors(data) == [
        "sites.liver.stage.p: unknown key(s) 'I', 'IV'; expected some of '0', 'A', 'B', 'C', 'D'"
    ]


def test_frame_validate_correlation_table_must_sum_to_one():
    data = frame_format.default_frame_data()
    data["correlations"]["breast"]["subtypes"]["p"]["HR-/HER2-"] = 0.21
    assert _errors(data) == [
        "correlations.breast.subtypes.p: Value error, probabilities sum to 1.0900, not 1"
    ]
