"""Every rule: thousands of sampled scenarios break it zero times, and a planted violation
is flagged with its name and evidence."""

import pytest

from generation.clinical import checker
from generation.clinical.draw import Treatment


@pytest.fixture(scope="module")
def sample_violations(kb, sample):
    return [checker.scenario_violations(kb, case) for case in sample]


def test_sample_covers_every_site_and_many_plans(sample, kb):
    assert len(sample) == 3000
    assert len({case.site for case in sample}) == 11
    assert len({case.plan for case in sample}) >= 90


@pytest.mark.parametrize("rule", checker.RULES)
def test_sampled_scenarios_never_break(rule, sample_violations):
    broken = [v for violations in sample_violations for v in violations if v.rule == rule]
    assert broken == []


def test_violation_rates_count_cases_per_rule(sample_violations):
    cases, counts = checker.violation_rates(sample_violations)
    assert cases == 3000
    assert counts == dict.fromkeys(checker.RULES, 0)


def _rules(violations):
    return sorted({(v.rule, v.ref) for v in violations})


def _swap_drugs(case, old: str, new: list[str]):
    treatments = [
        t.model_copy(update={"drugs": new}) if old in t.drugs else t for t in case.treatments
    ]
    return case.model_copy(update={"treatments": treatments})


def _add(case, **fields):
    step = max(t.step for t in case.treatments) + 1
    extra = Treatment(
        regimen=fields.pop("regimen", "x"),
        regimen_en=fields.pop("regimen_en", "x"),
        step=step,
        **fields,
    )
    return case.model_copy(update={"treatments": [*case.treatments, extra]})


# --- regimens vs histology and biomarkers ------------------------------------------------


def test_planted_pemetrexed_for_squamous_nsclc(kb, find):
    case = find("lung", lambda c: c.plan == "nsclc-iv-sq-chemo-io")
    planted = _swap_drugs(case, "paclitaxel", ["carboplatin", "pemetrexed"])
    assert ("regimen_vs_histology", "pemetrexed-non-squamous-only") in _rules(
        checker.check_rules(kb, planted)
    )


def test_planted_pembrolizumab_for_tnbc_with_low_cps(kb, find):
    case = find("breast", lambda c: c.plan == "breast-met-tn-chemo")
    assert case.biomarkers["PD-L1 CPS"] == "<10" or case.ecog == 2
    planted = case.model_copy(update={"biomarkers": {**case.biomarkers, "PD-L1 CPS": "<10"}})
    planted = _add(planted, modality="immunotherapy", intent="palliative", drugs=["pembrolizumab"])
    assert ("regimen_vs_biomarkers", "tnbc-metastatic-pembrolizumab-cps10") in _rules(
        checker.check_rules(kb, planted)
    )


def test_planted_durvalumab_with_pdl1_below_1_percent_and_egfr(kb, find):
    case = find("lung", lambda c: c.plan == "nsclc-crt-carbo-durvalumab")
    negative = case.model_copy(update={"biomarkers": {**case.biomarkers, "PD-L1 TPS": "<1%"}})
    assert ("regimen_vs_biomarkers", "durvalumab-needs-pdl1") in _rules(
        checker.check_rules(kb, negative)
    )
    egfr = case.model_copy(update={"biomarkers": {**case.biomarkers, "EGFR": "mutated"}})
    rules = _rules(checker.check_rules(kb, egfr))
    assert ("regimen_vs_biomarkers", "durvalumab-not-egfr-alk") in rules
    assert ("regimen_vs_biomarkers", "nsclc-iii-egfr-osimertinib") in rules


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"sidedness": "right"}, "anti-egfr-needs-left-side"),
        ({"RAS": "mutated"}, "anti-egfr-needs-ras-wild-type"),
        ({"BRAF": "V600E mutated"}, "anti-egfr-needs-braf-wild-type"),
    ],
)
def test_planted_anti_egfr_outside_left_sided_ras_braf_wild_type(kb, find, change, rule):
    case = find("colorectal", lambda c: c.plan == "crc-met-folfox-bev")
    planted = _swap_drugs(case, "bevacizumab", ["cetuximab"])
    planted = planted.model_copy(
        update={
            "biomarkers": {
                **planted.biomarkers,
                "RAS": "wild-type",
                "BRAF": "wild-type",
                "sidedness": "left",
                **change,
            }
        }
    )
    assert _rules(checker.check_rules(kb, planted)) == [("regimen_vs_biomarkers", rule)]


