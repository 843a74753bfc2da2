"""Later treatment lines of metastatic disease: prior lines given and dated before the
progression that opened the current line, in the guideline's order (knowledge base
`sequences`); sampled scenarios never break it and planted breaches are flagged."""

import datetime as dt

import pytest

from generation.clinical import checker
from tests.generation.clinical.conftest import draw_case

LATER_LINE_PLANS = {
    "nsclc-iv-2l-docetaxel-nonsq",
    "nsclc-iv-2l-docetaxel-sq",
    "crc-met-2l-folfiri-bev",
    "breast-met-hrpos-2l-fulvestrant",
    "breast-met-hrpos-2l-capecitabine",
    "prostate-crpc-2l-docetaxel",
}
WANTED = 300


@pytest.fixture(scope="module")
def later_lines(kb, pop, frame):
    """The first 300 later-line scenarios of seeded draws over the four sites that have them."""
    found = []
    sites = ("lung", "colorectal", "breast", "prostate")
    seed = 0
    while len(found) < WANTED:
        case = draw_case(kb, pop, frame, seed=seed, site=sites[seed % len(sites)])
        if case.plan in LATER_LINE_PLANS:
            found.append(case)
        seed += 1
    return found


def _rules(violations):
    return sorted({(v.rule, v.ref) for v in violations})


def test_sampled_later_lines_break_no_rule(kb, later_lines):
    assert len(later_lines) == WANTED
    assert {case.plan for case in later_lines} == LATER_LINE_PLANS
    broken = [(c.plan, checker.scenario_violations(kb, c)) for c in later_lines]
    assert [b for b in broken if b[1]] == []


def test_sampled_later_lines_have_a_consistent_timeline(later_lines):
    for case in later_lines:
        diagnosis = dt.date.fromisoformat(case.timeline.diagnosis_date)
        progression = dt.date.fromisoformat(case.timeline.progression_date)
        admission = dt.date.fromisoformat(case.admission_date)
        first = [t for t in case.treatments if t.line == 1]
        second = [t for t in case.treatments if t.line == 2]
        assert first and second
        assert all(t.status == "done" for t in first)
        assert all(t.status == "current" for t in second)
        first_start = dt.date.fromisoformat(first[0].start_date)
        second_start = dt.date.fromisoformat(second[0].start_date)
        assert diagnosis < first_start < progression < second_start <= admission
        # A first line lasts months before it progresses (knowledge-base assumption).
        assert (progression - first_start).days >= 150
        assert case.reason in ("systemic_start", "toxicity", "complication")


def test_later_line_drugs_follow_the_guideline_sequence(later_lines):
    for case in later_lines:
        first = {d for t in case.treatments if t.line == 1 for d in t.drugs}
        second = {d for t in case.treatments if t.line == 2 for d in t.drugs}
        if "docetaxel" in second and case.site == "lung":
            assert first & {"carboplatin", "cisplatin"} and "pembrolizumab" in first
        if "irinotecan" in second:
            assert {"oxaliplatin", "bevacizumab"} <= first
        if "fulvestrant" in second:
            assert {"letrozole", "ribociclib"} <= first
        if case.site == "prostate":
            assert {"triptorelin", "enzalutamide"} <= first
            assert {"triptorelin", "docetaxel"} <= second


def _with_drugs(case, line: int, old: str, new: list[str]):
    treatments = [
        t.model_copy(update={"drugs": new}) if t.line == line and old in t.drugs else t
        for t in case.treatments
    ]
    return case.model_copy(update={"treatments": treatments})


def test_planted_docetaxel_without_prior_platinum(kb, later_lines):
    case = next(c for c in later_lines if c.plan == "nsclc-iv-2l-docetaxel-nonsq")
    planted = _with_drugs(case, 1, "carboplatin", ["pemetrexed"])
    assert ("line_sequence", "nsclc-docetaxel-after-platinum") in _rules(
        checker.check_lines(kb, planted)
    )


def test_planted_folfiri_after_folfiri(kb, later_lines):
    case = next(c for c in later_lines if c.plan == "crc-met-2l-folfiri-bev")
    planted = _with_drugs(case, 1, "oxaliplatin", ["irinotecan", "fluorouracil", "folinic_acid"])
    violations = checker.check_lines(kb, planted)
    assert _rules(violations) == [
        ("line_sequence", ""),
        ("line_sequence", "crc-folfiri-after-folfox"),
    ]
    assert any("line 2 repeats line 1" in v.detail for v in violations)


def test_planted_fulvestrant_without_cdk46_inhibitor(kb, later_lines):
    case = next(c for c in later_lines if c.plan == "breast-met-hrpos-2l-fulvestrant")
    planted = case.model_copy(
        update={"treatments": [t for t in case.treatments if "ribociclib" not in t.drugs]}
    )
    assert _rules(checker.check_lines(kb, planted)) == [
        ("line_sequence", "breast-fulvestrant-after-ai-cdk46")
    ]


def test_planted_second_line_without_first_line(kb, later_lines):
    case = next(c for c in later_lines if c.plan == "prostate-crpc-2l-docetaxel")
    planted = case.model_copy(update={"treatments": [t for t in case.treatments if t.line != 1]})
    details = [v.detail for v in checker.check_lines(kb, planted) if v.rule == "line_sequence"]
    assert "line 2 without a line 1 before it" in details


def test_planted_prior_line_not_given_and_progression_out_of_order(kb, later_lines):
    case = next(c for c in later_lines if c.plan == "crc-met-2l-folfiri-bev")
    pending = case.model_copy(
        update={
            "treatments": [
                t.model_copy(update={"status": "planned", "start_date": None}) if t.line == 1 else t
                for t in case.treatments
            ]
        }
    )
    assert ("line_sequence", "") in _rules(checker.check_lines(kb, pending))
    late = case.timeline.model_copy(update={"progression_date": case.discharge_date})
    planted = case.model_copy(update={"timeline": late})
    assert _rules(checker.check_lines(kb, planted)) == [("dates_order", "")]
    undated = case.model_copy(
        update={"timeline": case.timeline.model_copy(update={"progression_date": None})}
    )
    assert _rules(checker.check_lines(kb, undated)) == [("line_sequence", "")]
