"""The `Scenario`: one synthetic patient and stay, from the sampler to prompts, backends,
validation and provenance.

It is stored as JSON on `BatchItem.scenario` and copied into each report's provenance;
`to_json` gives exactly that shape (keys and values unchanged since schema 1) and
`from_json` reads it back, so the conversion happens once at each boundary and the code in
between reads typed attributes instead of string keys.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    # Extra keys are refused: a stored scenario that does not match is a bug to see, not
    # data to carry silently into a prompt.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Treatment(_Frozen):
    """One step of the guideline plan (guidelines._t): what, why, which regimen, which line."""

    modality: str
    intent: str
    regimen: str
    line: int | None = None


class ScenarioAdmin(_Frozen):
    """Administrative details drawn from the surrogate generator (ISO dates as strings)."""

    patient_first_name: str
    patient_last_name: str
    birth_date: str
    physician: str
    hospital: str
    department: str
    city: str
    admission_date: str
    discharge_date: str


class Scenario(_Frozen):
    # Stored under the key "schema"; renamed here because pydantic models own `schema`.
    schema_version: int = Field(alias="schema")
    language: str
    site: str
    histology: str
    stage: str
    tnm: str
    sex: str
    age: int
    biomarkers: dict[str, str]
    metastatic_sites: list[str]
    ecog: int
    comorbidities: list[str]
    smoking: str
    plan: str
    treatments: list[Treatment]
    reason: str
    admin: ScenarioAdmin

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scenario:
        return cls.model_validate(data)
