"""Sampling frame format and its validation.

A frame is JSON (or YAML) data: figures per cancer site (cases, sex split, median age,
histology, stage, biomarkers) plus comorbidity prevalences, smoking, ECOG and the reason
for the stay, every figure naming a key of `sources`. `frame_validate` returns the parsed
frame or raises `FrameInvalid` listing every problem with its location, so a coordinator
uploading their own frame sees all errors at once.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from generation.clinical import knowledge
from generation.clinical.population import Population

FRAMES_DIR = Path(__file__).resolve().parent / "data" / "frames"
DEFAULT_FRAME_FILE = FRAMES_DIR / "france-incidence-2023.json"
PROBABILITY_TOLERANCE = 0.005

SEXES = ("M", "F")
SMOKING = ("never", "former", "current")
ECOG = ("0", "1", "2", "3", "4")
REASONS = ("surgery", "systemic_start", "toxicity", "complication", "diagnostic")
COMORBIDITIES = {
    "diabetes": {"fr": "diabète de type 2", "en": "type 2 diabetes"},
    "ischaemic_heart_disease": {"fr": "cardiopathie ischémique", "en": "ischaemic heart disease"},
    "heart_failure": {"fr": "insuffisance cardiaque", "en": "heart failure"},
    "stroke": {"fr": "antécédent d'AVC", "en": "history of stroke"},
    "hypertension": {"fr": "hypertension artérielle", "en": "hypertension"},
    "copd": {"fr": "BPCO", "en": "COPD"},
    "chronic_kidney_disease": {
        "fr": "insuffisance rénale chronique",
        "en": "chronic kidney disease",
    },
    "atrial_fibrillation": {"fr": "fibrillation atriale", "en": "atrial fibrillation"},
    "obesity": {"fr": "obésité", "en": "obesity"},
    "depression": {"fr": "syndrome dépressif", "en": "depression"},
}


class FrameInvalid(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    citation: str = Field(min_length=3)
    url: str = ""
    note: str = ""


class Distribution(_Strict):
    p: dict[str, float] = Field(min_length=1)
    source: str
    note: str = ""

    @field_validator("p")
    @classmethod
    def _probabilities(cls, value: dict[str, float]) -> dict[str, float]:
        for key, probability in value.items():
            if not 0 <= probability <= 1:
                raise ValueError(f"probability of {key!r} is {probability}, not between 0 and 1")
        total = sum(value.values())
        if abs(total - 1) > PROBABILITY_TOLERANCE:
            raise ValueError(f"probabilities sum to {total:.4f}, not 1")
        return value


class Count(_Strict):
    n: int = Field(gt=0)
    source: str
    note: str = ""


class AgeFigure(_Strict):
    median: dict[str, float]
    sd: float = Field(default=11, gt=0, le=30)
    source: str
    note: str = ""


class BiomarkerFigure(Distribution):
    applies_to: list[str] | None = None


class SiteFigures(_Strict):
    cases: Count
    sex: Distribution
    age: AgeFigure
    histology: Distribution
    stage: Distribution
    biomarkers: dict[str, BiomarkerFigure] = Field(default_factory=dict)
    smoking: Distribution | None = None


class Comorbidity(_Strict):
    prevalence: float = Field(ge=0, le=1)
    source: str
    note: str = ""


class Frame(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,99}$")
    version: int = Field(ge=1)
    title: str = ""
    population: Literal["incidence", "stays"]
    description: str = ""
    sources: dict[str, Source] = Field(min_length=1)
    sites: dict[str, SiteFigures] = Field(min_length=1)
    # Independent prevalences (frames before version 2); `correlations` supersedes them.
    comorbidities: dict[str, Comorbidity] = Field(default_factory=dict)
    smoking: Distribution
    ecog: Distribution
    reasons: Distribution
    # Joint and conditional tables (breast subtypes, NSCLC drivers given smoking, COPD given
    # smoking, menopause and hypertension given age…): generation.clinical.population.
    correlations: Population | None = None


def _loc(parts) -> str:
    return ".".join(str(p) for p in parts)


def _semantic_errors(frame: Frame) -> list[str]:
    errors: list[str] = []

    def known(where: str, keys, allowed) -> None:
        unknown = sorted(set(keys) - set(allowed))
        if unknown:
            errors.append(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"expected some of {', '.join(map(repr, allowed))}"
            )

    def sourced(where: str, source: str) -> None:
        if source not in frame.sources:
            errors.append(f"{where}.source: {source!r} is not a key of 'sources'")

    known("smoking.p", frame.smoking.p, SMOKING)
    known("ecog.p", frame.ecog.p, ECOG)
    known("reasons.p", frame.reasons.p, REASONS)
    known("comorbidities", frame.comorbidities, COMORBIDITIES)
    known("sites", frame.sites, knowledge.default_knowledge().sites)
    for where, figure in (
        ("smoking", frame.smoking),
        ("ecog", frame.ecog),
        ("reasons", frame.reasons),
    ):
        sourced(where, figure.source)
    for key, comorbidity in frame.comorbidities.items():
        sourced(f"comorbidities.{key}", comorbidity.source)

    for site, figures in frame.sites.items():
        here = f"sites.{site}"
        for part in ("cases", "sex", "age", "histology", "stage"):
            sourced(f"{here}.{part}", getattr(figures, part).source)
        if figures.smoking:
            sourced(f"{here}.smoking", figures.smoking.source)
            known(f"{here}.smoking.p", figures.smoking.p, SMOKING)
        known(f"{here}.sex.p", figures.sex.p, SEXES)
        known(f"{here}.age.median", figures.age.median, SEXES)
        missing_age = sorted(
            s for s, p in figures.sex.p.items() if p > 0 and s not in figures.age.median
        )
        if missing_age:
            errors.append(f"{here}.age.median: no median age for sex {', '.join(missing_age)}")
        kb = knowledge.default_knowledge()
        if site not in kb.sites:
            continue
        spec = kb.sites[site]
        known(f"{here}.stage.p", figures.stage.p, spec.stages)
        known(f"{here}.histology.p", figures.histology.p, spec.histologies)
        known(f"{here}.biomarkers", figures.biomarkers, spec.biomarkers)
        for name, biomarker in figures.biomarkers.items():
            sourced(f"{here}.biomarkers.{name}", biomarker.source)
            if name in spec.biomarkers:
                known(f"{here}.biomarkers.{name}.p", biomarker.p, spec.biomarkers[name].values)
            if biomarker.applies_to is not None:
                known(
                    f"{here}.biomarkers.{name}.applies_to",
                    biomarker.applies_to,
                    spec.histologies,
                )
    # Plans for every setting a site can produce are the knowledge base's own check.
    return errors


def biomarker_combinations(figures: SiteFigures, histology: str) -> list[dict[str, str]]:
    applicable = [
        (name, [value for value, p in figure.p.items() if p > 0])
        for name, figure in figures.biomarkers.items()
        if figure.applies_to is None or histology in figure.applies_to
    ]
    names = [name for name, _ in applicable]
    return [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(values for _, values in applicable))
    ]


def frame_parse_text(text: str) -> dict[str, Any]:
    """JSON or YAML text to a dict, or FrameInvalid with the parser's message."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise FrameInvalid([f"The file is neither valid JSON nor YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise FrameInvalid(["The frame must be a JSON/YAML object (mapping) at the top level."])
    return data


def frame_validate(data: dict[str, Any]) -> Frame:
    try:
        frame = Frame.model_validate(data)
    except ValidationError as exc:
        raise FrameInvalid(
            [f"{_loc(error['loc']) or '(top level)'}: {error['msg']}" for error in exc.errors()]
        ) from None
    errors = _semantic_errors(frame)
    if errors:
        raise FrameInvalid(errors)
    return frame


def default_frame_data() -> dict[str, Any]:
    return json.loads(DEFAULT_FRAME_FILE.read_text(encoding="utf-8"))
