"""The correlated tables are reproduced by the draws (chi-square) and remove the
impossible combinations of independent draws."""

from collections import Counter

import pytest
from scipy.stats import chisquare

from tests.generation.clinical.conftest import draw_case

DRAWS = 3000


@pytest.fixture(scope="module")
def breast(kb, pop, frame):
    return [draw_case(kb, pop, frame, seed=i, site="breast") for i in range(DRAWS)]


@pytest.fixture(scope="module")
def lung(kb, pop, frame):
    return [draw_case(kb, pop, frame, seed=i, site="lung") for i in range(DRAWS)]


def _subtype(case) -> str:
    hr = "HR+" if case.biomarkers["HR"] == "positive" else "HR-"
    her2 = "HER2+" if case.biomarkers["HER2"] == "positive" else "HER2-"
    return f"{hr}/{her2}"


def test_breast_subtypes_reproduce_the_joint_table(breast, pop):
    counts = Counter(_subtype(case) for case in breast)
    table = pop.breast.subtypes.p
    keys = sorted(table)
    result = chisquare([counts[k] for k in keys], [table[k] * DRAWS for k in keys])
    assert result.pvalue > 0.001, counts
    triple_negative = counts["HR-/HER2-"] / DRAWS
    assert 0.10 <= triple_negative <= 0.15


def test_lung_drivers_are_exclusive_and_follow_smoking(lung, pop):
    adenocarcinomas = [c for c in lung if c.histology == "adenocarcinoma"]
    both = [
        c
        for c in adenocarcinomas
        if c.biomarkers["EGFR"] == "mutated" and c.biomarkers["ALK"] == "rearranged"
    ]
    assert both == []
    never = [c for c in adenocarcinomas if c.smoking == "never"]
    smokers = [c for c in adenocarcinomas if c.smoking != "never"]
    egfr = {
        group: sum(c.biomarkers["EGFR"] == "mutated" for c in cases) / len(cases)
        for group, cases in (("never", never), ("smokers", smokers))
    }
    assert egfr["never"] > 3 * egfr["smokers"]
    overall = sum(c.biomarkers["EGFR"] == "mutated" for c in adenocarcinomas) / len(adenocarcinomas)
    assert 0.08 <= overall <= 0.16  # IFCT Biomarqueurs France: ~11-12%


def test_lung_histology_given_smoking_reproduces_the_table(lung, pop):
    smokers = [c for c in lung if c.smoking == "current"]
    counts = Counter(c.histology for c in smokers)
    table = pop.lung.histology_by_smoking.p["current"]
    keys = sorted(table)
    expected = [table[k] * len(smokers) for k in keys]
    assert chisquare([counts[k] for k in keys], expected).pvalue > 0.001
    never = [c for c in lung if c.smoking == "never"]
    squamous_never = sum(c.histology == "squamous" for c in never) / len(never)
    squamous_current = counts["squamous"] / len(smokers)
    assert squamous_never < squamous_current / 2


def test_copd_follows_smoking(lung):
    rate = {
        status: sum("copd" in c.comorbidities for c in lung if c.smoking == status)
        / sum(c.smoking == status for c in lung)
        for status in ("never", "current")
    }
    assert rate["never"] < 0.10
    assert rate["current"] > 0.30


def test_menopause_follows_age(breast):
    women = [c for c in breast if c.sex == "F"]
    assert all(c.menopause == "post" for c in women if c.age >= 58)
    young = [c for c in women if c.age <= 44]
    assert sum(c.menopause == "pre" for c in young) / len(young) > 0.9
    assert all(c.menopause is None for c in breast if c.sex == "M")


def test_hypertension_rises_with_age(breast, lung):
    cases = breast + lung
    young = [c for c in cases if c.age <= 54]
    old = [c for c in cases if c.age >= 65]
    rate_young = sum("hypertension" in c.comorbidities for c in young) / len(young)
    rate_old = sum("hypertension" in c.comorbidities for c in old) / len(old)
    assert rate_young < 0.25
    assert 0.55 <= rate_old <= 0.69


def test_cardioneurovascular_prevalence_matches_cnam(breast, lung, pop):
    cases = breast + lung
    subtypes = set(pop.comorbidities.cardioneurovascular.subtypes)
    rate = sum(bool(subtypes & set(c.comorbidities)) for c in cases) / len(cases)
    assert 0.24 <= rate <= 0.30  # CNAM 2019: ~27%
    assert not any("cardiovascular_disease" in c.comorbidities for c in cases)
