"""Prostate: AJCC 8th prognostic stage groups with PSA and Grade Group, EAU 2024 risk groups,
and plans that follow them; sampled scenarios never break it, planted breaches are flagged."""

from collections import Counter

import pytest

from generation.clinical import checker, tnm
from generation.clinical.draw import Treatment
from tests.generation.clinical.conftest import draw_case

DRAWS = 1500
PLANS_BY_RISK = {  # EAU 2024 (the fallback, watchful waiting, for unfit patients)
    "low": {"prostate-surveillance", "prostate-rp", "prostate-rt-low"},
    "intermediate": {"prostate-rp", "prostate-rt-short-adt"},
    "high": {"prostate-rt-long-adt", "prostate-rp-plnd"},
    "locally_advanced": {"prostate-rt-long-adt", "prostate-rp-plnd"},
    "metastatic": {
        "prostate-met-arpi",
        "prostate-met-triplet",
        "prostate-met-adt",
        "prostate-crpc-2l-docetaxel",
    },
}


@pytest.fixture(scope="module")
def prostate(kb, pop, frame):
    return [draw_case(kb, pop, frame, seed=i, site="prostate") for i in range(DRAWS)]


@pytest.mark.parametrize(
    ("code", "psa", "grade", "stage"),
    [
        ("cT1cN0M0", "<10", "1", "I"),
        ("cT2aN0M0", "<10", "1", "I"),
        ("cT2bN0M0", "<10", "1", "IIA"),
        ("cT1cN0M0", "10-19", "1", "IIA"),
        ("cT1cN0M0", "<10", "2", "IIB"),
        ("cT2cN0M0", "<10", "3", "IIC"),
        ("cT1cN0M0", "<10", "4", "IIC"),
        ("cT1cN0M0", "≥20", "2", "IIIA"),
        ("cT3aN0M0", "<10", "2", "IIIB"),
        ("cT2aN0M0", "<10", "5", "IIIC"),
        ("cT3aN0M0", "≥20", "5", "IIIC"),
        ("cT3bN1M0", "<10", "1", "IVA"),
        ("cT2cN0M1b", "≥20", "4", "IVB"),
        ("pT2N0M0", "<10", "1", "I"),
        ("pT2N0M0", "10-19", "1", "IIA"),
        ("pT3aN0M0", "10-19", "3", "IIIB"),
    ],
)
def test_prostate_prognostic_stage_groups_ajcc8(code, psa, grade, stage):
    factors = {"PSA": psa, "Grade Group": grade}
    assert tnm.stage_from_tnm(site="prostate", tnm=tnm.tnm_parse(code), biomarkers=factors) == stage


def test_prostate_stage_needs_psa_and_grade_group():
    with pytest.raises(tnm.TNMInvalid, match="needs PSA and Grade Group"):
        tnm.stage_from_tnm(site="prostate", tnm=tnm.tnm_parse("cT2aN0M0"), biomarkers={})


def test_tnm_entry_parse_reads_the_factors_and_refuses_others():
    parsed, factors = tnm.tnm_entry_parse("T2bN0M0 PSA10-19 GG3")
    assert (str(parsed), factors) == ("cT2bN0M0", {"PSA": "10-19", "Grade Group": "3"})
    with pytest.raises(tnm.TNMInvalid, match="'GG6' in 'T2bN0M0 GG6' is no prognostic factor"):
        tnm.tnm_entry_parse("T2bN0M0 GG6")


def test_sampled_prostate_scenarios_break_no_rule_and_follow_the_risk_group(kb, prostate):
    assert len(prostate) == DRAWS
    broken = [(c.plan, checker.scenario_violations(kb, c)) for c in prostate]
    assert [b for b in broken if b[1]] == []
    plans = Counter((c.risk_group, c.plan) for c in prostate if c.plan_fallback == 0)
    for (risk, plan), _count in plans.items():
        assert plan in PLANS_BY_RISK[risk], (risk, plan)
    assert {risk for risk, _plan in plans} == set(PLANS_BY_RISK)
    for case in prostate:
        assert set(case.biomarkers) == {"PSA", "Grade Group"}
        adt = [t for t in case.treatments if "triptorelin" in t.drugs and t.intent == "adjuvant"]
        if case.risk_group == "low":
            assert adt == []
        if case.risk_group == "intermediate":
            assert all(t.months == 6 for t in adt)
        if case.risk_group in ("high", "locally_advanced"):
            assert all(t.months == 24 for t in adt)


