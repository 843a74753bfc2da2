"""Coherence per source: an incoherent report (age against birth date, dates out of order,
a doubled name, a title disagreeing with "né"/"née") tells its source when one source has
more of them, and lowers that source's medical-consistency scores, biasing the study's
headline comparison. Measured with the same checker imports and generation run."""

from __future__ import annotations

from typing import Any

from scipy.stats import fisher_exact

from review.coherence import report_coherence_check

# A difference in incoherent reports this unlikely by chance is a leak, as for tokens.
COHERENCE_P_VALUE = 0.01


def coherence_counts(reports: list[tuple[str, str, str]]) -> dict[str, tuple[int, int, str]]:
    """Per source: (incoherent reports, reports, an example problem) from (text, language,
    source) triples."""
    counts: dict[str, list[Any]] = {}
    for text, language, source in reports:
        entry = counts.setdefault(source, [0, 0, ""])
        entry[1] += 1
        problems = report_coherence_check(text=text, language=language)
        if problems:
            entry[0] += 1
            entry[2] = entry[2] or f"{problems[0].code}: {problems[0].detail}"
    return {source: (a, n, example) for source, (a, n, example) in counts.items()}


def coherence_decision(
    counts: dict[str, tuple[int, int, str]],
) -> tuple[str | None, str, float | None]:
    """(severity or None, message, Fisher p) for the incoherent reports per source."""
    real = counts.get("real", (0, 0, ""))
    synthetic = counts.get("synthetic", (0, 0, ""))
    if real[0] == 0 and synthetic[0] == 0:
        return None, "", None
    p_value = float(
        fisher_exact([[real[0], real[1] - real[0]], [synthetic[0], synthetic[1] - synthetic[0]]])[1]
    )
    example = real[2] or synthetic[2]
    message = (
        f"incoherent reports: {real[0]}/{real[1]} real, {synthetic[0]}/{synthetic[1]} synthetic "
        f"(Fisher p={p_value:.2g}; e.g. {example})"
    )
    return ("leak" if p_value < COHERENCE_P_VALUE else "warning"), message, p_value
