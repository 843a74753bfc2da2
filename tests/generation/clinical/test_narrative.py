import pytest

from generation.clinical import checker, narrative


@pytest.mark.parametrize("language", ["fr", "en"])
def test_stay_text_of_every_sampled_case_passes_the_report_checks(kb, sample, language):
    broken = []
    for case in sample:
        text = narrative.stay_text(kb, case, language)
        violations = checker.report_text_violations(kb, case, text, language)
        if violations:
            broken.append((case.plan, case.reason, [v.detail for v in violations]))
    assert broken == []


def test_concurrent_combination_is_written_as_one(kb, find):
    case = find("breast", lambda c: c.plan == "breast-met-hrpos-post")
    assert narrative.strategy_text(case, "fr") == (
        "létrozole + ribociclib (en association concomitante)"
    )
    assert narrative.strategy_text(case, "en") == "letrozole + ribociclib (given concurrently)"


def test_sequence_is_written_in_order(kb, find):
    case = find("colorectal", lambda c: c.plan == "colon-iii-folfox")
    assert narrative.strategy_text(case, "fr") == (
        "colectomie + curage ganglionnaire, puis FOLFOX 6 mois"
    )


def test_course_by_reason(kb, find):
    excision = find("melanoma", lambda c: c.reason == "surgery")
    assert "transit" not in narrative.course_text(kb, excision, "fr")
    colectomy = find("colorectal", lambda c: c.reason == "surgery" and c.group == "colon")
    assert "reprise du transit" in narrative.course_text(kb, colectomy, "fr")
    radiotherapy = find(
        "prostate", lambda c: c.plan == "prostate-rt-short-adt" and c.reason == "systemic_start"
    )
    text = narrative.course_text(kb, radiotherapy, "fr")
    assert "perfusion" not in text
    assert "Première injection" in text


def test_liver_metastases_give_abnormal_liver_tests(kb, find):
    case = find("colorectal", lambda c: "liver" in c.metastatic_sites)
    assert "bilan hépatique perturbé" in narrative.labs_text(case, "fr")


def test_discharge_treatment_keeps_the_comorbidities_drugs(kb, find):
    case = find("lung", lambda c: {"copd", "diabetes"} <= set(c.comorbidities))
    text = narrative.discharge_treatment(kb, case, "fr")
    assert "tiotropium" in text
    assert "metformine" in text
    assert text.endswith("paracétamol 1 g jusqu'à 3 fois par jour si douleur")