def test_planted_gastric_nivolumab_without_cps5_and_her2_without_trastuzumab(kb, find):
    case = find("stomach", lambda c: c.plan == "stomach-met-nivolumab")
    low = case.model_copy(update={"biomarkers": {"HER2": "negative", "PD-L1 CPS": "<5"}})
    assert ("regimen_vs_biomarkers", "gastric-nivolumab-cps5") in _rules(
        checker.check_rules(kb, low)
    )
    her2 = find("stomach", lambda c: c.plan == "stomach-met-her2")
    planted = _swap_drugs(her2, "trastuzumab", ["nivolumab"])
    rules = _rules(checker.check_rules(kb, planted))
    assert ("regimen_vs_biomarkers", "gastric-her2-trastuzumab") in rules


def test_planted_hcc_staged_by_tnm_and_tace_at_bclc_c(kb, find):
    case = find("liver", lambda c: c.stage == "C" and c.plan == "hcc-lenvatinib")
    assert _rules(checker.check_tnm(kb, case.model_copy(update={"tnm": "cT4N0M0"}))) == [
        ("stage_vs_tnm", "")
    ]
    planted = _add(case, modality="local_ablation", intent="palliative", procedure="tace")
    assert ("regimen_vs_histology", "hcc-no-tace-advanced") in _rules(
        checker.check_rules(kb, planted)
    )


def test_planted_letrozole_premenopausal_and_for_a_man(kb, find):
    case = find("breast", lambda c: c.plan == "breast-early-hrpos-pre-tam")
    planted = _swap_drugs(case, "tamoxifen", ["letrozole"])
    assert ("plan_vs_fitness", "aromatase-inhibitor-premenopausal") in _rules(
        checker.check_rules(kb, planted)
    )
    man = find("breast", lambda c: c.plan == "breast-early-hrpos-male")
    assert ("plan_vs_fitness", "aromatase-inhibitor-men") in _rules(
        checker.check_rules(kb, _swap_drugs(man, "tamoxifen", ["letrozole"]))
    )


def test_planted_upfront_surgery_for_stage_ii_tnbc_and_her2(kb, find):
    tn = find("breast", lambda c: c.plan == "breast-tn-keynote-522")
    surgery_first = [t for t in tn.treatments if t.modality in ("surgery", "radiotherapy")]
    planted = tn.model_copy(update={"treatments": surgery_first})
    assert ("regimen_vs_biomarkers", "tnbc-early-keynote-522") in _rules(
        checker.check_rules(kb, planted)
    )
    her2 = find("breast", lambda c: c.plan == "breast-her2-neoadjuvant")
    planted = her2.model_copy(
        update={"treatments": [t for t in her2.treatments if t.intent != "neoadjuvant"]}
    )
    assert ("regimen_vs_biomarkers", "breast-her2-needs-neoadjuvant-anti-her2") in _rules(
        checker.check_rules(kb, planted)
    )


def test_planted_stage_iii_her2_without_a_year_of_anti_her2(kb, find):
    case = find("breast", lambda c: c.plan == "breast-her2-neoadjuvant" and c.stage_group == "III")
    planted = case.model_copy(
        update={
            "treatments": [
                t
                for t in case.treatments
                if not (t.modality == "anti_her2" and t.intent == "adjuvant")
            ]
        }
    )
    assert ("regimen_vs_biomarkers", "breast-her2-one-year") in _rules(
        checker.check_rules(kb, planted)
    )


