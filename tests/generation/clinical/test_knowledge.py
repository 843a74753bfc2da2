import copy

import pytest

from generation.clinical import knowledge


@pytest.fixture(scope="module")
def data():
    return knowledge.knowledge_parse_text(knowledge.default_knowledge_text())


def _errors(data) -> list[str]:
    with pytest.raises(knowledge.KnowledgeInvalid) as info:
        knowledge.knowledge_validate(data)
    return info.value.errors


def _plan(data, plan_id):
    return next(p for p in data["plans"] if p["id"] == plan_id)


def test_default_knowledge_base_is_valid_and_sourced(kb):
    assert kb.label == "oncology-fr@2"
    assert len(kb.plans) == 134
    assert len(kb.rules) == 51
    assert len(kb.sequences) == 5
    assert len(kb.postoperative) == 7
    cited = {p.source for p in kb.plans} | {r.source for r in kb.rules}
    cited |= {q.source for q in kb.sequences}
    cited |= {r.source for c in kb.complications.values() for r in c.rates}
    cited |= {r.source for c in kb.postoperative.values() for r in c.rates}
    assert cited <= set(kb.sources)
    assert all(source.year >= 2010 for source in kb.sources.values())


def test_wrong_drug_name_is_a_clear_error(data):
    broken = copy.deepcopy(data)
    _plan(broken, "bladder-mibc-ddmvac")["steps"][0]["drugs"] = ["methotrexate", "cisplatine"]
    assert _errors(broken) == [
        "plan bladder-mibc-ddmvac.steps[0]: unknown drug 'cisplatine' "
        "(not in the controlled list 'drugs')"
    ]


def test_unknown_biomarker_is_a_clear_error(data):
    broken = copy.deepcopy(data)
    _plan(broken, "nsclc-iv-pembro-mono")["requires"]["biomarkers"]["PDL1"] = [">50"]
    errors = _errors(broken)
    assert len(errors) == 1
    assert errors[0].startswith(
        "plan nsclc-iv-pembro-mono.requires.biomarkers: unknown biomarker 'PDL1'; "
        "known biomarkers: ALK, BRAF, EGFR, Grade Group, HER2, HR, MSI, PD-L1 CPS"
    )


def test_unknown_biomarker_value_is_a_clear_error(data):
    broken = copy.deepcopy(data)
    _plan(broken, "breast-met-tn-cps10")["requires"]["biomarkers"]["PD-L1 CPS"] = [">=10"]
    assert _errors(broken) == [
        "plan breast-met-tn-cps10.requires.biomarkers.PD-L1 CPS: unknown value '>=10'; "
        "expected one of '≥10', '<10' or 'not tested'"
    ]


def test_plan_without_eligibility_is_a_clear_error(data):
    broken = copy.deepcopy(data)
    del _plan(broken, "pancreas-advanced-folfirinox")["requires"]
    errors = _errors(broken)
    assert errors == [
        "plan pancreas-advanced-folfirinox: Value error, the plan states no eligibility: "
        "add `requires` with at least `ecog_max`"
    ]


def test_plan_without_performance_status_limit_is_an_error(data):
    broken = copy.deepcopy(data)
    _plan(broken, "kidney-partial")["requires"] = {}
    assert _errors(broken) == [
        "plan kidney-partial.requires: state the performance status limit (ecog_max)"
    ]


def test_plan_laxer_than_its_drugs_is_an_error(data):
    # dd-MVAC without the cisplatin-eligibility check (Galsky 2011): creatinine clearance.
    broken = copy.deepcopy(data)
    del _plan(broken, "bladder-mibc-ddmvac")["requires"]["crcl_min"]
    assert _errors(broken) == [
        "plan bladder-mibc-ddmvac.requires.crcl_min: cisplatin requires crcl_min 60, "
        "the plan says nothing",
        "plan bladder-mibc-ddmvac.requires.crcl_min: dd-mvac requires crcl_min 60, "
        "the plan says nothing",
    ]


def test_tnm_table_must_give_its_stage(data):
    broken = copy.deepcopy(data)
    broken["sites"]["head_and_neck"]["tnm"]["III"].append("T4aN2bM0")
    assert _errors(broken) == [
        "sites.head_and_neck.tnm.III: T4aN2bM0 is stage IV (AJCC 8th), not III"
    ]


