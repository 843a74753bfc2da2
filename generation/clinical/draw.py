"""Draw the clinical part of a scenario: a patient, a tumour, a plan they are fit for, a stay.

Order matters and follows the causal story: sex and age, smoking, then histology and
driver alterations given smoking (lung), stage and TNM categories from the knowledge base's
AJCC 8th tables, metastatic sites and the M category they imply, biomarkers tested in that
setting, menopause given age, comorbidities given age and smoking, kidney function from
creatinine (Cockcroft-Gault), then only the plans the patient satisfies (fallbacks
otherwise), the position of the stay in the pathway and the dates that follow from it.
Every figure comes from the frame, the population tables or the knowledge base.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from generation.clinical import tnm as tnm_engine
from generation.clinical.knowledge import (
    DRUG_MODALITIES,
    PROCEDURE_MODALITIES,
    Facts,
    KnowledgeBase,
    Plan,
    Rate,
    Site,
    plan_matches_setting,
    plans_for_patient,
    requirement_failures,
    risk_group,
)
from generation.clinical.population import Population

REASONS = ("surgery", "systemic_start", "toxicity", "complication", "diagnostic")
# Length of stay (days) after a procedure, by recovery class (order of magnitude, assumption).
STAY_AFTER_PROCEDURE = {
    "digestive": (6, 12),
    "thoracic": (4, 7),
    "breast": (1, 3),
    "prostate": (2, 4),
    "endoscopic": (2, 3),
    "urological": (3, 6),
    "skin": (1, 2),
    "head_neck": (5, 10),
    "interventional": (1, 3),
}
STAY_BY_REASON = {"systemic_start": (1, 4), "toxicity": (2, 8), "complication": (2, 10)}
STAY_BY_REASON["diagnostic"] = (1, 4)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Treatment(_Strict):
    modality: str
    intent: str
    line: int | None = None
    regimen: str  # French label (the report language chooses regimen or regimen_en)
    regimen_en: str
    drugs: list[str] = Field(default_factory=list)
    procedure: str | None = None
    step: int
    concurrent: bool = False  # given together with the other treatments of its step
    status: Literal["done", "current", "planned"] = "planned"
    start_date: str | None = None
    months: int | None = None  # planned duration when the guideline fixes it


class Labs(_Strict):
    weight_kg: int
    haemoglobin_g_dl: float
    neutrophils_g_l: float
    creatinine_umol_l: int
    crcl_ml_min: int
    liver_tests: Literal["normal", "abnormal"]
    alt_iu_l: int
    bilirubin_umol_l: int
    albumin_g_l: int


class Timeline(_Strict):
    diagnosis_date: str
    surgery_date: str | None = None
    current_step: int  # -1: the stay comes before any treatment
    # Later-line plans: the progression on the previous line that led to the current one.
    progression_date: str | None = None


class ClinicalCase(_Strict):
    knowledge: str
    site: str
    histology: str
    group: str
    stage: str
    stage_group: str
    tnm: str
    clinical_tnm: str = ""  # the cTNM of the diagnosis (tnm may be pathological later on)
    risk_group: str | None = None  # the site's risk group (prostate: EAU 2024)
    sex: Literal["M", "F"]
    age: int
    menopause: Literal["pre", "post"] | None = None
    ecog: int
    child_pugh: Literal["A", "B", "C"] | None = None
    biomarkers: dict[str, str]
    metastatic_sites: list[str]
    comorbidities: list[str]
    smoking: str
    plan: str
    plan_source: str
    plan_fallback: int
    fallback_reasons: list[str] = Field(default_factory=list)
    treatments: list[Treatment]
    reason: str
    complication: str | None = None
    postoperative: str | None = None  # a complicated post-operative course (surgery stays)
    labs: Labs
    timeline: Timeline
    admission_date: str
    discharge_date: str
    birth_date: str

    def facts(self) -> Facts:
        parsed = tnm_engine.tnm_parse(self.tnm) if self.tnm else None
        return Facts(
            site=self.site,
            histology=self.histology,
            group=self.group,
            stage=self.stage,
            stage_group=self.stage_group,
            t=parsed.t if parsed else "",
            n=parsed.n if parsed else "",
            m=parsed.m if parsed else ("M1" if self.metastatic_sites else "M0"),
            biomarkers=self.biomarkers,
            sex=self.sex,
            age=self.age,
            ecog=self.ecog,
            crcl=self.labs.crcl_ml_min,
            menopause=self.menopause,
            child_pugh=self.child_pugh,
            risk=self.risk_group,
        )


def _choice(rng: random.Random, distribution: dict[str, float]) -> str:
    # Sorted keys: PostgreSQL's jsonb does not keep key order, and draws must not depend on it.
    keys = sorted(k for k, p in distribution.items() if p > 0)
    return rng.choices(keys, weights=[distribution[k] for k in keys], k=1)[0]


def _bernoulli(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _histology(rng, site: str, figures: Any, population: Population, smoking: str) -> str:
    if site == "lung":
        return _choice(rng, population.lung.histology_by_smoking.p[smoking])
    return _choice(rng, figures.histology.p)


def _raw_biomarkers(
    rng: random.Random, *, site: str, histology: str, stage_group: str, smoking: str, figures, pop
) -> dict[str, str]:
    """All values a tumour of this site could have; filtered later by what is tested."""
    b: dict[str, str] = {}
    if site == "breast":
        subtype = _choice(rng, pop.breast.subtypes.p)
        b["HR"] = "positive" if subtype.startswith("HR+") else "negative"
        b["HER2"] = "positive" if subtype.endswith("HER2+") else "negative"
        b["PD-L1 CPS"] = _choice(rng, pop.breast.pdl1_cps_tnbc.p)
    elif site == "lung":
        driver = _choice(rng, pop.lung.drivers_by_smoking.p[smoking])
        b["EGFR"] = "mutated" if driver == "EGFR" else "wild-type"
        b["ALK"] = "rearranged" if driver == "ALK" else "not rearranged"
        b["PD-L1 TPS"] = _choice(rng, pop.lung.pdl1_tps.p)
    elif site == "colorectal":
        alteration = _choice(rng, pop.colorectal.ras_braf.p)
        b["RAS"] = "mutated" if alteration == "RAS mutated" else "wild-type"
        b["BRAF"] = "V600E mutated" if alteration.startswith("BRAF") else "wild-type"
        msi = pop.colorectal.msi_by_stage.p[stage_group]
        b["MSI"] = "MSI-H" if _bernoulli(rng, msi) else "MSS"
        rectum = histology == "rectal_adenocarcinoma"
        right = not rectum and _bernoulli(rng, pop.colorectal.right_sided_colon.p)
        b["sidedness"] = "right" if right else "left"
    elif site == "head_and_neck":
        b["p16"] = "positive" if _bernoulli(rng, pop.head_and_neck.p16_positive.p) else "negative"
        b["PD-L1 CPS"] = "≥1" if _bernoulli(rng, pop.head_and_neck.pdl1_cps_ge1.p) else "<1"
    elif site == "stomach":
        her2 = _bernoulli(rng, pop.stomach.her2_positive.p)
        b["HER2"] = "positive" if her2 else "negative"
        cps = _bernoulli(rng, pop.stomach.pdl1_cps_ge5_her2_negative.p)
        b["PD-L1 CPS"] = "≥5" if cps else "<5"
    elif site == "melanoma":
        braf = _bernoulli(rng, pop.melanoma.braf_v600.p)
        b["BRAF"] = "V600E mutated" if braf else "wild-type"
    else:
        for name, figure in sorted(getattr(figures, "biomarkers", {}).items()):
            if figure.applies_to is None or histology in figure.applies_to:
                b[name] = _choice(rng, figure.p)
    return b


def tested_biomarkers(
    site: Site, histology: str, stage_group: str, values: dict[str, str]
) -> dict[str, str]:
    """Keep the biomarkers the knowledge base says are tested in this setting."""
    kept: dict[str, str] = {}
    for name, spec in sorted(site.biomarkers.items()):
        if name not in values:
            continue
        if spec.histologies is not None and histology not in spec.histologies:
            continue
        if spec.stages is not None and stage_group not in spec.stages:
            continue
        if not all(values.get(k) in v for k, v in spec.when.items()):
            continue
        kept[name] = values[name]
    return kept


def _comorbidities(rng, pop: Population, *, site: str, age: int, smoking: str) -> list[str]:
    c = pop.comorbidities
    found = []
    if _bernoulli(rng, c.diabetes.p):
        found.append("diabetes")
    if _bernoulli(rng, c.hypertension.at(age)):
        found.append("hypertension")
    if _bernoulli(rng, c.cardioneurovascular.p):
        found.append(_choice(rng, c.cardioneurovascular.subtypes))
    table = c.copd.lung_by_smoking if site == "lung" else c.copd.by_smoking
    if _bernoulli(rng, table[smoking]):
        found.append("copd")
    if _bernoulli(rng, c.chronic_kidney_disease.p):
        found.append("chronic_kidney_disease")
    if _bernoulli(rng, c.depression.p):
        found.append("depression")
    return sorted(found)


def cockcroft_gault(*, age: int, weight_kg: float, creatinine_umol_l: float, sex: str) -> float:
    """Creatinine clearance in mL/min (Cockcroft-Gault, creatinine in µmol/L)."""
    factor = 1.23 if sex == "M" else 1.04
    return (140 - age) * weight_kg * factor / creatinine_umol_l


def _labs(rng, *, sex, age, comorbidities, liver_involved, child_pugh, neutropenic) -> Labs:
    weight = round(min(max(rng.gauss(78 if sex == "M" else 66, 12), 42), 130))
    factor = 1.23 if sex == "M" else 1.04
    if "chronic_kidney_disease" in comorbidities:
        # CKD stage 3-4: the clearance is drawn, the creatinine follows from it.
        crcl = rng.uniform(20, 58)
        creatinine = (140 - age) * weight * factor / crcl
    else:
        creatinine = min(max(rng.gauss(88 if sex == "M" else 70, 12), 45), 115)
        crcl = cockcroft_gault(age=age, weight_kg=weight, creatinine_umol_l=creatinine, sex=sex)
    if liver_involved:
        bilirubin = {"A": rng.randint(18, 32), "B": rng.randint(35, 50), "C": rng.randint(52, 90)}
        albumin = {"A": rng.randint(35, 40), "B": rng.randint(28, 34), "C": rng.randint(22, 27)}
        grade = child_pugh or "A"
        liver = ("abnormal", rng.randint(60, 180), bilirubin[grade], albumin[grade])
    else:
        liver = ("normal", rng.randint(12, 35), rng.randint(5, 17), rng.randint(36, 45))
    return Labs(
        weight_kg=weight,
        haemoglobin_g_dl=round(min(max(rng.gauss(12.3, 1.3), 8.0), 16.0), 1),
        neutrophils_g_l=round(rng.uniform(0.1, 0.4) if neutropenic else rng.uniform(2.0, 7.0), 1),
        creatinine_umol_l=round(creatinine),
        crcl_ml_min=round(crcl),
        liver_tests=liver[0],  # type: ignore[arg-type]
        alt_iu_l=liver[1],
        bilirubin_umol_l=liver[2],
        albumin_g_l=liver[3],
    )


def _regimen(kb: KnowledgeBase, treatment, language: str) -> str:
    if treatment.name is not None:
        return getattr(treatment.name, language)
    if treatment.procedure:
        return getattr(kb.procedures[treatment.procedure], language)
    return " + ".join(getattr(kb.drugs[d], language) for d in treatment.drugs)


def complication_options(kb: KnowledgeBase, *, site: str, step_treatments) -> list[str]:
    """The complications the treatments of one step can cause (knowledge base table)."""
    drugs = [kb.drugs[d] for t in step_treatments for d in t.drugs]
    classes = {c for drug in drugs for c in drug.classes}
    modalities = {t.modality for t in step_treatments}
    found = []
    for key, spec in sorted(kb.complications.items()):
        if spec.sites is not None and site not in spec.sites:
            continue
        if spec.myelotoxic and not any(drug.myelotoxic for drug in drugs):
            continue
        if spec.drug_classes is not None and not set(spec.drug_classes) & classes:
            continue
        if spec.modalities is not None and not set(spec.modalities) & modalities:
            continue
        found.append(key)
    return found


def complication_rate(kb: KnowledgeBase, key: str, step_treatments) -> Rate:
    """The knowledge base's frequency of this complication for these treatments: the first
    rate of its list that fits (a regimen, then a drug class, then the default)."""
    drugs = {d for t in step_treatments for d in t.drugs}
    classes = {c for d in drugs for c in kb.drugs[d].classes}
    for rate in kb.complications[key].rates:
        if rate.drugs_all is not None and not set(rate.drugs_all) <= drugs:
            continue
        if rate.drug_class is not None and rate.drug_class not in classes:
            continue
        return rate
    raise KeyError(f"no rate of {key} fits {sorted(drugs)}")


def postoperative_options(kb: KnowledgeBase, procedure: str) -> list[tuple[str, Rate]]:
    """(complication, rate) of the complicated courses this procedure may have."""
    return [
        (key, rate)
        for key, spec in sorted(kb.postoperative.items())
        for rate in spec.rates
        if rate.procedure == procedure
    ]


def _postoperative(rng: random.Random, kb: KnowledgeBase, procedure: str) -> str | None:
    """One draw: a complication with its sourced probability, else an uneventful course."""
    draw = rng.random()
    cumulative = 0.0
    for key, rate in postoperative_options(kb, procedure):
        cumulative += rate.p
        if draw < cumulative:
            return key
    return None


_DURATION = {  # days a step lasts before the next one starts (order of magnitude, assumption)
    "surgery": (1, 1),
    "local_ablation": (1, 1),
    "chemoradiation": (35, 49),
    "radiotherapy": (21, 42),
    "neoadjuvant": (84, 126),
    "adjuvant": (90, 180),
    "other": (60, 120),
    # A metastatic line given until progression (order of magnitude of first-line
    # progression-free survival, assumption).
    "prior_line": (150, 360),
}


def _step_duration(rng: random.Random, step, *, prior: bool = False) -> int:
    if prior:
        return rng.randint(*_DURATION["prior_line"])
    modality = step[0].modality
    if modality in _DURATION:
        low, high = _DURATION[modality]
    else:
        low, high = _DURATION.get(step[0].intent, _DURATION["other"])
    return rng.randint(low, high)


def _reason_options(kb: KnowledgeBase, site: str, plan: Plan) -> dict[str, list[int]]:
    """For each reason, the plan steps a stay for that reason can be about."""
    steps = plan.step_treatments()
    first = len(plan.prior)
    # A later-line plan: the stay is about the current line, after the earlier ones.
    options: dict[str, list[int]] = {} if first else {"diagnostic": [-1]}
    # A stay for deterioration and poorly controlled pain belongs to palliative care; in a
    # curative pathway the other readmission is after the operation (narrative.course_text).
    palliative = [
        i
        for i, s in enumerate(steps)
        if i >= first
        and any(t.intent == "palliative" or t.modality in ("supportive_care", "surgery") for t in s)
    ]
    if palliative:
        options["complication"] = palliative
    procedure = [
        i for i, s in enumerate(steps) if i >= first and s[0].modality in PROCEDURE_MODALITIES
    ]
    if procedure:
        options["surgery"] = procedure[:1]
    drug_steps = [
        i
        for i, s in enumerate(steps)
        if i >= first
        and any(t.modality in DRUG_MODALITIES and t.modality != "intravesical" for t in s)
    ]
    if drug_steps:
        options["systemic_start"] = drug_steps
    toxic = [i for i in drug_steps if complication_options(kb, site=site, step_treatments=steps[i])]
    if toxic:
        options["toxicity"] = toxic
    return options


def _birth_date(rng: random.Random, admission: dt.date, age: int) -> dt.date:
    """A birth date giving exactly `age` full years on the admission day."""

    def years_before(day: dt.date, years: int) -> dt.date:
        try:
            return day.replace(year=day.year - years)
        except ValueError:  # 29 February
            return day.replace(year=day.year - years, day=28)

    latest = years_before(admission, age)
    earliest = years_before(admission, age + 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))


def case_site_regroups(site: str) -> bool:
    """Sites whose pathological stage group may differ from the clinical one (AJCC 8th):
    the stomach's own pTNM table, the prostate's undivided pT2."""
    return site in ("stomach", "prostate")


def clinical_draw(
    *,
    rng: random.Random,
    kb: KnowledgeBase,
    population: Population,
    frame: Any,
    site: str,
    admission: dt.date,
) -> ClinicalCase:
    figures = frame.sites[site]
    spec = kb.sites[site]
    sex = _choice(rng, figures.sex.p)
    age = round(rng.gauss(figures.age.median[sex], figures.age.sd))
    age = min(max(age, 25), 95)
    smoking = _choice(rng, (figures.smoking or frame.smoking).p)
    histology = _histology(rng, site, figures, population, smoking)
    group = spec.histologies[histology].group

    metastatic_sites: list[str] = []
    child_pugh = None
    tnm_text = ""
    if spec.staging == "bclc":
        stage = _choice(rng, figures.stage.p)
        stage_group = stage
        bclc = spec.bclc[stage]
        if _bernoulli(rng, bclc.metastatic_probability):
            metastatic_sites = sorted(rng.sample(sorted(spec.metastatic_sites), rng.randint(1, 2)))
        ecog_p = {str(e): frame.ecog.p.get(str(e), 0) for e in bclc.ecog}
        if not any(ecog_p.values()):
            ecog_p = {str(e): 1.0 for e in bclc.ecog}
        ecog = int(_choice(rng, ecog_p))
        child_pugh = _choice(rng, {k: {"A": 0.6, "B": 0.3, "C": 0.1}[k] for k in bclc.child_pugh})
        raw = _raw_biomarkers(
            rng,
            site=site,
            histology=histology,
            stage_group=stage,
            smoking=smoking,
            figures=figures,
            pop=population,
        )
        parsed = None
    else:
        drawn_group = _choice(rng, figures.stage.p)
        parsed, factors = tnm_engine.tnm_entry_parse(rng.choice(spec.tnm[drawn_group]))
        raw = _raw_biomarkers(
            rng,
            site=site,
            histology=histology,
            stage_group=drawn_group,
            smoking=smoking,
            figures=figures,
            pop=population,
        )
        # Prognostic factors of the stage (prostate PSA, Grade Group) come with the entry.
        raw |= factors
        t, n, m = parsed.t, parsed.n, parsed.m
        if parsed.metastatic:
            organs = sorted(spec.metastatic_sites)
            metastatic_sites = sorted(rng.sample(organs, rng.randint(1, min(3, len(organs)))))
            multiple = spec.m_multiple_organs
            m = tnm_engine.m_category(
                site_letters=spec.metastatic_sites,
                multiple=(multiple.from_, multiple.to) if multiple else None,
                sites=metastatic_sites,
            )
        if site == "head_and_neck" and raw.get("p16") == "positive":
            t, n = tnm_engine.p16_positive_categories(t, n)
        parsed = tnm_engine.TNM(prefix="c", t=t, n=n, m=m)
        stage = tnm_engine.stage_from_tnm(site=site, tnm=parsed, biomarkers=raw)
        stage_group = tnm_engine.stage_group(stage)
        ecog = int(_choice(rng, frame.ecog.p))
    biomarkers = tested_biomarkers(spec, histology, stage_group, raw)
    risk = (
        risk_group(spec, t=parsed.t, n=parsed.n, m=parsed.m, biomarkers=biomarkers)
        if parsed is not None
        else None
    )
    clinical_tnm = str(parsed) if parsed is not None else ""
    menopause = None
    if sex == "F":
        post = _bernoulli(rng, population.women.postmenopausal_by_age.at(age))
        menopause = "post" if post else "pre"
    comorbidities = _comorbidities(rng, population, site=site, age=age, smoking=smoking)
    liver_involved = site == "liver" or "liver" in metastatic_sites

    facts = Facts(
        site=site,
        histology=histology,
        group=group,
        stage=stage,
        stage_group=stage_group,
        t=parsed.t if parsed else "",
        n=parsed.n if parsed else "",
        m=parsed.m if parsed else ("M1" if metastatic_sites else "M0"),
        biomarkers=biomarkers,
        sex=sex,  # type: ignore[arg-type]
        age=age,
        ecog=ecog,
        crcl=0,
        menopause=menopause,  # type: ignore[arg-type]
        child_pugh=child_pugh,  # type: ignore[arg-type]
        risk=risk,
    )
    # Kidney function first: eligibility (cisplatin, pemetrexed…) depends on it.
    probe = _labs(
        rng,
        sex=sex,
        age=age,
        comorbidities=comorbidities,
        liver_involved=liver_involved,
        child_pugh=child_pugh,
        neutropenic=False,
    )
    facts = facts.model_copy(update={"crcl": probe.crcl_ml_min})
    plans = plans_for_patient(kb, facts)
    plan = rng.choice(plans)
    fallback_reasons = []
    if plan.fallback:
        for other in kb.plans:
            if other.fallback < plan.fallback and plan_matches_setting(other, facts):
                failures = requirement_failures(other.requires, facts)
                fallback_reasons.append(f"{other.id}: {', '.join(failures)}")

    options = _reason_options(kb, site, plan)
    reasons = {k: p for k, p in frame.reasons.p.items() if k in options}
    reason = _choice(rng, reasons) if any(reasons.values()) else "complication"
    current = rng.choice(options[reason])
    steps = plan.step_treatments()
    complication = None
    if reason == "toxicity":
        # Weighed by each complication's frequency with these drugs (knowledge base rates).
        possible = complication_options(kb, site=site, step_treatments=steps[current])
        weights = [complication_rate(kb, key, steps[current]).p for key in possible]
        complication = rng.choices(possible, weights=weights, k=1)[0]
    labs = probe
    if complication == "febrile_neutropenia":
        labs = probe.model_copy(update={"neutrophils_g_l": round(rng.uniform(0.1, 0.4), 1)})

    # Dates: the stay is anchored on the admission; earlier steps are laid out backwards.
    starts: dict[int, dt.date] = {}
    progression = None
    first_own = len(plan.prior)
    if current >= 0:
        offset = {"toxicity": (8, 60), "complication": (15, 120)}.get(reason, (0, 0))
        starts[current] = admission - dt.timedelta(days=rng.randint(*offset))
        for index in range(current - 1, -1, -1):
            gap = rng.randint(21, 42)
            if index == first_own - 1:
                # The last prior line ends with a progression, a few weeks before the next.
                progression_gap = rng.randint(14, 28)
                progression = starts[index + 1] - dt.timedelta(days=progression_gap)
                gap = progression_gap
            starts[index] = starts[index + 1] - dt.timedelta(
                days=_step_duration(rng, steps[index], prior=index < first_own) + gap
            )
        diagnosis = starts[0] - dt.timedelta(days=rng.randint(14, 35))
    else:
        diagnosis = admission
    postoperative = None
    if reason == "surgery":
        procedure_key = steps[current][0].procedure or ""
        recovery = kb.procedures[procedure_key].recovery
        length = rng.randint(*STAY_AFTER_PROCEDURE[recovery])
        postoperative = _postoperative(rng, kb, procedure_key)
        if postoperative is not None:
            length += rng.randint(*kb.postoperative[postoperative].extra_days)
    else:
        length = rng.randint(*STAY_BY_REASON[reason])
    discharge = admission + dt.timedelta(days=length)
    procedure_steps = [i for i, s in enumerate(steps) if s[0].modality == "surgery"]
    surgery_step = procedure_steps[0] if procedure_steps else None
    surgery_date = None
    # After the operation: a later step, or a complication/toxicity stay of that step.
    operated = surgery_step is not None and (
        surgery_step < current or (surgery_step == current and reason != "surgery")
    )
    if surgery_step is not None and surgery_step <= current:
        surgery_date = starts[surgery_step]
        if reason == "surgery" and surgery_step == current:
            surgery_date = admission + dt.timedelta(days=min(1, length))

    prefix = "c"
    if operated and surgery_step is not None:
        before = steps[:surgery_step]
        neoadjuvant = any(t.modality != "surgery" for s in before for t in s)
        prefix = "yp" if neoadjuvant else "p"
    if kb.sites[site].pathological_at_diagnosis and prefix == "c":
        prefix = "p"
    if parsed is not None:
        t_out = parsed.t
        if prefix in ("p", "yp"):
            t_out = tnm_engine.pathological_t(site=site, t=parsed.t)
        tnm_text = f"{prefix}{t_out}{parsed.n}{parsed.m}"
        # Pathological groups differ from clinical ones for some sites (stomach, AJCC 8th).
        final = tnm_engine.TNM(prefix=prefix, t=t_out, n=parsed.n, m=parsed.m)
        if case_site_regroups(site):
            stage = tnm_engine.stage_from_tnm(site=site, tnm=final, biomarkers=biomarkers)
            stage_group = tnm_engine.stage_group(stage)

    treatments = []
    for index, step in enumerate(steps):
        status = "done" if index < current else "current" if index == current else "planned"
        for item in step:
            treatments.append(
                Treatment(
                    modality=item.modality,
                    intent=item.intent,
                    line=item.line,
                    regimen=_regimen(kb, item, "fr"),
                    regimen_en=_regimen(kb, item, "en"),
                    drugs=list(item.drugs),
                    procedure=item.procedure,
                    step=index,
                    concurrent=len(step) > 1 or item.modality == "chemoradiation",
                    status=status,  # type: ignore[arg-type]
                    start_date=starts[index].isoformat() if index in starts else None,
                    months=item.months,
                )
            )
    return ClinicalCase(
        knowledge=kb.label,
        site=site,
        histology=histology,
        group=group,
        stage=stage,
        stage_group=stage_group,
        tnm=tnm_text,
        clinical_tnm=clinical_tnm,
        risk_group=risk,
        sex=sex,  # type: ignore[arg-type]
        age=age,
        menopause=menopause,  # type: ignore[arg-type]
        ecog=ecog,
        child_pugh=child_pugh,  # type: ignore[arg-type]
        biomarkers=biomarkers,
        metastatic_sites=metastatic_sites,
        comorbidities=comorbidities,
        smoking=smoking,
        plan=plan.id,
        plan_source=plan.source,
        plan_fallback=plan.fallback,
        fallback_reasons=fallback_reasons,
        treatments=treatments,
        reason=reason,
        complication=complication,
        postoperative=postoperative,
        labs=labs,
        timeline=Timeline(
            diagnosis_date=diagnosis.isoformat(),
            surgery_date=surgery_date.isoformat() if surgery_date else None,
            current_step=current,
            progression_date=progression.isoformat() if progression else None,
        ),
        admission_date=admission.isoformat(),
        discharge_date=discharge.isoformat(),
        birth_date=_birth_date(rng, admission, age).isoformat(),
    )
