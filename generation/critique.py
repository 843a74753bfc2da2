"""The critique of a two-pass report: the consistency checker, then the LLM judge's verdict.

Pure functions (no database, no network): the pipeline makes the calls and stores what
these return. The checker runs on the extracted annotations against the scenario; its
flags go to the judge, which reads the narrative with the scenario and the guideline and
answers with a structured verdict. A verdict that does not parse is "judge unavailable",
never conform.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from string import Template
from typing import Any

from generation.clinical.knowledge import KnowledgeBase
from generation.output import JudgeAnomaly, JudgeVerdict
from generation.prompt_context import prompt_context
from generation.prompts import JUDGE_PROMPTS, REVISION_PROMPTS
from generation.scenario import Scenario
from generation.validation import ValidatedReport
from generation.vocabulary import scenario_summary

# The validation flags that are clinical findings (the checker's), as opposed to form
# (missing section, Markdown, chatter) or anchoring. The clinical knowledge base's checker
# (issue 13) adds its rule names through report validation; any code outside this set and
# FORM_FLAG_CODES is taken as clinical too, so its rules need no change here.
FORM_FLAG_CODES = frozenset(
    {"segment_not_found", "missing_section", "leftover_markdown", "chatter"}
)


@dataclass(frozen=True)
class ConsistencyFlag:
    """One finding of the consistency checker, with its evidence."""

    code: str
    detail: str
    evidence: str = ""


def consistency_check(*, scenario: Scenario, validated: ValidatedReport) -> list[ConsistencyFlag]:
    """The checker's findings on the extracted annotations against the scenario.

    `validated` is the report as validation left it: its flags already hold the rule
    checks (contradictions with the scenario, guideline rules, and the clinical checker's
    named violations once that lands), computed on the annotations of pass 2.
    """
    del scenario  # the rules read it during validation; kept for the interface's callers
    return [
        ConsistencyFlag(
            code=flag["code"], detail=flag.get("detail", ""), evidence=flag.get("evidence", "")
        )
        for flag in validated.flags
        if flag["code"] not in FORM_FLAG_CODES
    ]


@dataclass
class CritiqueOutcome:
    verdict: str  # conform | not_conform | judge_unavailable
    checker: list[ConsistencyFlag] = field(default_factory=list)
    anomalies: list[JudgeAnomaly] = field(default_factory=list)

    @property
    def needs_revision(self) -> bool:
        # The checker's findings count even when the judge missed them; an unavailable
        # judge with a clean checker is not revised (there is nothing specific to fix).
        return self.verdict == "not_conform" or bool(self.checker)

    def to_json(self) -> dict[str, Any]:
        """Stored between the calls of a Batch API item (the revision prompt needs it)."""
        return {
            "verdict": self.verdict,
            "checker": [asdict(flag) for flag in self.checker],
            "anomalies": [anomaly.model_dump() for anomaly in self.anomalies],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CritiqueOutcome:
        return cls(
            verdict=str(data["verdict"]),
            checker=[ConsistencyFlag(**flag) for flag in data.get("checker") or []],
            anomalies=[JudgeAnomaly.model_validate(a) for a in data.get("anomalies") or []],
        )

    def as_flags(self) -> list[dict[str, Any]]:
        flags: list[dict[str, Any]] = []
        if self.verdict != "conform":
            code = self.verdict if self.verdict.startswith("judge_") else f"judge_{self.verdict}"
            flags.append({"code": code})
        flags += [
            {
                "code": "judge_anomaly",
                "category": anomaly.category,
                "detail": anomaly.explanation,
                "evidence": anomaly.evidence,
                "correction": anomaly.correction,
            }
            for anomaly in self.anomalies
        ]
        return flags


def critique_outcome(
    *, checker: list[ConsistencyFlag], verdict: JudgeVerdict | None
) -> CritiqueOutcome:
    if verdict is None:
        return CritiqueOutcome(verdict="judge_unavailable", checker=checker)
    # A conform verdict over checker findings is not conform: the rules are the reference.
    state = "conform" if verdict.conform and not checker else "not_conform"
    return CritiqueOutcome(verdict=state, checker=checker, anomalies=list(verdict.anomalies))


def _checker_text(checker: list[ConsistencyFlag], language: str) -> str:
    if not checker:
        return "- aucune" if language == "fr" else "- none"
    return "\n".join(f"- {flag.code}: {flag.detail}" for flag in checker)


def judge_prompts(
    *,
    scenario: Scenario,
    narrative: str,
    checker: list[ConsistencyFlag],
    language: str,
    kb: KnowledgeBase | None = None,
) -> tuple[str, str]:
    context = prompt_context(scenario, language, kb)
    spec = JUDGE_PROMPTS[language]
    user = Template(spec["user"]).safe_substitute(
        scenario=scenario_summary(scenario, language),
        guideline=context.guideline,
        guideline_version=context.guideline_version,
        checker_flags=_checker_text(checker, language),
        narrative=narrative,
    )
    return spec["system"], user


def revision_prompt(*, narrative: str, outcome: CritiqueOutcome, language: str) -> str:
    lines = [f"- [{flag.code}] {flag.detail}" for flag in outcome.checker]
    lines += [
        f"- [{a.category}] « {a.evidence} » : {a.explanation} → {a.correction}"
        if language == "fr"
        else f'- [{a.category}] "{a.evidence}": {a.explanation} → {a.correction}'
        for a in outcome.anomalies
    ]
    return Template(REVISION_PROMPTS[language]).safe_substitute(
        narrative=narrative, anomalies="\n".join(lines)
    )
