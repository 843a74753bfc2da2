"""The annotation audit's statistics against a hand-built fixture, each figure computed
again independently here (plain fractions and the textbook formulas), not by the module."""

from fractions import Fraction

import pandas as pd
import pytest

from review.stats import annotation_audit as audit

# Three reports, two reviewers. (report, annotation, field, R1's verdict, R2's verdict,
# does a corrected span overlap the model's for R1 / R2)
ITEMS = [
    ("A", 0, "age", "correct", "correct", False, False),
    ("A", 1, "tnm", "wrong_value", "wrong_value", False, False),
    ("A", 2, "ecog", "wrong_span", "correct", True, False),
    ("B", 0, "age", "not_in_text", "wrong_span", False, False),
    ("B", 1, "treatment", "correct", "correct", False, False),
    ("C", 0, "tnm", "correct", "wrong_value", False, False),
]
ADDED = [("A", "R1", "treatment"), ("C", "R2", "ecog"), ("C", "R2", "age")]


@pytest.fixture
def tables():
    rows = []
    for report, index, field, v1, v2, o1, o2 in ITEMS:
        rows.append((report, "R1", index, field, v1, o1))
        rows.append((report, "R2", index, field, v2, o2))
    verdicts = pd.DataFrame(rows, columns=audit.VERDICT_COLUMNS)
    added = pd.DataFrame(ADDED, columns=audit.ADDED_COLUMNS)
    return verdicts, added


def _by_hand(field=None):
    """Counts straight from the table in the module docstring, one verdict at a time."""
    judged = value = exact = overlap = found = 0
    for _report, _index, name, v1, v2, o1, o2 in ITEMS:
        if field and name != field:
            continue
        for verdict, overlaps in ((v1, o1), (v2, o2)):
            judged += 1
            value += verdict in ("correct", "wrong_span")
            exact += verdict in ("correct", "wrong_value")
            overlap += verdict in ("correct", "wrong_value") or (
                verdict == "wrong_span" and overlaps
            )
            found += verdict != "not_in_text"
    missed = sum(1 for _r, _w, name in ADDED if not field or name == field)
    return {
        "value_precision": Fraction(value, judged),
        "span_exact_precision": Fraction(exact, judged),
        "span_overlap_precision": Fraction(overlap, judged),
        "recall": Fraction(found, found + missed),
    }


def test_precision_and_recall_match_an_independent_count(tables):
    metrics = audit.audit_metrics(*tables, n_boot=0).set_index("field")
    assert list(metrics.index) == ["(all)", "age", "ecog", "tnm", "treatment"]
    # The hand count, written out: 8/12 values, 9/12 exact spans, 10/12 overlapping, 11/14.
    assert _by_hand() == {
        "value_precision": Fraction(8, 12),
        "span_exact_precision": Fraction(9, 12),
        "span_overlap_precision": Fraction(10, 12),
        "recall": Fraction(11, 14),
    }
    for field in ["(all)", "age", "ecog", "tnm", "treatment"]:
        expected = _by_hand(None if field == "(all)" else field)
        for metric, fraction in expected.items():
            assert metrics.loc[field, metric] == pytest.approx(float(fraction), abs=1e-12)
    assert metrics.loc["age", "value_precision"] == pytest.approx(3 / 4)
    assert metrics.loc["ecog", "recall"] == pytest.approx(2 / 3)
    assert metrics.loc["(all)", "n_verdicts"] == 12
    assert metrics.loc["(all)", "n_added"] == 3


def test_bootstrap_intervals_are_over_reports_and_seeded(tables):
    first = audit.audit_metrics(*tables, n_boot=500, seed=3).set_index("field")
    again = audit.audit_metrics(*tables, n_boot=500, seed=3).set_index("field")
    assert first.equals(again)
    row = first.loc["(all)"]
    for metric in audit.METRICS:
        assert 0 <= row[f"{metric}_ci_low"] <= row[metric] <= row[f"{metric}_ci_high"] <= 1
    # A report-level resample can only produce ratios of report totals: the lowest value
    # precision is that of report A or B or C alone (A 4/6, B 3/4, C 1/2) or a mix of them.
    assert row["value_precision_ci_low"] >= 0.5


def _fleiss_by_hand(counts: list[list[int]]) -> float:
    n = sum(counts[0])
    items = len(counts)
    p_i = [(sum(c * c for c in row) - n) / (n * (n - 1)) for row in counts]
    totals = [sum(row[j] for row in counts) for j in range(len(counts[0]))]
    p_j = [t / (items * n) for t in totals]
    p_bar, p_e = sum(p_i) / items, sum(p * p for p in p_j)
    return (p_bar - p_e) / (1 - p_e)


def _alpha_by_hand(pairs: list[tuple[str, str]]) -> float:
    """Krippendorff's nominal alpha from the coincidence matrix, two coders, no gaps."""
    coincidences: dict[tuple[str, str], int] = {}
    for a, b in pairs:
        coincidences[(a, b)] = coincidences.get((a, b), 0) + 1
        coincidences[(b, a)] = coincidences.get((b, a), 0) + 1
    n = 2 * len(pairs)
    marginals: dict[str, int] = {}
    for (a, _b), count in coincidences.items():
        marginals[a] = marginals.get(a, 0) + count
    observed = sum(c for (a, b), c in coincidences.items() if a != b) / n
    expected = (n * n - sum(m * m for m in marginals.values())) / (n * (n - 1))
    return 1 - observed / expected


def test_kappa_and_alpha_match_the_textbook_formulas(tables):
    result = audit.verdict_agreement(tables[0])
    order = list(audit.VERDICTS)
    counts = []
    for *_head, v1, v2, _o1, _o2 in ITEMS:
        row = [0] * len(order)
        row[order.index(v1)] += 1
        row[order.index(v2)] += 1
        counts.append(row)
    assert _fleiss_by_hand(counts) == pytest.approx(11 / 47)
    assert result["fleiss_kappa"] == pytest.approx(11 / 47, abs=1e-12)
    assert _alpha_by_hand([(v1, v2) for *_h, v1, v2, _a, _b in ITEMS]) == pytest.approx(14 / 47)
    assert result["krippendorff_alpha"] == pytest.approx(14 / 47, abs=1e-12)
    assert result["percent_agreement"] == 0.5
    assert (result["fleiss_items"], result["fleiss_raters"], result["n_items"]) == (6, 2, 6)


def test_breakdown_and_most_wrong_fields(tables):
    reports = pd.DataFrame([("A", "m1"), ("B", "m1"), ("C", "m2")], columns=["report", "model"])
    rows = audit.audit_breakdown(*tables, reports, by="model").set_index("model")
    assert rows.loc["m2", "value_precision"] == pytest.approx(1 / 2)
    assert rows.loc["m2", "recall"] == pytest.approx(2 / 4)
    assert rows.loc["m1", "value_precision"] == pytest.approx(7 / 10)
    assert rows.loc["m1", "n_reports"] == 2
    metrics = audit.audit_metrics(*tables, n_boot=0)
    assert audit.most_wrong_fields(metrics) == ["tnm", "age"]