def test_planted_melanoma_errors(kb, find):
    t1b = find("melanoma", lambda c: c.plan == "melanoma-slnb" and c.tnm.startswith("pT1b"))
    no_slnb = t1b.model_copy(
        update={"treatments": [t1b.treatments[0].model_copy(update={"procedure": "wide_excision"})]}
    )
    assert ("regimen_vs_histology", "melanoma-slnb-from-pt1b") in _rules(
        checker.check_rules(kb, no_slnb)
    )
    micro = find("melanoma", lambda c: c.plan == "melanoma-iii-micro-pd1")
    dissection = _add(micro, modality="surgery", intent="curative", procedure="completion_lnd")
    assert ("regimen_vs_histology", "melanoma-no-completion-dissection") in _rules(
        checker.check_rules(kb, dissection)
    )
    iib = find("melanoma", lambda c: c.plan == "melanoma-iib-iic-adjuvant")
    no_adjuvant = iib.model_copy(update={"treatments": iib.treatments[:1]})
    assert ("regimen_vs_histology", "melanoma-iib-iic-needs-adjuvant-pd1") in _rules(
        checker.check_rules(kb, no_adjuvant)
    )


def test_planted_head_and_neck_errors(kb, find):
    case = find("head_and_neck", lambda c: c.plan == "hn-rm-pembrolizumab")
    no_p16 = case.model_copy(
        update={"biomarkers": {k: v for k, v in case.biomarkers.items() if k != "p16"}}
    )
    assert _rules(checker.check_biomarkers_tested(kb, no_p16)) == [
        ("biomarker_not_tested", "head_and_neck")
    ]
    low = case.model_copy(update={"biomarkers": {**case.biomarkers, "PD-L1 CPS": "<1"}})
    assert ("regimen_vs_biomarkers", "hn-pembrolizumab-cps1") in _rules(
        checker.check_rules(kb, low)
    )
    la = find(
        "head_and_neck",
        lambda c: c.tnm.endswith("T4aN2bM0") and c.biomarkers["p16"] == "negative",
    )
    assert la.stage == "IVA"
    called_iii = la.model_copy(update={"stage": "III", "stage_group": "III"})
    assert _rules(checker.check_tnm(kb, called_iii)) == [("stage_vs_tnm", "ajcc8")]


# --- fitness -----------------------------------------------------------------------------


def test_planted_dd_mvac_without_cisplatin_eligibility(kb, find):
    case = find("bladder", lambda c: c.plan == "bladder-mibc-ddmvac")
    planted = case.model_copy(update={"labs": case.labs.model_copy(update={"crcl_ml_min": 45})})
    violations = checker.check_fitness(kb, planted)
    assert {(v.rule, v.ref) for v in violations} == {
        ("plan_vs_fitness", "bladder-mibc-ddmvac"),
        ("plan_vs_fitness", "galsky-2011"),
    }
    assert any("creatinine clearance 45 < 60 mL/min" in v.detail for v in violations)


@pytest.mark.parametrize(
    ("site", "plan", "update", "evidence"),
    [
        ("lung", "nsclc-lobectomy", {"ecog": 3}, "ECOG 3 > 1"),
        ("pancreas", "pancreas-advanced-folfirinox", {"ecog": 2}, "ECOG 2 > 1"),
        ("pancreas", "pancreas-advanced-folfirinox", {"age": 95}, "age 95 > 75"),
        ("prostate", "prostate-rp", {"age": 93}, "age 93 > 75"),
        ("stomach", "stomach-flot", {"ecog": 2}, "ECOG 2 > 1"),
        ("head_and_neck", "hn-la-cisplatin-rt", {"ecog": 2}, "ECOG 2 > 1"),
        ("bladder", "bladder-mibc-ddmvac", {"ecog": 2}, "ECOG 2 > 1"),
    ],
)
def test_planted_unfit_patient_for_the_plan(kb, find, site, plan, update, evidence):
    case = find(site, lambda c: c.plan == plan)
    violations = checker.check_fitness(kb, case.model_copy(update=update))
    assert {v.rule for v in violations} == {"plan_vs_fitness"}
    assert any(evidence in v.detail for v in violations)


