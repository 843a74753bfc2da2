"""Check a parsed report against its scenario: offsets, then semantic flags.

Flags keep the report but mark it (coordinators decide whether flagged reports may
enter a study):

* `segment_not_found` — an annotation's segment is not a verbatim part of the narrative;
* `contradicts_scenario` — an annotated stage, ECOG, site, date… differs from the scenario;
* the clinical checker's named rules (generation.clinical.checker.RULES:
  `tnm_vs_metastatic_sites`, `regimen_vs_biomarkers`, `plan_vs_fitness`, `lab_vs_disease`,
  `concurrent_vs_sequential`…), each with its evidence and the knowledge-base rule (`ref`):
  on the scenario, on what the narrative states and on the annotated treatments;
* `missing_section` — a heading of the compte rendu structure is absent;
* `leftover_markdown` — Markdown headings, bold, code fences;
* `chatter` — text addressed to the user ("Voici le compte rendu…", disclaimers).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from generation.clinical import checker, knowledge
from generation.clinical.knowledge import KnowledgeBase
from generation.clinical.tnm import stage_group
from generation.output import ExtractedReport, GeneratedReport
from generation.scenario import Scenario, ScenarioStyle
from generation.vocabulary import styled_sections
from review.coherence import report_coherence_check

FLAG_CODES = (
    "segment_not_found",
    "contradicts_scenario",
    "missing_section",
    "leftover_markdown",
    "chatter",
    # The clinical consistency checker's rules (generation.clinical.checker.RULES).
    *checker.RULES,
)

# Word stems, compared on folded text (no accents, lower case): the model may write the
# organ as a noun or an adjective, in French or English, and a stem catches both.
SITE_WORDS = {
    "breast": ("sein", "mammaire", "breast"),
    "prostate": ("prostat",),
    "lung": ("poumon", "pulmonaire", "bronch", "lung"),
    "colorectal": ("colon", "rectum", "rectal", "colique", "colorect", "sigmoid"),
    "pancreas": ("pancrea",),
    "bladder": ("vessie", "vesical", "bladder", "urothelial"),
    "kidney": ("rein", "renal", "kidney"),
    "melanoma": ("melanom",),
    "head_and_neck": ("oropharyn", "larynx", "pharyn", "cavite buccale", "head and neck", "vads"),
    "liver": ("foie", "hepatocellulaire", "hepatocellular", "liver"),
    "stomach": ("estomac", "gastrique", "gastric", "stomach"),
}
_MARKDOWN = re.compile(
    r"(^\s{0,3}#{1,6}\s)|(\*\*[^*\n]+\*\*)|(^\s*```)|(__[^_\n]+__)", re.MULTILINE
)
_CHATTER = re.compile(
    r"\b(voici (le|un|votre)|here is (the|a|your)|en tant qu['\u2019]ia|as an ai|je reste à votre"
    r"|n['\u2019]hésitez pas|i hope this|let me know|ce compte rendu est fictif"
    r"|this report is fictional"
    r"|disclaimer|avertissement\s*:)",
    re.IGNORECASE,
)
# Longest numeral first: "IV" must not be read as "I" followed by a "V".
_STAGE = re.compile(r"\b(IV|III|II|I)[ABC]?\d?\b")
_DIGIT = re.compile(r"\b([0-4])\b")
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")


def _fold(text: str) -> str:
    """Lower case without accents, for lenient word matching."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass
class ValidatedReport:
    narrative: str
    annotations: list[dict[str, Any]]
    flags: list[dict[str, str]] = field(default_factory=list)

    @property
    def flag_codes(self) -> list[str]:
        return sorted({flag["code"] for flag in self.flags})


def _segment_starts(narrative: str, segment: str) -> list[int]:
    """Every start of `segment` as a whole word sequence ("liver", not inside "Oliver"),
    or, when it never stands alone, every plain occurrence."""
    if not segment.strip():
        return []
    bounded = [m.start() for m in re.finditer(rf"(?<!\w)(?={re.escape(segment)}(?!\w))", narrative)]
    if bounded:
        return bounded
    return [m.start() for m in re.finditer(f"(?={re.escape(segment)})", narrative)]


def _locate(narrative: str, annotations) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    # Offsets are computed here, not trusted from the model: LLMs count characters badly,
    # while they copy a verbatim segment reliably.
    spans: list[dict[str, Any]] = []
    flags: list[dict[str, str]] = []
    # Without an occurrence index (one-pass output), a segment annotated twice takes its
    # next unused occurrence: both "FLOT" of a perioperative plan used to land on the first.
    used: dict[str, set[int]] = {}
    for annotation in annotations:
        extra = {
            key: getattr(annotation, key)
            for key in ("name", "modality", "intent", "line", "grade")
            if getattr(annotation, key, None) is not None
        }
        occurrences = getattr(annotation, "occurrences", None) or [None] * len(annotation.segments)
        for segment, occurrence in zip(annotation.segments, occurrences, strict=True):
            starts = _segment_starts(narrative, segment)
            taken = used.setdefault(segment, set())
            if occurrence is not None:
                start = starts[occurrence - 1] if occurrence <= len(starts) else -1
            else:
                free = [s for s in starts if s not in taken]
                start = (free or starts or [-1])[0]
            if start < 0:
                where = f" (occurrence {occurrence}, {len(starts)} found)" if starts else ""
                flags.append(
                    {
                        "code": "segment_not_found",
                        "detail": f"{annotation.field}: {segment[:80]!r} is not in the "
                        f"narrative{where}",
                    }
                )
                continue
            taken.add(start)
            spans.append(
                {
                    "field": annotation.field,
                    "value": annotation.value,
                    "start": start,
                    "end": start + len(segment),
                    "text": segment,
                    **extra,
                }
            )
    spans.sort(key=lambda span: (span["start"], span["end"]))
    return spans, flags


