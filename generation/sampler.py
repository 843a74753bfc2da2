"""Scenario sampler: one synthetic patient and hospital stay, drawn from a frame.

Each scenario depends only on (frame, seed, index, language, site filter): the same batch
parameters give the same scenarios, whatever order workers later process them in. The
treatment strategy is chosen among the guideline plans that fit the patient's site,
histology, stage and biomarkers, so the sampler cannot produce, say, curative surgery at
stage IV; the administrative details come from the shared surrogate generator.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from typing import Any

from generation import guidelines
from generation.frame_format import Frame, SiteFigures
from generation.scenario import Scenario, ScenarioAdmin, Treatment
from review.surrogates import DEPARTMENTS, SurrogateGenerator

SCENARIO_SCHEMA = 1
ADMISSION_START = dt.date(2024, 1, 1)
ADMISSION_END = dt.date(2025, 12, 31)
LENGTH_OF_STAY = {
    "surgery": (3, 10),
    "systemic_start": (1, 4),
    "toxicity": (2, 8),
    "complication": (2, 10),
    "diagnostic": (1, 4),
}
# Index into review.surrogates.DEPARTMENTS (same order in both languages).
DEPARTMENT_BY_SITE = {
    "lung": 1,
    "colorectal": 2,
    "pancreas": 2,
    "liver": 2,
    "stomach": 2,
    "breast": 3,
    "prostate": 5,
    "bladder": 5,
    "kidney": 5,
}


_local = threading.local()


def _surrogates(language: str) -> SurrogateGenerator:
    """One generator per language and thread (building Faker costs milliseconds)."""
    cache = _local.__dict__.setdefault("generators", {})
    if language not in cache:
        cache[language] = SurrogateGenerator(language=language, seed=0)
    return cache[language]


def _choice(rng: random.Random, distribution: dict[str, float]) -> str:
    # Sorted: PostgreSQL's jsonb does not keep key order, and draws must not depend on it.
    keys = sorted(k for k, p in distribution.items() if p > 0)
    return rng.choices(keys, weights=[distribution[k] for k in keys], k=1)[0]


def site_weights(frame: Frame) -> dict[str, float]:
    total = sum(site.cases.n for site in frame.sites.values())
    return {name: site.cases.n / total for name, site in frame.sites.items()}


def _reason_allowed(reason: str, treatments: list[dict[str, Any]]) -> bool:
    modalities = {t["modality"] for t in treatments}
    if reason == "surgery":
        return "surgery" in modalities
    if reason in ("systemic_start", "toxicity"):
        return bool(modalities & {*guidelines.SYSTEMIC, "chemoradiation"})
    return True


def _biomarkers(rng: random.Random, figures: SiteFigures, histology: str) -> dict[str, str]:
    return {
        name: _choice(rng, figure.p)
        for name, figure in sorted(figures.biomarkers.items())
        if figure.applies_to is None or histology in figure.applies_to
    }


def _tnm(rng: random.Random, site: str, stage: str, treatments: list[dict[str, Any]]) -> str:
    prefix = "p" if treatments and treatments[0]["modality"] == "surgery" else "c"
    return prefix + rng.choice(guidelines.SITES[site]["tnm"][stage])


def scenario_sample(
    *, frame: Frame, seed: int, index: int, language: str, site_filter: str = ""
) -> Scenario:
    rng = random.Random(f"{frame.name}@{frame.version}:{seed}:{index}")
    weights = site_weights(frame)
    site = site_filter or _choice(rng, weights)
    figures = frame.sites[site]
    sex = _choice(rng, figures.sex.p)
    age = round(rng.gauss(figures.age.median[sex], figures.age.sd))
    age = min(max(age, 25), 95)
    histology = _choice(rng, figures.histology.p)
    stage = _choice(rng, figures.stage.p)
    biomarkers = _biomarkers(rng, figures, histology)
    plans = guidelines.plan_options(
        site=site, histology=histology, stage=stage, biomarkers=biomarkers
    )
    plan = rng.choice(plans)
    treatments = [dict(t) for t in plan["treatments"]]
    metastatic_sites: list[str] = []
    if stage == "IV":
        candidates = list(guidelines.SITES[site]["metastatic_sites"])
        metastatic_sites = sorted(rng.sample(candidates, rng.randint(1, min(3, len(candidates)))))
    comorbidities = sorted(
        key
        for key, figure in sorted(frame.comorbidities.items())
        if rng.random() < figure.prevalence
    )
    smoking = _choice(rng, (figures.smoking or frame.smoking).p)
    ecog = int(_choice(rng, frame.ecog.p))
    reasons = {k: p for k, p in frame.reasons.p.items() if _reason_allowed(k, treatments)}
    reason = _choice(rng, reasons) if any(reasons.values()) else "complication"

    surrogates = _surrogates(language)
    surrogates.reseed(rng.getrandbits(32))
    patient = surrogates.person(sex=sex)
    admission = surrogates.date_between(ADMISSION_START, ADMISSION_END)
    low, high = LENGTH_OF_STAY[reason]
    discharge = admission + dt.timedelta(days=rng.randint(low, high))
    birth = admission - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    department = DEPARTMENTS[surrogates.language][DEPARTMENT_BY_SITE.get(site, 0)]
    return Scenario(
        schema=SCENARIO_SCHEMA,
        language=surrogates.language,
        site=site,
        histology=histology,
        stage=stage,
        tnm=_tnm(rng, site, stage, treatments),
        sex=sex,
        age=age,
        biomarkers=biomarkers,
        metastatic_sites=metastatic_sites,
        ecog=ecog,
        comorbidities=comorbidities,
        smoking=smoking,
        plan=plan["id"],
        treatments=[Treatment(**t) for t in treatments],
        reason=reason,
        # The surrogate calls stay in this order: it fixes which names a seed gives.
        admin=ScenarioAdmin(
            patient_first_name=patient.first_name,
            patient_last_name=patient.last_name,
            birth_date=birth.isoformat(),
            physician=surrogates.physician(),
            hospital=surrogates.hospital(),
            department=department,
            city=surrogates.city(),
            admission_date=admission.isoformat(),
            discharge_date=discharge.isoformat(),
        ),
    )
