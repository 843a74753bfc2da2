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

from generation.clinical.draw import ClinicalCase, Labs, Timeline


class _Frozen(BaseModel):
    # Extra keys are refused: a stored scenario that does not match is a bug to see, not
    # data to carry silently into a prompt.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Treatment(_Frozen):
    """One treatment of the plan: what, why, which regimen and line; from schema 2 also its
    drugs or procedure, its step (same step = given together) and where the stay stands."""

    modality: str
    intent: str
    regimen: str
    line: int | None = None
    regimen_en: str = ""
    drugs: list[str] = Field(default_factory=list)
    procedure: str | None = None
    step: int = 0
    concurrent: bool = False
    status: str = "planned"
    start_date: str | None = None
    months: int | None = None


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


class ScenarioStyle(_Frozen):
    """How the report should be written to look like a corpus of real reports (an import's
    or a study's style profile): a length drawn from theirs, their usual sections, their
    heading style, their abbreviations (and which of "Hb"/"hémoglobine" they prefer), and
    one of their date styles drawn for this report."""

    target_length: int
    sections: list[str]
    heading_style: str  # "title", "capitals" or "numbered"
    abbreviations: list[str] = Field(default_factory=list)
    abbreviation_forms: dict[str, str] = Field(default_factory=dict)
    date_style: str = ""  # "numeric", "dotted", "written"; "" = the writer's own choice


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
    style: ScenarioStyle | None = None
    # Schema 2 (the clinical knowledge base): absent from scenarios stored before it.
    guideline: str = ""
    group: str = ""
    stage_group: str = ""
    menopause: str | None = None
    child_pugh: str | None = None
    plan_source: str = ""
    plan_fallback: int = 0
    fallback_reasons: list[str] = Field(default_factory=list)
    complication: str | None = None
    labs: Labs | None = None
    timeline: Timeline | None = None
    # Knowledge base 2: the diagnosis cTNM, the risk group, a complicated post-op course.
    clinical_tnm: str = ""
    risk_group: str | None = None
    postoperative: str | None = None

    def clinical_case(self) -> ClinicalCase | None:
        """The clinical facts as the consistency checker reads them (None before schema 2)."""
        if self.labs is None or self.timeline is None:
            return None
        return ClinicalCase(
            knowledge=self.guideline,
            site=self.site,
            histology=self.histology,
            group=self.group,
            stage=self.stage,
            stage_group=self.stage_group,
            tnm=self.tnm,
            clinical_tnm=self.clinical_tnm,
            risk_group=self.risk_group,
            sex=self.sex,  # type: ignore[arg-type]
            age=self.age,
            menopause=self.menopause,  # type: ignore[arg-type]
            ecog=self.ecog,
            child_pugh=self.child_pugh,  # type: ignore[arg-type]
            biomarkers=self.biomarkers,
            metastatic_sites=self.metastatic_sites,
            comorbidities=self.comorbidities,
            smoking=self.smoking,
            plan=self.plan,
            plan_source=self.plan_source,
            plan_fallback=self.plan_fallback,
            fallback_reasons=self.fallback_reasons,
            treatments=[t.model_dump() for t in self.treatments],  # type: ignore[misc]
            reason=self.reason,
            complication=self.complication,
            postoperative=self.postoperative,
            labs=self.labs,
            timeline=self.timeline,
            admission_date=self.admin.admission_date,
            discharge_date=self.admin.discharge_date,
            birth_date=self.admin.birth_date,
        )

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", by_alias=True)
        if data["style"] is None:
            del data["style"]  # the stored shape of a scenario without a style is unchanged
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scenario:
        return cls.model_validate(data)
