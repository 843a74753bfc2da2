"""What a backend must return: the narrative and annotations tied to verbatim segments.

The same pydantic model gives the JSON schema sent to Mistral (`response_format`) and
parses every answer; an answer that does not parse is an `OutputInvalid` (the item is
retried, within its attempt bound).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

OUTPUT_SCHEMA_VERSION = 1

AnnotationField = Literal[
    "patient_name",
    "age",
    "sex",
    "admission_date",
    "discharge_date",
    "hospital",
    "department",
    "physician",
    "reason",
    "primary_site",
    "histology",
    "stage",
    "tnm",
    "biomarker",
    "metastatic_site",
    "ecog",
    "comorbidity",
    "smoking",
    "treatment",
]


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


class OutputInvalid(Exception):
    """The answer is not JSON of the expected shape (retryable: a new attempt may do)."""


def output_json_schema() -> dict[str, Any]:
    return GeneratedReport.model_json_schema()


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def output_parse(content: str) -> GeneratedReport:
    text = content or ""
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputInvalid(f"The answer is not JSON ({exc.msg} at char {exc.pos}).") from None
    try:
        return GeneratedReport.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise OutputInvalid(f"The JSON does not match the output schema: {problems}") from None
