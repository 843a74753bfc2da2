"""Complications drawn with the knowledge base's sourced frequencies: toxicity by regimen
and drug class, complicated post-operative courses by procedure; the checker holds the
stay and the report to them."""

import random
from collections import Counter

import pytest
from scipy.stats import binomtest, chisquare

from generation.clinical import checker, draw, narrative
from tests.generation.clinical.conftest import draw_case

POSTOPERATIVE_DRAWS = 20000


def test_complication_rates_by_regimen_then_class_then_default(kb):
    folfirinox = [
        draw.Treatment(
            modality="chemotherapy",
            intent="palliative",
            regimen="FOLFIRINOX",
            regimen_en="FOLFIRINOX",
            drugs=["oxaliplatin", "irinotecan", "fluorouracil", "folinic_acid"],
            step=0,
        )
    ]
    docetaxel = [folfirinox[0].model_copy(update={"drugs": ["docetaxel"]})]
    doublet = [folfirinox[0].model_copy(update={"drugs": ["carboplatin", "paclitaxel"]})]
    assert draw.complication_options(kb, site="pancreas", step_treatments=folfirinox) == [
        "febrile_neutropenia",
        "irinotecan_diarrhoea",
    ]
    rate = draw.complication_rate(kb, "febrile_neutropenia", folfirinox)
    assert (rate.p, rate.source) == (0.054, "conroy-2011")
    rate = draw.complication_rate(kb, "irinotecan_diarrhoea", folfirinox)
    assert (rate.p, rate.source) == (0.127, "conroy-2011")
    rate = draw.complication_rate(kb, "febrile_neutropenia", docetaxel)
    assert (rate.p, rate.source) == (0.10, "revel-2014")
    rate = draw.complication_rate(kb, "febrile_neutropenia", doublet)
    assert (rate.p, rate.source) == (0.04, "assumption")
    # Oxaliplatin is not nephrotoxic: the cisplatin kidney injury needs cisplatin.
    assert "cisplatin_kidney_injury" not in draw.complication_options(
        kb, site="pancreas", step_treatments=folfirinox
    )


def test_folfirinox_toxicity_stays_follow_the_trial_frequencies(kb, pop, frame):
    causes = Counter()
    for seed in range(5000):
        case = draw_case(kb, pop, frame, seed=seed, site="pancreas")
        current = {
            d for t in case.treatments if t.step == case.timeline.current_step for d in t.drugs
        }
        if case.reason == "toxicity" and {"oxaliplatin", "irinotecan"} <= current:
            causes[case.complication] += 1
    total = sum(causes.values())
    assert total == 306
    assert set(causes) == {"febrile_neutropenia", "irinotecan_diarrhoea"}
    # PRODIGE 4: febrile neutropenia 5.4% and diarrhoea 12.7% (grade 3-4): 0.30 of the two.
    expected = [total * 0.054 / 0.181, total * 0.127 / 0.181]
    observed = [causes["febrile_neutropenia"], causes["irinotecan_diarrhoea"]]
    assert chisquare(observed, expected).pvalue > 0.001


@pytest.mark.parametrize(
    ("procedure", "rates"),
    [
        ("colectomy", {"anastomotic_leak": 0.087, "postoperative_ileus": 0.10}),
        ("lobectomy", {"prolonged_air_leak": 0.10, "postoperative_atrial_fibrillation": 0.08}),
        ("pancreaticoduodenectomy", {"pancreatic_fistula": 0.15}),
        ("radical_nephrectomy", {}),
    ],
)
def test_postoperative_courses_follow_their_rates(kb, procedure, rates):
    assert {key: rate.p for key, rate in draw.postoperative_options(kb, procedure)} == rates
    rng = random.Random(f"postoperative:{procedure}")
    counts = Counter(draw._postoperative(rng, kb, procedure) for _ in range(POSTOPERATIVE_DRAWS))
    assert sum(counts.values()) == POSTOPERATIVE_DRAWS
    uneventful = 1 - sum(rates.values())
    assert binomtest(counts[None], POSTOPERATIVE_DRAWS, uneventful).pvalue > 0.001 or not rates
    for key, p in rates.items():
        assert binomtest(counts[key], POSTOPERATIVE_DRAWS, p).pvalue > 0.001, (key, counts)
    if not rates:
        assert counts == {None: POSTOPERATIVE_DRAWS}


def test_sampled_surgery_stays_are_not_always_uneventful(kb, sample):
    surgery = [c for c in sample if c.reason == "surgery"]
    complicated = [c for c in surgery if c.postoperative]
    assert len(surgery) == 681
    assert Counter(c.postoperative for c in complicated) == {
        "anastomotic_leak": 13,
        "postoperative_ileus": 9,
        "postoperative_atrial_fibrillation": 2,
        "prolonged_air_leak": 1,
        "lymphocele": 1,
    }
    for case in complicated:
        assert checker.check_postoperative(kb, case) == []
        for language in ("fr", "en"):
            text = narrative.course_text(kb, case, language)
            assert text == getattr(kb.postoperative[case.postoperative], language)


def _rules(violations):
    return sorted({(v.rule, v.ref) for v in violations})


def test_planted_postoperative_course_of_another_procedure(kb, find):
    case = find("breast", lambda c: c.reason == "surgery" and c.postoperative is None)
    planted = case.model_copy(update={"postoperative": "anastomotic_leak"})
    violations = checker.check_postoperative(kb, planted)
    assert _rules(violations) == [("postoperative_vs_procedure", "anastomotic_leak")]
    assert "is no complication of" in violations[0].detail


def test_planted_postoperative_course_outside_surgery_and_too_short(kb, find):
    leak = find("colorectal", lambda c: c.postoperative == "anastomotic_leak")
    outside = leak.model_copy(update={"reason": "systemic_start"})
    assert _rules(checker.check_postoperative(kb, outside)) == [
        ("postoperative_vs_procedure", "anastomotic_leak")
    ]
    short = leak.model_copy(update={"discharge_date": leak.admission_date})
    violations = checker.check_postoperative(kb, short)
    assert _rules(violations) == [("postoperative_vs_procedure", "anastomotic_leak")]
    assert "0-day stay (at least 13)" in violations[0].detail


def test_report_text_uneventful_course_with_a_leak_and_a_leak_not_in_the_case(kb, find):
    leak = find("colorectal", lambda c: c.postoperative == "anastomotic_leak")
    text = "Suites opératoires simples, reprise du transit à J3."
    assert ("postoperative_vs_procedure", "anastomotic_leak") in _rules(
        checker.report_text_violations(kb, leak, text, "fr")
    )
    plain = find("colorectal", lambda c: c.reason == "surgery" and c.postoperative is None)
    text = "Suites marquées par une fistule anastomotique drainée."
    assert ("postoperative_vs_procedure", "anastomotic_leak") in _rules(
        checker.report_text_violations(kb, plain, text, "fr")
    )