# --- TNM, pathway, dates, labs, complications --------------------------------------------


@pytest.mark.parametrize(
    ("site", "m", "sites", "expected"),
    [
        ("colorectal", "M1a", ["peritoneum"], "M1c"),
        ("lung", "M1c", ["bone"], "M1b"),
        ("melanoma", "M1c", ["brain"], "M1d"),
    ],
)
def test_planted_m_category_against_the_sites(kb, find, site, m, sites, expected):
    case = find(site, lambda c: c.stage_group == "IV" and "M1" in c.tnm)
    prefix_t_n = case.tnm[: case.tnm.index("M")]
    planted = case.model_copy(update={"tnm": prefix_t_n + m, "metastatic_sites": sites})
    violations = [v for v in checker.check_tnm(kb, planted) if v.rule == "tnm_vs_metastatic_sites"]
    assert len(violations) == 1
    assert f"make {expected}" in violations[0].detail


def test_planted_m0_with_distant_metastases(kb, find):
    case = find("breast", lambda c: c.stage_group == "II")
    planted = case.model_copy(update={"metastatic_sites": ["bone"]})
    assert ("tnm_vs_metastatic_sites", "ajcc8") in _rules(checker.check_tnm(kb, planted))


def test_planted_pathological_staging_at_a_diagnostic_stay_and_pt1c(kb, find):
    case = find("breast", lambda c: c.reason == "diagnostic" and c.tnm.startswith("c"))
    planted = case.model_copy(update={"tnm": "p" + case.tnm[1:]})
    assert _rules(checker.check_pathway(kb, planted)) == [("staging_prefix_vs_pathway", "ajcc8")]
    prostate = find("prostate", lambda c: c.tnm.startswith("pT2"))
    pt1c = prostate.model_copy(update={"tnm": prostate.tnm.replace("pT2", "pT1c")})
    assert ("tnm_category_invalid", "ajcc8") in _rules(checker.check_tnm(kb, pt1c))


def test_planted_egfr_and_alk_together(kb, find):
    case = find("lung", lambda c: c.biomarkers.get("EGFR") == "mutated")
    planted = case.model_copy(update={"biomarkers": {**case.biomarkers, "ALK": "rearranged"}})
    assert ("biomarkers_exclusive", "lung") in _rules(checker.check_rules(kb, planted))


def test_planted_age_not_matching_birth_date_and_dates_out_of_order(kb, find):
    case = find("kidney")
    older = case.model_copy(update={"age": case.age + 1})
    assert _rules(checker.check_pathway(kb, older)) == [("age_vs_birth_date", "")]
    early = case.model_copy(update={"discharge_date": "2000-01-01"})
    assert ("dates_order", "") in _rules(checker.check_pathway(kb, early))


def test_planted_normal_liver_tests_with_liver_metastases(kb, find):
    case = find("colorectal", lambda c: "liver" in c.metastatic_sites)
    assert case.labs.liver_tests == "abnormal"
    planted = case.model_copy(
        update={"labs": case.labs.model_copy(update={"liver_tests": "normal"})}
    )
    assert _rules(checker.check_labs(kb, planted)) == [("lab_vs_disease", "")]


def test_planted_ckd_with_normal_clearance(kb, find):
    case = find("kidney", lambda c: "chronic_kidney_disease" in c.comorbidities)
    assert case.labs.crcl_ml_min < 60
    planted = case.model_copy(update={"labs": case.labs.model_copy(update={"crcl_ml_min": 90})})
    assert {v.rule for v in checker.check_labs(kb, planted)} == {"lab_vs_disease"}


