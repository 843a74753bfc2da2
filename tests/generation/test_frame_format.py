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
    assert frame.comorbidities["diabetes"].prevalence == 0.15
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


def test_frame_validate_combination_without_plan():
    data = frame_format.default_frame_data()
    # Make every melanoma BRAF wild-type impossible to treat at stage III: remove the option.
    data["sites"]["lung"]["biomarkers"]["EGFR"]["p"] = {"mutated": 0.5, "exon 20": 0.5}
    errors = _errors(data)
    assert errors == [
        "sites.lung.biomarkers.EGFR.p: unknown key(s) 'exon 20'; "
        "expected some of 'mutated', 'wild-type'"
    ]