def test_setting_without_a_fallback_for_unfit_patients_is_an_error(data):
    broken = copy.deepcopy(data)
    broken["plans"] = [p for p in broken["plans"] if p["id"] != "pancreas-bsc"]
    errors = _errors(broken)
    assert errors[0].startswith(
        "sites.pancreas: no plan (not even a fallback) for an unfit patient with "
        "ductal_adenocarcinoma stage IA"
    )


def test_plan_breaking_a_rule_is_an_error(data):
    broken = copy.deepcopy(data)
    plan = _plan(broken, "nsclc-iv-sq-chemo-io")
    plan["steps"][0]["together"][0]["drugs"] = ["carboplatin", "pemetrexed"]
    plan["requires"]["crcl_min"] = 45
    errors = _errors(broken)
    assert errors
    assert all(
        "plan nsclc-iv-sq-chemo-io breaks rule pemetrexed-non-squamous-only" in e for e in errors
    )


def test_unknown_source_is_an_error(data):
    broken = copy.deepcopy(data)
    _plan(broken, "kidney-partial")["source"] = "esmo-rcc-2099"
    assert _errors(broken) == [
        "plan kidney-partial.source: 'esmo-rcc-2099' is not a key of 'sources'"
    ]


def test_invalid_yaml_is_a_clear_error():
    with pytest.raises(knowledge.KnowledgeInvalid) as info:
        knowledge.knowledge_parse_text("plans: [\n")
    assert info.value.errors[0].startswith("The file is not valid YAML:")


# --- knowledge base 2: lines, complication frequencies, risk groups ----------------------


def test_plan_breaking_a_line_sequence_is_an_error(data):
    broken = copy.deepcopy(data)
    prior = _plan(broken, "crc-met-2l-folfiri-bev")["prior"][0]["together"][0]
    prior["drugs"] = ["capecitabine"]
    prior.pop("name")
    _plan(broken, "crc-met-2l-folfiri-bev")["requires"]["crcl_min"] = 30
    errors = _errors(broken)
    assert errors
    assert all(
        "plan crc-met-2l-folfiri-bev breaks the line order crc-folfiri-after-folfox" in e
        for e in errors
    )


def test_prior_line_not_before_the_plan_is_an_error(data):
    broken = copy.deepcopy(data)
    _plan(broken, "nsclc-iv-2l-docetaxel-sq")["prior"][0]["together"][1]["line"] = 2
    assert _errors(broken) == [
        "plan nsclc-iv-2l-docetaxel-sq.prior: every prior treatment states a line lower than "
        "the plan's"
    ]


def test_sequence_with_a_wrong_drug_name_is_an_error(data):
    broken = copy.deepcopy(data)
    broken["sequences"][1]["later"]["drugs"] = ["irinotecane"]
    assert _errors(broken) == ["sequence crc-folfiri-after-folfox: unknown drug 'irinotecane'"]


def test_complication_rates_must_be_sourced_and_end_with_a_default(data):
    broken = copy.deepcopy(data)
    rates = broken["complications"]["febrile_neutropenia"]["rates"]
    rates[0]["source"] = "prodige-4"
    rates.pop()
    assert _errors(broken) == [
        "complications.febrile_neutropenia.rates[0].source: 'prodige-4' is not a key of 'sources'",
        "complications.febrile_neutropenia.rates[1]: rates are regimens or drug classes, then "
        "one default rate (without drugs_all or drug_class) last",
    ]


def test_postoperative_rates_name_a_known_procedure_and_stay_below_one(data):
    broken = copy.deepcopy(data)
    rates = broken["postoperative"]["anastomotic_leak"]["rates"]
    rates[0]["procedure"] = "hemicolectomy"
    assert _errors(broken) == [
        "postoperative.anastomotic_leak.rates[0]: unknown procedure 'hemicolectomy'",
    ]
    fixed = copy.deepcopy(data)
    fixed["postoperative"]["postoperative_ileus"]["rates"][0]["p"] = 0.95
    assert _errors(fixed) == ["postoperative: complications of colectomy add up to 1.04 > 1"]


def test_prostate_entry_without_its_staging_factors_is_an_error(data):
    broken = copy.deepcopy(data)
    broken["sites"]["prostate"]["tnm"]["I"].append("T2aN0M0 PSA<10")
    assert _errors(broken) == [
        "sites.prostate.tnm.I: 'T2aN0M0 PSA<10': the prostate stage needs Grade Group (AJCC 8th)"
    ]
    wrong = copy.deepcopy(data)
    _plan(wrong, "prostate-rp")["requires"]["risk"] = ["very_low"]
    assert _errors(wrong) == ["plan prostate-rp.requires.risk: unknown risk group 'very_low'"]
