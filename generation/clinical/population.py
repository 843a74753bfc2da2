"""Correlated attribute tables of a frame (joint or conditional distributions), typed.

Where drawing attributes independently gives impossible or skewed patients (HR x HER2
giving 21% triple-negative, EGFR with ALK, COPD in never-smokers, postmenopausal women of
35), the frame gives one joint categorical or a table conditioned on the attribute that
drives it. Each table names a source; the tables live in the frame (`correlations`), next
to the marginal figures they refine.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

TOLERANCE = 0.005
DEFAULT_FRAME_FILE = (
    Path(__file__).resolve().parent.parent / "data" / "frames" / "france-incidence-2023.json"
)


class PopulationInvalid(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_distribution(value: dict[str, float]) -> dict[str, float]:
    for key, p in value.items():
        if not 0 <= p <= 1:
            raise ValueError(f"probability of {key!r} is {p}, not between 0 and 1")
    if abs(sum(value.values()) - 1) > TOLERANCE:
        raise ValueError(f"probabilities sum to {sum(value.values()):.4f}, not 1")
    return value


class Source(_Strict):
    citation: str = Field(min_length=10)
    year: int


class Categorical(_Strict):
    source: str
    note: str = ""
    p: dict[str, float] = Field(min_length=2)

    _valid = field_validator("p")(_check_distribution)


class Conditional(_Strict):
    """A categorical per value of the conditioning attribute."""

    source: str
    note: str = ""
    p: dict[str, dict[str, float]] = Field(min_length=1)

    @field_validator("p")
    @classmethod
    def _rows(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for row in value.values():
            _check_distribution(row)
        return value


class Probability(_Strict):
    source: str
    note: str = ""
    p: float = Field(ge=0, le=1)


class Band(_Strict):
    max_age: int = Field(ge=0, le=200)
    p: float = Field(ge=0, le=1)


class ByAge(_Strict):
    source: str
    note: str = ""
    bands: list[Band] = Field(min_length=1)

    def at(self, age: int) -> float:
        for band in self.bands:
            if age <= band.max_age:
                return band.p
        return self.bands[-1].p


class Lung(_Strict):
    histology_by_smoking: Conditional
    pdl1_tps: Categorical
    drivers_by_smoking: Conditional


class Breast(_Strict):
    subtypes: Categorical
    pdl1_cps_tnbc: Categorical


class StageProbabilities(_Strict):
    source: str
    note: str = ""
    p: dict[str, float]


class ColorectalTables(_Strict):
    ras_braf: Categorical
    msi_by_stage: StageProbabilities
    right_sided_colon: Probability


class HeadAndNeck(_Strict):
    p16_positive: Probability
    pdl1_cps_ge1: Probability


class Stomach(_Strict):
    her2_positive: Probability
    pdl1_cps_ge5_her2_negative: Probability


class Melanoma(_Strict):
    braf_v600: Probability


class Women(_Strict):
    postmenopausal_by_age: ByAge


class Cardioneurovascular(_Strict):
    source: str
    note: str = ""
    p: float = Field(ge=0, le=1)
    subtypes: dict[str, float]

    _valid = field_validator("subtypes")(_check_distribution)


class Copd(_Strict):
    source: str
    note: str = ""
    by_smoking: dict[str, float]
    lung_by_smoking: dict[str, float]


class Comorbidities(_Strict):
    diabetes: Probability
    cardioneurovascular: Cardioneurovascular
    hypertension: ByAge
    copd: Copd
    chronic_kidney_disease: Probability
    depression: Probability


class Population(_Strict):
    sources: dict[str, Source] = Field(min_length=1)
    lung: Lung
    breast: Breast
    colorectal: ColorectalTables
    head_and_neck: HeadAndNeck
    stomach: Stomach
    melanoma: Melanoma
    women: Women
    comorbidities: Comorbidities


COMORBIDITY_KEYS = (
    "diabetes",
    "hypertension",
    "ischaemic_heart_disease",
    "heart_failure",
    "atrial_fibrillation",
    "stroke",
    "copd",
    "chronic_kidney_disease",
    "depression",
)


def _sources_used(value: Any, found: list[tuple[str, str]], where: str = "") -> None:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            item = getattr(value, name)
            if name == "source" and isinstance(item, str):
                found.append((where, item))
            else:
                _sources_used(item, found, f"{where}.{name}" if where else name)


def population_validate(data: dict[str, Any]) -> Population:
    try:
        population = Population.model_validate(data)
    except ValidationError as exc:
        raise PopulationInvalid(
            [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        ) from None
    used: list[tuple[str, str]] = []
    _sources_used(population, used)
    errors = [
        f"{where}.source: {key!r} is not a key of 'sources'"
        for where, key in used
        if key not in population.sources
    ]
    subtypes = set(population.comorbidities.cardioneurovascular.subtypes)
    errors += [
        f"comorbidities.cardioneurovascular.subtypes: unknown condition {key!r}"
        for key in sorted(subtypes - set(COMORBIDITY_KEYS))
    ]
    if errors:
        raise PopulationInvalid(errors)
    return population


@functools.lru_cache(maxsize=1)
def default_population() -> Population:
    """The tables of the default frame (for frames that give none of their own)."""
    # Read from the file, not through frame_format, which imports this module.
    data = json.loads(DEFAULT_FRAME_FILE.read_text(encoding="utf-8"))
    return population_validate(data["correlations"])
