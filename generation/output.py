"""What a backend must return: the narrative and annotations tied to verbatim segments.

The same pydantic model gives the JSON schema sent to Mistral (`response_format`) and
parses every answer; an answer that does not parse is an `OutputInvalid` (the item is
retried, within its attempt bound).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from review.annotation_fields import AnnotationField, ExtractionField

OUTPUT_SCHEMA_VERSION = 1

# The field vocabulary is review's (review/annotation_fields.py): the report viewer, the
# annotation audit and the dataset exports read the same names generation asks for.
EXTRACTION_SCHEMA_VERSION = 2


class OutputAnnotation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    field: AnnotationField
    value: str = Field(min_length=1)
    # Verbatim excerpts of the narrative the value was read from.
    segments: list[str] = Field(min_length=1)
    name: str | None = None  # biomarker name (EGFR, HER2…)
    modality: str | None = None  # treatment: a key of guidelines.MODALITY_LABELS
    intent: str | None = None
    line: int | None = None


class GeneratedReport(BaseModel):
    model_config = ConfigDict(extra="ignore")

    narrative: str = Field(min_length=200)
    annotations: list[OutputAnnotation] = Field(min_length=1)


class ExtractionAnnotation(BaseModel):
    """One value of pass 2, anchored by its verbatim segment and which occurrence of it.

    A phrase written twice ("FLOT" before and after surgery) is told apart by `occurrence`
    (1 = first): the validator computes the offset, models count characters badly.
    """

    model_config = ConfigDict(extra="ignore")

    field: ExtractionField
    value: str = Field(min_length=1)
    segment: str = Field(min_length=1)
    occurrence: int = Field(default=1, ge=1)
    name: str | None = None  # biomarker or lab name (EGFR, creatinine…)
    modality: str | None = None  # treatment: a key of guidelines.MODALITY_LABELS
    intent: str | None = None
    line: int | None = None
    grade: int | None = None  # toxicity: CTCAE grade

    @property
    def segments(self) -> list[str]:
        return [self.segment]

    @property
    def occurrences(self) -> list[int]:
        return [self.occurrence]


class ExtractionOutput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    annotations: list[ExtractionAnnotation] = Field(min_length=1)


@dataclass(frozen=True)
class ExtractedReport:
    """Pass 1's narrative with pass 2's annotations: validated like a one-pass report."""

    narrative: str
    annotations: list[ExtractionAnnotation]


AnomalyCategory = Literal[
    "guideline", "fitness", "tnm", "chronology", "drug_indication", "internal_contradiction"
]


class JudgeAnomaly(BaseModel):
    model_config = ConfigDict(extra="ignore")

    category: AnomalyCategory
    evidence: str = Field(min_length=1)  # the verbatim segment of the narrative at fault
    explanation: str = ""
    correction: str = ""


class JudgeVerdict(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conform: bool
    anomalies: list[JudgeAnomaly] = Field(default_factory=list)


class OutputInvalid(Exception):
    """The answer is not JSON of the expected shape (retryable: a new attempt may do)."""


def output_json_schema() -> dict[str, Any]:
    return GeneratedReport.model_json_schema()


def extraction_json_schema() -> dict[str, Any]:
    return ExtractionOutput.model_json_schema()


def verdict_json_schema() -> dict[str, Any]:
    return JudgeVerdict.model_json_schema()


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def _json_load(content: str) -> Any:
    text = content or ""
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputInvalid(f"The answer is not JSON ({exc.msg} at char {exc.pos}).") from None


def _model_parse[M: BaseModel](model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise OutputInvalid(f"The JSON does not match the output schema: {problems}") from None


def extraction_parse(content: str) -> ExtractionOutput:
    return _model_parse(ExtractionOutput, _json_load(content))


def verdict_parse(content: str) -> JudgeVerdict | None:
    """The judge's verdict, or None when it does not parse: "judge unavailable", which is
    never read as conform. A verdict saying conform while listing anomalies is read as not
    conform: the anomalies are the specific part of the answer."""
    try:
        verdict = _model_parse(JudgeVerdict, _json_load(content))
    except OutputInvalid:
        return None
    if verdict.conform and verdict.anomalies:
        return JudgeVerdict(conform=False, anomalies=verdict.anomalies)
    return verdict


def narrative_parse(content: str) -> str:
    """Pass 1 answers in plain text; a fenced block or surrounding blank lines are dropped."""
    text = (content or "").strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if len(text) < 200:
        raise OutputInvalid(f"The narrative is too short ({len(text)} characters).")
    return text


def output_parse(content: str) -> GeneratedReport:
    data = _json_load(content)
    try:
        return GeneratedReport.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise OutputInvalid(f"The JSON does not match the output schema: {problems}") from None