def _parse_date(value: str, language: str) -> dt.date | None:
    match = _DATE.search(value)
    if not match:
        return None
    try:
        if match.group(4):
            return dt.date(int(match.group(4)), int(match.group(5)), int(match.group(6)))
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        # The narrative follows its language's convention (format_date): 03/04 is April in
        # a French report and March in an English one.
        day, month = (first, second) if language == "fr" else (second, first)
        return dt.date(year, month, day)
    except ValueError:
        return None


def _contradictions(output: GeneratedReport | ExtractedReport, scenario: Scenario, language: str):
    flags = []

    def flag(detail: str) -> None:
        flags.append({"code": "contradicts_scenario", "detail": detail})

    for annotation in output.annotations:
        value = annotation.value
        if annotation.field == "stage":
            match = _STAGE.search(value)
            if match and match.group(1) != stage_group(scenario.stage):
                flag(f"stage {match.group(1)} annotated, scenario stage {scenario.stage}")
        elif annotation.field == "ecog":
            match = _DIGIT.search(value)
            if match and int(match.group(1)) != scenario.ecog:
                flag(f"ECOG {match.group(1)} annotated, scenario ECOG {scenario.ecog}")
        elif annotation.field == "primary_site":
            folded = _fold(value)
            own = any(word in folded for word in SITE_WORDS[scenario.site])
            others = [s for s, words in SITE_WORDS.items() if any(w in folded for w in words)]
            # Only a word naming another site contradicts; a vague phrase ("the primary
            # tumour") names none and is left alone.
            if not own and others:
                flag(f"primary site {value!r} annotated, scenario site {scenario.site}")
        elif annotation.field == "metastatic_site" and not scenario.metastatic_sites:
            flag(f"metastasis {value!r} annotated, scenario stage {scenario.stage}")
        elif annotation.field in ("admission_date", "discharge_date"):
            parsed = _parse_date(value, language)
            expected = dt.date.fromisoformat(getattr(scenario.admin, annotation.field))
            if parsed and parsed != expected:
                flag(f"{annotation.field} {parsed} annotated, scenario {expected}")
    return flags


def _clinical_flags(
    output: GeneratedReport | ExtractedReport, scenario: Scenario, language: str, kb: KnowledgeBase
) -> list[dict[str, str]]:
    """The consistency checker on the scenario, the narrative and the annotated treatments
    (prohibitions only: a report may rightly leave part of the plan unsaid)."""
    case = scenario.clinical_case()
    if case is None:  # a scenario stored before the knowledge base (schema 1)
        return []
    annotations = [
        {"field": a.field, "value": a.value, "modality": a.modality, "intent": a.intent}
        for a in output.annotations
    ]
    violations = [
        *checker.scenario_violations(kb, case),
        *checker.report_text_violations(kb, case, output.narrative, language),
        *checker.annotation_violations(kb, case, annotations),
    ]
    flags: list[dict[str, str]] = []
    for violation in violations:
        flag = violation.as_flag()
        if flag not in flags:
            flags.append(flag)
    return flags


def _structure_flags(
    narrative: str, language: str, style: ScenarioStyle | None = None
) -> list[dict[str, str]]:
    flags = []
    folded = _fold(narrative)
    # With a style profile only the sections the real reports have are expected.
    for heading in styled_sections(language, style):
        if _fold(heading) not in folded:
            flags.append({"code": "missing_section", "detail": heading})
    markdown = _MARKDOWN.search(narrative)
    if markdown:
        flags.append({"code": "leftover_markdown", "detail": markdown.group(0).strip()[:40]})
    chatter = _CHATTER.search(narrative)
    if chatter:
        flags.append({"code": "chatter", "detail": chatter.group(0)[:60]})
    return flags


def report_validate(
    *,
    output: GeneratedReport | ExtractedReport,
    scenario: Scenario,
    language: str,
    kb: KnowledgeBase | None = None,
) -> ValidatedReport:
    # Flags never reject the report: it is kept, marked, and a coordinator decides whether
    # flagged reports may enter a study.
    spans, flags = _locate(output.narrative, output.annotations)
    flags += _contradictions(output, scenario, language)
    flags += _clinical_flags(output, scenario, language, kb or knowledge.default_knowledge())
    flags += _structure_flags(output.narrative, language, scenario.style)
    # The same coherence checker as imported real reports: the audit compares the sources on it.
    flags += [
        {"code": f"incoherent_{problem.code}", "detail": problem.detail}
        for problem in report_coherence_check(text=output.narrative, language=language)
    ]
    return ValidatedReport(narrative=output.narrative, annotations=spans, flags=flags)