def test_planted_febrile_neutropenia_without_myelotoxic_drug(kb, find):
    case = find(
        "breast", lambda c: c.plan == "breast-met-hrpos-post" and c.reason == "systemic_start"
    )
    planted = case.model_copy(update={"reason": "toxicity", "complication": "febrile_neutropenia"})
    assert _rules(checker.check_complication(kb, planted)) == [
        ("complication_vs_treatment", "febrile_neutropenia")
    ]


def test_planted_concurrent_not_marked(kb, find):
    case = find("breast", lambda c: c.plan == "breast-met-hrpos-post")
    planted = case.model_copy(
        update={"treatments": [t.model_copy(update={"concurrent": False}) for t in case.treatments]}
    )
    assert _rules(checker.check_concurrency(planted)) == [("concurrent_vs_sequential", "")]


# --- reports -----------------------------------------------------------------------------


def test_report_text_sequential_wording_of_a_concurrent_combination(kb, find):
    case = find("breast", lambda c: c.plan == "breast-met-hrpos-post")
    text = "La RCP a retenu : létrozole, puis ribociclib."
    violations = checker.report_text_violations(kb, case, text, "fr")
    assert [v.rule for v in violations] == ["concurrent_vs_sequential"]
    together = "La RCP a retenu : létrozole + ribociclib (association concomitante)."
    assert checker.report_text_violations(kb, case, together, "fr") == []


def test_report_text_infusion_reaction_after_radiotherapy_and_lhrh(kb, find):
    case = find(
        "prostate", lambda c: c.plan == "prostate-rt-short-adt" and c.reason == "systemic_start"
    )
    text = "Première séance bien tolérée, pas de réaction à la perfusion."
    assert [v.rule for v in checker.report_text_violations(kb, case, text, "fr")] == [
        "complication_vs_treatment"
    ]


def test_report_text_bowel_transit_after_melanoma_excision(kb, find):
    case = find("melanoma", lambda c: c.reason == "surgery")
    text = "Suites opératoires simples, reprise du transit à J2."
    assert [v.rule for v in checker.report_text_violations(kb, case, text, "fr")] == [
        "complication_vs_treatment"
    ]


def test_report_text_febrile_neutropenia_without_chemotherapy(kb, find):
    case = find("prostate", lambda c: c.plan == "prostate-met-arpi" and c.reason == "complication")
    text = "Hospitalisation pour neutropénie fébrile."
    violations = checker.report_text_violations(kb, case, text, "fr")
    assert [(v.rule, v.ref) for v in violations] == [
        ("complication_vs_treatment", "febrile_neutropenia")
    ]


def test_report_text_normal_liver_tests_with_hcc(kb, find):
    case = find("liver")
    violations = checker.report_text_violations(kb, case, "Bilan hépatique normal.", "fr")
    assert [v.rule for v in violations] == ["lab_vs_disease"]


def test_report_annotations_age_and_forbidden_treatment(kb, find):
    case = find("lung", lambda c: c.histology == "squamous" and c.stage_group == "IV")
    annotations = [
        {"field": "age", "value": str(case.age + 2)},
        {"field": "treatment", "value": "carboplatine-pémétrexed", "modality": "chemotherapy"},
    ]
    rules = _rules(checker.annotation_violations(kb, case, annotations))
    assert ("age_vs_birth_date", "") in rules
    assert ("regimen_vs_histology", "pemetrexed-non-squamous-only") in rules


def test_drugs_in_text_reads_french_and_english_names(kb):
    assert checker.drugs_in_text(kb, "carboplatine + pémétrexed") == ["carboplatin", "pemetrexed"]
    assert checker.drugs_in_text(kb, "FOLFOX + bevacizumab") == ["bevacizumab"]
    assert checker.drugs_in_text(kb, "nab-paclitaxel") == ["nab_paclitaxel"]
