"""The audit's figures in plain words, for the page and the command.

A coordinator reads "queue position p=0.63" as noise; what they need is what it means:
whether reviewers could infer a report's source from where it sits in their queue, from
its code, from the look of its text.
"""

from typing import Any

from review.blinding.audit.findings import CLASSIFIER_P_VALUE, permutations_decisive
from review.blinding.surface import WARN_P_VALUE

_ORDER_CHECKS = {
    "queue position": (
        "Queue positions",
        "real and synthetic reports sit at the same places in reviewers' queues",
        "real and synthetic reports sit at different places in reviewers' queues",
    ),
    "assignment code": (
        "Assignment codes",
        "the codes in reviewers' links say nothing about the source",
        "the codes in reviewers' links differ by source",
    ),
    "report code": (
        "Report codes",
        "the codes shown on each report say nothing about the source",
        "the codes shown on each report differ by source",
    ),
}


def _p(value: Any) -> str:
    return f"p={value:.2g}" if isinstance(value, float) else "p not computed"


def statistics_explained(statistics: dict[str, Any]) -> list[str]:
    """One sentence per figure the audit computed, saying what it means for blinding."""
    lines: list[str] = []
    for key, (label, same, different) in _ORDER_CHECKS.items():
        p_value, effect = statistics.get(f"{key} p"), statistics.get(f"{key} r")
        if p_value is None:
            continue
        verdict = same if p_value >= WARN_P_VALUE else different
        lines.append(
            f"{label}: {verdict} (Mann-Whitney {_p(p_value)}, rank-biserial r={effect:.2f}; "
            f"a pattern would show as p below {WARN_P_VALUE})."
        )
    if "classifier accuracy" in statistics:
        accuracy = statistics["classifier accuracy"]
        chance = statistics["classifier chance"]
        permutations = statistics.get("classifier permutations", 0)
        line = (
            f"A classifier guessing the source from report codes and queue positions is right "
            f"{accuracy:.0%} of the time, against {chance:.0%} by always answering the larger "
            f"source ({_p(statistics.get('classifier p'))})"
        )
        if not permutations_decisive(permutations):
            line += (
                f"; with {permutations} permutations p cannot go below {CLASSIFIER_P_VALUE}, "
                "so this run cannot call it a leak (100 permutations are needed)"
            )
        lines.append(line + ".")
    if "formatting AUC" in statistics:
        auc = statistics["formatting AUC"]
        lines.append(
            f"A classifier reading only the typography of the text (words and numbers masked) "
            f"ranks a synthetic report above a real one {auc:.0%} of the time (AUC {auc:.2f}: "
            f"50% is guessing, 100% is perfect separation; {_p(statistics.get('formatting p'))}"
            f"; a leak from AUC 0.75 with p below 0.01)."
        )
    elif "formatting" in statistics:
        lines.append(f"Typography classifier {statistics['formatting']}.")
    if "incoherent real" in statistics or "incoherent synthetic" in statistics:
        lines.append(
            "Reports whose dates, ages or names do not hold together: "
            f"{statistics.get('incoherent real', '0/0')} real, "
            f"{statistics.get('incoherent synthetic', '0/0')} synthetic."
        )
    return lines