def test_prostatectomy_regroups_with_the_undivided_pt2(prostate):
    operated = [c for c in prostate if c.tnm.startswith("pT2")]
    assert operated
    for case in operated:
        stage = tnm.stage_from_tnm(
            site="prostate", tnm=tnm.tnm_parse(case.tnm), biomarkers=case.biomarkers
        )
        assert (case.stage, case.stage_group) == (stage, tnm.stage_group(stage))
        assert case.clinical_tnm.startswith("cT")


def _rules(violations):
    return sorted({(v.rule, v.ref) for v in violations})


def _find(prostate, predicate):
    return next(c for c in prostate if predicate(c))


def test_planted_risk_group_and_factor_errors(kb, prostate):
    case = _find(prostate, lambda c: c.risk_group == "low" and c.tnm.startswith("c"))
    relabelled = case.model_copy(update={"risk_group": "intermediate"})
    assert _rules(checker.check_risk_group(kb, relabelled)) == [
        ("risk_group_vs_factors", "eau-prostate-2024")
    ]
    graded = case.model_copy(update={"biomarkers": {**case.biomarkers, "Grade Group": "2"}})
    assert _rules(checker.check_risk_group(kb, graded)) == [
        ("risk_group_vs_factors", "eau-prostate-2024")
    ]
    assert ("stage_vs_tnm", "ajcc8") in _rules(checker.check_tnm(kb, graded))
    no_psa = case.model_copy(update={"biomarkers": {"Grade Group": "1"}})
    assert ("biomarker_not_tested", "prostate") in _rules(
        checker.check_biomarkers_tested(kb, no_psa)
    )


def test_planted_adt_for_low_risk(kb, prostate):
    case = _find(prostate, lambda c: c.plan == "prostate-rt-low")
    adt = Treatment(
        modality="endocrine",
        intent="adjuvant",
        regimen="triptoréline (agoniste de la LH-RH) 6 mois",
        regimen_en="triptorelin (LHRH agonist) for 6 months",
        drugs=["triptorelin"],
        step=0,
        concurrent=True,
        months=6,
    )
    treatments = [t.model_copy(update={"concurrent": True}) for t in case.treatments]
    planted = case.model_copy(update={"treatments": [*treatments, adt]})
    assert ("regimen_vs_histology", "prostate-low-risk-no-adt") in _rules(
        checker.check_rules(kb, planted)
    )


def test_planted_short_adt_with_radiotherapy_for_high_risk(kb, prostate):
    case = _find(prostate, lambda c: c.plan == "prostate-rt-long-adt")
    planted = case.model_copy(
        update={
            "treatments": [
                t.model_copy(update={"months": 6}) if t.drugs else t for t in case.treatments
            ]
        }
    )
    assert _rules(checker.check_rules(kb, planted)) == [
        ("regimen_vs_histology", "prostate-high-risk-rt-long-adt")
    ]


def test_planted_prostatectomy_without_dissection_for_high_risk(kb, prostate):
    case = _find(prostate, lambda c: c.plan == "prostate-rp-plnd")
    planted = case.model_copy(
        update={
            "treatments": [
                t.model_copy(update={"procedure": "radical_prostatectomy"}) for t in case.treatments
            ]
        }
    )
    assert ("regimen_vs_histology", "prostate-high-risk-plnd") in _rules(
        checker.check_rules(kb, planted)
    )


def test_planted_active_surveillance_for_intermediate_risk(kb, prostate):
    case = _find(prostate, lambda c: c.plan == "prostate-rt-short-adt")
    surveillance = Treatment(
        modality="active_surveillance",
        intent="curative",
        regimen="surveillance active",
        regimen_en="active surveillance",
        step=0,
    )
    planted = case.model_copy(update={"treatments": [surveillance]})
    assert ("regimen_vs_histology", "prostate-surveillance-low-risk-only") in _rules(
        checker.check_rules(kb, planted)
    )
