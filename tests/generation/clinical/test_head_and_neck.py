"""Oropharynx: the p16-positive (HPV-mediated) share of the frame (PAPILLOPHAR, 43.1%) and
the AJCC 8th p16+ staging table they are staged with."""

from collections import Counter

import pytest
from scipy.stats import binomtest

from generation.clinical import checker, tnm
from tests.generation.clinical.conftest import draw_case

DRAWS = 2000
P16_POSITIVE_STAGES = {"I", "II", "III", "IV"}  # AJCC 8th HPV-mediated: no IVA/IVB/IVC


@pytest.fixture(scope="module")
def oropharynx(kb, pop, frame):
    return [draw_case(kb, pop, frame, seed=i, site="head_and_neck") for i in range(DRAWS)]


def test_p16_share_reproduces_the_french_figure(oropharynx, pop):
    counts = Counter(case.biomarkers["p16"] for case in oropharynx)
    assert counts["positive"] + counts["negative"] == DRAWS
    assert pop.head_and_neck.p16_positive.p == 0.43
    assert binomtest(counts["positive"], DRAWS, 0.43).pvalue > 0.001, counts


def test_p16_positive_tumours_use_the_hpv_mediated_table(kb, oropharynx):
    positive = [c for c in oropharynx if c.biomarkers["p16"] == "positive"]
    negative = [c for c in oropharynx if c.biomarkers["p16"] == "negative"]
    assert {c.stage for c in positive} <= P16_POSITIVE_STAGES
    assert {c.stage for c in negative} & {"IVA", "IVB", "IVC"}
    for case in positive:
        parsed = tnm.tnm_parse(case.tnm)
        assert not parsed.t.startswith(("T4a", "T4b"))  # p16+: T4 is not subdivided
        assert parsed.n in ("N0", "N1", "N2", "N3")
        assert case.stage == tnm.stage_from_tnm(
            site="head_and_neck", tnm=parsed, biomarkers={"p16": "positive"}
        )
    assert [checker.scenario_violations(kb, c) for c in oropharynx] == [[]] * DRAWS


def test_planted_p16_positive_staged_with_the_p16_negative_table(kb, oropharynx):
    case = next(c for c in oropharynx if c.biomarkers["p16"] == "positive" and c.tnm[1:3] == "T4")
    assert case.stage == "III"
    planted = case.model_copy(update={"stage": "IVA", "stage_group": "IV"})
    violations = checker.check_tnm(kb, planted)
    assert [(v.rule, v.ref) for v in violations] == [("stage_vs_tnm", "ajcc8")]
    assert "is stage III, not IVA" in violations[0].detail
