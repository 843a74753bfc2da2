"""The coherence checker: does a report's administrative story hold together?

Run on every imported report (after surrogates) and every generated one, and counted per
source by the blinding audit. An incoherent report (a birth date that contradicts the stated
age, a follow-up before the admission, "Monsieur Salmon Salmon", "né(e)") both lowers its
medical-consistency score and tells its source; if one source has more of them, the study's
headline comparison is biased.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from review.surrogates import age_on
from review.timeline import DateMention, Timeline, lower_case, timeline_build

# A title, an optional first name, then one name twice, in any case: "\b(?:Madame|Monsieur|
# Mme|Mlle|M\.|Dr|Docteur|Pr|Mrs|Mr|Ms)\s+(?:[A-ZÀ-Ý][\w'-]*\s+)?([A-ZÀ-Ý][\w'-]+)\s+\1\b" with
# IGNORECASE, written so that it opens with a class of the titles' first letters: `re` then
# jumps from one M, D or P to the next instead of trying the pattern at every position
# (95 -> 44 µs per report of 2,500 characters). (?<!\w.) is the \b before that letter; a
# look-behind per letter keeps its own titles. tests/review/imports/test_scan_prefilters.py
# holds it to the pattern above.
_REPEATED_NAME = re.compile(
    r"[MmDdPp](?<!\w.)"
    r"(?i:(?<=[Mm])(?:adame|onsieur|me|lle|\.|rs|r|s)|(?<=[Dd])(?:r|octeur)|(?<=[Pp])r)"
    r"(?i:\s+(?:[A-ZÀ-Ý][\w'-]*\s+)?([A-ZÀ-Ý][\w'-]+)\s+\1\b)"
)
# The other patterns open with a look-ahead on their first letters (see review.timeline).
_UNRESOLVED_AGREEMENT = re.compile(
    r"(?=[npâhas])\b(?:né|patient|âgé|hospitalisé|adressé|admis|sorti)\(e\)", re.IGNORECASE
)
# Within one sentence: a title of one sex with the other's participle.
_FEMALE_TITLE_MALE_BIRTH = re.compile(r"(?=m)\b(?:Madame|Mme)\b[^.\n]{0,80}?\bné\s+le\b", re.I)
_MALE_TITLE_FEMALE_BIRTH = re.compile(r"(?=m)\b(?:Monsieur|M\.)\s[^.\n]{0,80}?\bnée\s+le\b", re.I)
# What every match of a pattern contains, in any case (only "e"/"E", "n"/"N" and "é"/"É" match
# one another case-insensitively): a report without it is not scanned (`in` is 100x faster).
# Looked for in the text's lower case, where only those give "e", "n" and "é".
_AGREEMENT_NEEDS = "(e)"
_BIRTH_NEEDS = "né"


@dataclass(frozen=True)
class CoherenceProblem:
    code: str  # age_mismatch, birth_after_stay, date_order, repeated_name, agreement
    detail: str


def _age_problems(timeline: Timeline) -> list[CoherenceProblem]:
    birth, age, stay = timeline.birth, timeline.age, timeline.stay_start
    if birth is None or age is None or stay is None:
        return []
    actual = age_on(birth, stay)
    # One year of slack: the age may be stated at diagnosis or at a consultation.
    if abs(actual - age) <= 1:
        return []
    return [
        CoherenceProblem(
            "age_mismatch",
            f"stated age {age} but born {birth.isoformat()}: {actual} on {stay.isoformat()}",
        )
    ]


def _later_than(mention: DateMention, day: dt.date) -> bool:
    """Is the mention certainly after `day`, at the precision it was written with?"""
    if mention.precision == "year":
        return mention.day.year > day.year
    if mention.precision == "month":
        return (mention.day.year, mention.day.month) > (day.year, day.month)
    return mention.day > day


def _order_problems(timeline: Timeline) -> list[CoherenceProblem]:
    problems = []
    birth = timeline.birth
    others = [m for m in timeline.dates if m.role != "birth"]
    if birth is not None and any(m.day <= birth for m in others):
        first = min(m.day for m in others)
        problems.append(
            CoherenceProblem(
                "birth_after_stay", f"birth {birth.isoformat()} not before {first.isoformat()}"
            )
        )
    days = {
        role: [m.day for m in timeline.of_role(role)]
        for role in ("admission", "discharge", "followup", "letter")
    }
    # The chronology of a stay: admission ≤ discharge ≤ follow-up; a letter not before admission.
    pairs = (
        ("admission", "discharge"),
        ("admission", "followup"),
        ("discharge", "followup"),
        ("admission", "letter"),
    )
    # History (diagnosis, earlier lines, "depuis 2019") comes before the admission, each
    # date compared at its own precision: "en mars 2024" is not after 2024-03-12.
    admissions = days["admission"]
    if admissions:
        admission = min(admissions)
        for mention in timeline.of_role("history"):
            if _later_than(mention, admission):
                problems.append(
                    CoherenceProblem(
                        "date_order",
                        f"history {mention.text} after admission {admission.isoformat()}",
                    )
                )
    for earlier, later in pairs:
        if days[earlier] and days[later] and max(days[earlier]) > min(days[later]):
            problems.append(
                CoherenceProblem(
                    "date_order",
                    f"{later} {min(days[later]).isoformat()} before "
                    f"{earlier} {max(days[earlier]).isoformat()}",
                )
            )
    return problems


def _wording_problems(text: str) -> list[CoherenceProblem]:
    problems = [
        CoherenceProblem("repeated_name", match.group(0)) for match in _REPEATED_NAME.finditer(text)
    ]
    scanned = (
        (_UNRESOLVED_AGREEMENT, _AGREEMENT_NEEDS),
        (_FEMALE_TITLE_MALE_BIRTH, _BIRTH_NEEDS),
        (_MALE_TITLE_FEMALE_BIRTH, _BIRTH_NEEDS),
    )
    lowered = lower_case(text)
    problems += [
        CoherenceProblem("agreement", match.group(0))
        for pattern, needs in scanned
        if needs in lowered
        for match in pattern.finditer(text)
    ]
    return problems


def report_coherence_check(
    *, text: str, language: str, timeline: Timeline | None = None
) -> list[CoherenceProblem]:
    """Every coherence problem of one report's text, in a stable order (empty if none).

    `timeline` is `text`'s own when the caller has built it already (the import's surrogate
    pass): building it is most of the check's cost."""
    if timeline is None:
        timeline = timeline_build(text, language=language)
    return _age_problems(timeline) + _order_problems(timeline) + _wording_problems(text)
