import pytest

from generation.clinical import tnm

LUNG = {"contralateral_lung": "M1a", "pleura": "M1a", "bone": "M1b", "brain": "M1b"}
LUNG |= {"liver": "M1b", "adrenal": "M1b"}
COLORECTAL = {"liver": "M1a", "lung": "M1a", "distant_lymph_nodes": "M1a", "peritoneum": "M1c"}
MELANOMA = {"skin": "M1a", "distant_lymph_nodes": "M1a", "lung": "M1b", "liver": "M1c"}
MELANOMA |= {"bone": "M1c", "brain": "M1d"}


@pytest.mark.parametrize(
    ("letters", "multiple", "sites", "expected"),
    [
        (COLORECTAL, ("M1a", "M1b"), ["peritoneum"], "M1c"),
        (COLORECTAL, ("M1a", "M1b"), ["liver"], "M1a"),
        (COLORECTAL, ("M1a", "M1b"), ["liver", "lung"], "M1b"),
        (COLORECTAL, ("M1a", "M1b"), ["liver", "peritoneum"], "M1c"),
        (LUNG, ("M1b", "M1c"), ["bone"], "M1b"),
        (LUNG, ("M1b", "M1c"), ["bone", "liver"], "M1c"),
        (LUNG, ("M1b", "M1c"), ["contralateral_lung"], "M1a"),
        (MELANOMA, None, ["brain", "lung"], "M1d"),
        (MELANOMA, None, ["lung"], "M1b"),
        (MELANOMA, None, [], "M0"),
    ],
)
def test_m_category_follows_the_sites_letters(letters, multiple, sites, expected):
    assert tnm.m_category(site_letters=letters, multiple=multiple, sites=sites) == expected


@pytest.mark.parametrize(
    ("site", "code", "biomarkers", "stage"),
    [
        ("head_and_neck", "cT4aN2bM0", {"p16": "negative"}, "IVA"),
        ("head_and_neck", "cT3N1M0", {"p16": "negative"}, "III"),
        ("head_and_neck", "cT4N1M0", {"p16": "positive"}, "III"),
        ("head_and_neck", "cT2N1M0", {"p16": "positive"}, "I"),
        ("lung", "cT2aN2M0", {}, "IIIA"),
        ("lung", "cT3N1M1b", {}, "IVA"),
        ("lung", "cT3N1M1c", {}, "IVB"),
        ("colorectal", "cT3N1bM0", {}, "IIIB"),
        ("colorectal", "cT4aN2aM0", {}, "IIIC"),
        ("colorectal", "cT3N1M1c", {}, "IVC"),
        ("breast", "cT2N1M0", {}, "IIB"),
        ("breast", "cT2N2M0", {}, "IIIA"),
        ("breast", "cT2N3M0", {}, "IIIC"),
        ("melanoma", "pT3bN0M0", {}, "IIB"),
        ("melanoma", "pT4bN0M0", {}, "IIC"),
        ("stomach", "cT4aN1M0", {}, "III"),
        ("stomach", "pT4aN1M0", {}, "IIIA"),
        ("stomach", "pT3N3aM0", {}, "IIIB"),
        ("bladder", "cT3bN1M0", {}, "IIIA"),
        ("pancreas", "cT4N0M0", {}, "III"),
    ],
)
def test_stage_from_tnm_ajcc8(site, code, biomarkers, stage):
    assert tnm.stage_from_tnm(site=site, tnm=tnm.tnm_parse(code), biomarkers=biomarkers) == stage


def test_p16_positive_categories_restage_n():
    assert tnm.p16_positive_categories("T4a", "N2b") == ("T4", "N1")
    assert tnm.p16_positive_categories("T2", "N2c") == ("T2", "N2")


def test_prostate_pathological_t1_does_not_exist():
    errors = tnm.tnm_category_errors(site="prostate", tnm=tnm.tnm_parse("pT1cN0M0"))
    assert errors == ["pT1c does not exist for the prostate (AJCC 8th)"]
    assert tnm.pathological_t(site="prostate", t="T1c") == "T2"
    assert tnm.tnm_category_errors(site="prostate", tnm=tnm.tnm_parse("pT2N0M0")) == []


def test_tnm_parse_rejects_garbage():
    with pytest.raises(tnm.TNMInvalid, match="not a TNM code"):
        tnm.tnm_parse("stage 3")
