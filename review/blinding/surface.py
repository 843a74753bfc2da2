"""Surface cues: how real and synthetic reports differ in the writing itself.

Length, section headings and leftover placeholders, measured on the text as reviewers see
it (through `presentation.report_blocks`) and compared per source. A difference here is
not a leak of the software but something a coordinator must know before opening a study:
reviewers may guess the source from it. Shown on the study page and in the leak audit.
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import mannwhitneyu

from review.blinding.presentation import report_blocks
from review.imports.placeholders import placeholders_find
from review.models import Study

# A cue warns when one source's median is SURFACE_RATIO times the other's, or when the
# difference is unlikely by chance (p < WARN_P_VALUE), large in ranks (|r| >= SURFACE_EFFECT)
# and large enough for a reader to notice (SURFACE_MIN_LENGTH_RATIO, one section).
# WARN_P_VALUE is also the audit's warning threshold for codes and queue positions.
WARN_P_VALUE = 0.01
# Length or sections separate the sources when the rank-biserial |r| reaches this (and
# chance does not explain it, p < WARN_P_VALUE): a leak in the audit unless accepted.
SEPARATION_EFFECT = 0.5
SURFACE_RATIO = 1.5
SURFACE_EFFECT = 0.5
SURFACE_MIN_LENGTH_RATIO = 1.2


@dataclass
class SurfaceCue:
    name: str
    real_median: float
    synthetic_median: float
    ratio: float
    p_value: float | None
    effect: float | None
    warn: bool
    note: str = ""

    @property
    def separates(self) -> bool:
        """Length or sections that tell the sources apart (|r| >= 0.5, p < 0.01) by a
        difference a reader notices (lengths 1.2 times apart, a section or more): a
        consistent one-character difference separates in ranks but nobody sees it."""
        if self.name not in ("length", "sections") or self.p_value is None:
            return False
        noticeable = (
            self.ratio >= SURFACE_MIN_LENGTH_RATIO
            if self.name == "length"
            else abs(self.real_median - self.synthetic_median) >= 1
        )
        return (
            noticeable
            and self.effect is not None
            and self.p_value < WARN_P_VALUE
            and abs(self.effect) >= SEPARATION_EFFECT
        )


def rank_biserial(a: list[float], b: list[float]) -> tuple[float | None, float | None]:
    """Mann-Whitney p-value and rank-biserial r of a against b; (None, None) when the test
    says nothing (fewer than two values on a side, or every value equal)."""
    if len(a) < 2 or len(b) < 2 or len(set(a) | set(b)) < 2:
        return None, None
    result = mannwhitneyu(a, b, alternative="two-sided")
    effect = 2 * float(result.statistic) / (len(a) * len(b)) - 1
    return float(result.pvalue), effect


def surface_cues(*, study: Study) -> list[SurfaceCue]:
    """Length, sections and leftover placeholders per source, as reviewers will see them."""
    values: dict[str, dict[str, list[float]]] = {
        name: {"real": [], "synthetic": []} for name in ("length", "sections", "placeholders")
    }
    for text, language, source in study.reports.values_list("text", "language", "source"):
        blocks = report_blocks(text, language=language)
        shown = "\n".join(block.text or " ".join(block.items) for block in blocks)
        values["length"][source].append(float(len(shown)))
        values["sections"][source].append(float(sum(b.kind == "heading" for b in blocks)))
        values["placeholders"][source].append(float(len(placeholders_find(text))))
    cues = []
    for name, by_source in values.items():
        real, synthetic = by_source["real"], by_source["synthetic"]
        if not real or not synthetic:
            continue
        real_median, synthetic_median = float(np.median(real)), float(np.median(synthetic))
        low, high = sorted((real_median, synthetic_median))
        ratio = high / low if low else (float("inf") if high else 1.0)
        p_value, effect = rank_biserial(real, synthetic)
        if name == "placeholders":
            leftovers = sum(1 for value in real + synthetic if value)
            cue = SurfaceCue(
                name=name,
                real_median=real_median,
                synthetic_median=synthetic_median,
                ratio=ratio,
                p_value=p_value,
                effect=effect,
                warn=leftovers > 0,
                note=f"{leftovers} report(s) still contain placeholders" if leftovers else "",
            )
        else:
            # Systematic but imperceptible differences (one character) are not worth a warning.
            noticeable = (
                ratio >= SURFACE_MIN_LENGTH_RATIO
                if name == "length"
                else abs(real_median - synthetic_median) >= 1
            )
            strong = (
                p_value is not None
                and p_value < WARN_P_VALUE
                and abs(effect or 0) >= SURFACE_EFFECT
                and noticeable
            )
            cue = SurfaceCue(
                name=name,
                real_median=real_median,
                synthetic_median=synthetic_median,
                ratio=ratio,
                p_value=p_value,
                effect=effect,
                warn=ratio > SURFACE_RATIO or strong,
            )
        cues.append(cue)
    return cues
