"""Scenario sampler: one synthetic patient and hospital stay, drawn from a frame.

Each scenario depends only on (frame, knowledge base, seed, index, language, site filter):
the same batch parameters give the same scenarios, whatever order workers later process
them in. The clinical part (generation.clinical.draw) takes correlated attributes from the
frame and only the knowledge-base plans the patient is eligible for (fallbacks otherwise),
with a timeline from which the stay's dates follow; the administrative details come from
the shared surrogate generator.
"""

from __future__ import annotations

import datetime as dt
import random
import threading

from generation.clinical import knowledge
from generation.clinical.draw import clinical_draw
from generation.clinical.knowledge import KnowledgeBase
from generation.clinical.population import default_population
from generation.frame_format import Frame
from generation.scenario import Scenario, ScenarioAdmin, ScenarioStyle
from review.blinding.style_profile import StyleProfile
from review.surrogates import DEPARTMENTS, SurrogateGenerator

SCENARIO_SCHEMA = 2
ADMISSION_START = dt.date(2024, 1, 1)
ADMISSION_END = dt.date(2025, 12, 31)
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


def scenario_sample(
    *,
    frame: Frame,
    seed: int,
    index: int,
    language: str,
    site_filter: str = "",
    kb: KnowledgeBase | None = None,
    style_profile: StyleProfile | None = None,
) -> Scenario:
    """One scenario; the clinical part follows the knowledge base `kb` (default: the
    release's), so only plans the patient is eligible for are drawn."""
    kb = kb or knowledge.default_knowledge()
    rng = random.Random(f"{frame.name}@{frame.version}:{seed}:{index}")
    weights = site_weights(frame)
    site = site_filter or _choice(rng, weights)
    admission = ADMISSION_START + dt.timedelta(
        days=rng.randint(0, (ADMISSION_END - ADMISSION_START).days)
    )
    case = clinical_draw(
        rng=rng,
        kb=kb,
        population=frame.correlations or default_population(),
        frame=frame,
        site=site,
        admission=admission,
    )
    surrogates = _surrogates(language)
    surrogates.reseed(rng.getrandbits(32))
    patient = surrogates.person(sex=case.sex)
    department = DEPARTMENTS[surrogates.language][DEPARTMENT_BY_SITE.get(site, 0)]
    clinical = case.model_dump(
        exclude={"knowledge", "admission_date", "discharge_date", "birth_date"}
    )
    return Scenario(
        schema=SCENARIO_SCHEMA,
        language=surrogates.language,
        guideline=case.knowledge,
        **clinical,
        # The surrogate calls stay in this order: it fixes which names a seed gives.
        admin=ScenarioAdmin(
            patient_first_name=patient.first_name,
            patient_last_name=patient.last_name,
            birth_date=case.birth_date,
            physician=surrogates.physician(),
            hospital=surrogates.hospital(),
            department=department,
            city=surrogates.city(),
            admission_date=case.admission_date,
            discharge_date=case.discharge_date,
        ),
        # Drawn last, and only with a profile: scenarios without one keep their draws.
        style=_style(rng, style_profile),
    )


def _style(rng: random.Random, profile: StyleProfile | None) -> ScenarioStyle | None:
    if profile is None:
        return None
    target_length = profile.length_target(draw=rng.random())
    # Drawn after the length, so scenarios of older profiles keep their lengths.
    date_style = rng.choice(profile.date_styles) if profile.date_styles else ""
    return ScenarioStyle(
        target_length=target_length,
        sections=list(profile.sections),
        heading_style=profile.heading_style,
        abbreviations=list(profile.abbreviations),
        abbreviation_forms=dict(profile.abbreviation_forms),
        date_style=date_style,
    )
