"""The clinical knowledge base: typed models of generation/data/guidelines/*.yaml and its checks.

`knowledge_validate` returns the parsed base or raises `KnowledgeInvalid` listing every
problem with its location: an unknown drug, procedure, biomarker or source, a plan without
its eligibility (`requires` with at least `ecog_max`), a plan laxer than the drugs it gives
(cisplatin without a cisplatin-eligibility check), a TNM table whose categories do not give
its stage (AJCC 8th), a setting where an unfit patient would have no plan, or a plan that
breaks one of the base's own rules. A coordinator uploading a revised base sees all of them
at once, and nothing changes until it is clean.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from generation.clinical import tnm as tnm_engine

GUIDELINES_DIR = Path(__file__).resolve().parent.parent / "data" / "guidelines"
DEFAULT_KNOWLEDGE_FILE = GUIDELINES_DIR / "oncology-fr.yaml"
NOT_TESTED = "not tested"

MODALITIES = (
    "surgery",
    "radiotherapy",
    "chemoradiation",
    "chemotherapy",
    "targeted",
    "immunotherapy",
    "endocrine",
    "anti_her2",
    "active_surveillance",
    "local_ablation",
    "intravesical",
    "supportive_care",
)
SYSTEMIC = ("chemotherapy", "targeted", "immunotherapy", "endocrine", "anti_her2")
DRUG_MODALITIES = (*SYSTEMIC, "chemoradiation", "intravesical")
PROCEDURE_MODALITIES = ("surgery", "local_ablation")
INTENTS = ("curative", "adjuvant", "neoadjuvant", "palliative", "consolidation")
RECOVERY = (
    "breast",
    "thoracic",
    "digestive",
    "prostate",
    "endoscopic",
    "urological",
    "skin",
    "head_neck",
    "interventional",
)
TNM_STAGES = ("I", "II", "III", "IV")
BCLC_STAGES = ("0", "A", "B", "C", "D")
SUB_STAGES = (
    *("IA", "IA1", "IA2", "IA3", "IB", "IIA", "IIB", "IIC", "IIIA", "IIIB", "IIIC"),
    *("IVA", "IVB", "IVC"),
)


class KnowledgeInvalid(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labels(_Strict):
    fr: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Source(_Strict):
    citation: str = Field(min_length=10)
    year: int = Field(ge=1990, le=2100)
    url: str = ""


class Biomarker(_Strict):
    fr: str
    en: str
    values: list[str] = Field(min_length=2)


class Requirements(_Strict):
    """Eligibility: every stated condition must hold for the patient."""

    ecog_max: int | None = Field(default=None, ge=0, le=4)
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    crcl_min: int | None = Field(default=None, ge=0, le=200)
    sex: Literal["M", "F"] | None = None
    menopause: list[Literal["pre", "post"]] | None = None
    child_pugh: list[Literal["A", "B", "C"]] | None = None
    biomarkers: dict[str, list[str]] = Field(default_factory=dict)
    t: list[str] | None = None
    n: list[str] | None = None
    m: list[str] | None = None
    # Risk group of the site's `risk_groups` table (prostate: EAU low/intermediate/high…).
    risk: list[str] | None = None


class Drug(_Strict):
    fr: str
    en: str
    classes: list[str] = Field(min_length=1)
    myelotoxic: bool
    route: Literal["iv", "oral", "sc", "im", "intravesical"]
    requires: Requirements = Requirements()
    source: str = ""


class Procedure(_Strict):
    fr: str
    en: str
    recovery: Literal[RECOVERY]  # type: ignore[valid-type]
    requires: Requirements
    source: str


class Regimen(_Strict):
    id: str
    drugs_all: list[str] = Field(min_length=2)
    requires: Requirements
    source: str


class ComorbidityDrugs(_Strict):
    fr: str
    en: str
    source: str


class SiteBiomarker(_Strict):
    values: list[str] = Field(min_length=2)
    # A prognostic factor of the stage (prostate PSA, Grade Group): its value comes with the
    # TNM entry of the site's table, it is not drawn on its own.
    staging: bool = False
    histologies: list[str] | None = None
    stages: list[str] | None = None
    when: dict[str, list[str]] = Field(default_factory=dict)


class Rate(_Strict):
    """How often a complication follows one treatment (a regimen, a drug class, a procedure)."""

    drugs_all: list[str] | None = None
    drug_class: str | None = None
    procedure: str | None = None
    p: float = Field(gt=0, le=1)
    source: str
    note: str = ""


class Complication(_Strict):
    """A reason to come back to hospital that the current treatment can cause."""

    myelotoxic: bool = False
    drug_classes: list[str] | None = None
    modalities: list[str] | None = None
    sites: list[str] | None = None
    source: str
    fr: str
    en: str
    mention: list[str] = Field(min_length=1)
    # Frequency by regimen or drug class (the draw weighs a toxicity stay's cause by them).
    rates: list[Rate] = Field(default_factory=list)


class RiskRow(_Strict):
    """One row of a site's risk-group table: the first row whose conditions all hold."""

    risk: str = Field(pattern=r"^[a-z_]+$")
    t: list[str] | None = None
    n: list[str] | None = None
    m: list[str] | None = None
    biomarkers: dict[str, list[str]] = Field(default_factory=dict)


class Histology(_Strict):
    group: str
    fr: str
    en: str


class BCLCStage(_Strict):
    ecog: list[int] = Field(min_length=1)
    child_pugh: list[Literal["A", "B", "C"]] = Field(min_length=1)
    metastatic_probability: float = Field(ge=0, le=1)


class MultipleOrgans(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: str = Field(alias="from")
    to: str


class Site(_Strict):
    fr: str
    en: str
    staging: Literal["tnm", "bclc"]
    source: str
    # The diagnosis is an excision (melanoma): the T category is pathological from the start.
    pathological_at_diagnosis: bool = False
    histologies: dict[str, Histology] = Field(min_length=1)
    biomarkers: dict[str, SiteBiomarker] = Field(default_factory=dict)
    # Alterations that do not occur together (each mapping: biomarker -> its positive value).
    exclusive: list[dict[str, str]] = Field(default_factory=list)
    metastatic_sites: dict[str, str] = Field(min_length=1)
    m_multiple_organs: MultipleOrgans | None = None
    # Stage group -> entries "T2bN0M0" (prostate: "T2bN0M0 PSA<10 GG1", see tnm_entry_parse).
    tnm: dict[str, list[str]] = Field(default_factory=dict)
    bclc: dict[str, BCLCStage] = Field(default_factory=dict)
    risk_groups: list[RiskRow] = Field(default_factory=list)
    risk_source: str = ""

    @property
    def stages(self) -> tuple[str, ...]:
        return BCLC_STAGES if self.staging == "bclc" else TNM_STAGES


class Treatment(_Strict):
    modality: Literal[MODALITIES]  # type: ignore[valid-type]
    intent: Literal[INTENTS]  # type: ignore[valid-type]
    line: int | None = Field(default=None, ge=1, le=5)
    drugs: list[str] = Field(default_factory=list)
    procedure: str | None = None
    name: Labels | None = None
    # Planned duration when the guideline fixes it (androgen deprivation: 6 vs 24 months).
    months: int | None = Field(default=None, ge=1, le=60)


class Together(_Strict):
    together: list[Treatment] = Field(min_length=2)


class Plan(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]+$")
    site: str
    groups: list[str] | None = None
    histologies: list[str] | None = None
    stages: list[str] = Field(min_length=1)
    fallback: int = Field(default=0, ge=0, le=3)
    source: str
    requires: Requirements
    # Earlier lines already given (metastatic disease, after progression), in order; each
    # treatment states its `line`, lower than the lines of `steps`.
    prior: list[Treatment | Together] = Field(default_factory=list)
    steps: list[Treatment | Together] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _eligibility_stated(cls, data: Any) -> Any:
        if isinstance(data, dict) and "requires" not in data:
            raise ValueError(
                "the plan states no eligibility: add `requires` with at least `ecog_max`"
            )
        return data

    def step_treatments(self) -> list[list[Treatment]]:
        """Prior lines first, then the plan's own steps."""
        return [s.together if isinstance(s, Together) else [s] for s in (*self.prior, *self.steps)]

    def treatments(self) -> list[Treatment]:
        return [t for step in self.step_treatments() for t in step]

    def drugs(self) -> set[str]:
        return {d for t in self.treatments() for d in t.drugs}


class TreatmentSpec(_Strict):
    modality: list[str] | None = None
    intent: list[str] | None = None
    drugs: list[str] | None = None
    procedures: list[str] | None = None
    unless_drugs: list[str] | None = None
    # Duration bounds (months) of the matching treatment (never met by an unknown duration).
    min_months: int | None = None
    max_months: int | None = None


class RuleWhen(_Strict):
    site: str | None = None
    groups: list[str] | None = None
    histologies: list[str] | None = None
    stages: list[str] | None = None
    biomarkers: dict[str, list[str]] = Field(default_factory=dict)
    biomarkers_any: dict[str, list[str]] = Field(default_factory=dict)
    sex: Literal["M", "F"] | None = None
    menopause: list[Literal["pre", "post"]] | None = None
    child_pugh: list[Literal["A", "B", "C"]] | None = None
    t: list[str] | None = None
    n: list[str] | None = None
    m: list[str] | None = None
    risk: list[str] | None = None


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]+$")
    category: Literal["regimen_vs_histology", "regimen_vs_biomarkers", "plan_vs_fitness"]
    source: str
    text: str = Field(min_length=5)
    when: RuleWhen
    forbid: list[TreatmentSpec] = Field(default_factory=list)
    require: list[TreatmentSpec] = Field(default_factory=list)
    applies_to_fallbacks: bool = False


class Sequence(_Strict):
    """Order of treatment lines: a later-line treatment matching `later` needs every `prior`
    spec met by a treatment of an earlier line (e.g. FOLFIRI after FOLFOX)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]+$")
    source: str
    text: str = Field(min_length=5)
    when: RuleWhen
    later: TreatmentSpec
    prior: list[TreatmentSpec] = Field(min_length=1)


class PostoperativeComplication(_Strict):
    """A complicated post-operative course, with its frequency by procedure."""

    fr: str
    en: str
    extra_days: tuple[int, int]
    mention: list[str] = Field(min_length=1)
    rates: list[Rate] = Field(min_length=1)


class KnowledgeBase(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,99}$")
    version: int = Field(ge=1)
    title: str = ""
    status: str = ""
    sources: dict[str, Source] = Field(min_length=1)
    biomarkers: dict[str, Biomarker] = Field(min_length=1)
    drugs: dict[str, Drug] = Field(min_length=1)
    procedures: dict[str, Procedure] = Field(min_length=1)
    regimens: list[Regimen] = Field(default_factory=list)
    comorbidity_drugs: dict[str, ComorbidityDrugs] = Field(default_factory=dict)
    complications: dict[str, Complication] = Field(default_factory=dict)
    recovery: dict[str, Labels] = Field(default_factory=dict)
    sites: dict[str, Site] = Field(min_length=1)
    plans: list[Plan] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    sequences: list[Sequence] = Field(default_factory=list)
    postoperative: dict[str, PostoperativeComplication] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def plan(self, plan_id: str) -> Plan:
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        raise KeyError(plan_id)


# --- the facts eligibility and rules look at --------------------------------------------


class Facts(_Strict):
    """What a rule or an eligibility condition may look at, for one patient and tumour."""

    site: str
    histology: str
    group: str
    stage: str  # sub-group when known ("IIIB"), BCLC letter for HCC
    stage_group: str
    t: str = ""
    n: str = ""
    m: str = ""
    biomarkers: dict[str, str] = Field(default_factory=dict)
    sex: Literal["M", "F"]
    age: int
    ecog: int
    crcl: float
    menopause: Literal["pre", "post"] | None = None
    child_pugh: Literal["A", "B", "C"] | None = None
    risk: str | None = None


def _category_in(value: str, allowed: list[str] | None) -> bool:
    """TNM categories match by prefix: 'N1' covers N1a/N1b, 'M1' covers M1a-d."""
    if allowed is None:
        return True
    return bool(value) and any(value.startswith(a) for a in allowed)


def _biomarker_in(facts: Facts, name: str, values: list[str]) -> bool:
    return facts.biomarkers.get(name, NOT_TESTED) in values


def _stage_in(facts: Facts, stages: list[str] | None) -> bool:
    return stages is None or facts.stage in stages or facts.stage_group in stages


def requirement_failures(requires: Requirements, facts: Facts) -> list[str]:
    """The unmet conditions, worded for a flag's evidence; empty when eligible."""
    failures = []
    if requires.ecog_max is not None and facts.ecog > requires.ecog_max:
        failures.append(f"ECOG {facts.ecog} > {requires.ecog_max}")
    if requires.age_max is not None and facts.age > requires.age_max:
        failures.append(f"age {facts.age} > {requires.age_max}")
    if requires.age_min is not None and facts.age < requires.age_min:
        failures.append(f"age {facts.age} < {requires.age_min}")
    if requires.crcl_min is not None and facts.crcl < requires.crcl_min:
        failures.append(f"creatinine clearance {facts.crcl:.0f} < {requires.crcl_min} mL/min")
    if requires.sex is not None and facts.sex != requires.sex:
        failures.append(f"sex {facts.sex}, requires {requires.sex}")
    if requires.menopause is not None and facts.menopause not in requires.menopause:
        failures.append(f"menopausal status {facts.menopause}, requires {requires.menopause}")
    if requires.child_pugh is not None and facts.child_pugh not in requires.child_pugh:
        failures.append(f"Child-Pugh {facts.child_pugh}, requires {requires.child_pugh}")
    if requires.risk is not None and facts.risk not in requires.risk:
        failures.append(f"risk group {facts.risk}, requires {'/'.join(requires.risk)}")
    for name, values in requires.biomarkers.items():
        if not _biomarker_in(facts, name, values):
            actual = facts.biomarkers.get(name, NOT_TESTED)
            failures.append(f"{name} {actual}, requires {' or '.join(values)}")
    for label, value, allowed in (
        ("T", facts.t, requires.t),
        ("N", facts.n, requires.n),
        ("M", facts.m, requires.m),
    ):
        if not _category_in(value, allowed):
            failures.append(f"{value or label + '?'}, requires {'/'.join(allowed or [])}")
    return failures


def plan_matches_setting(plan: Plan, facts: Facts) -> bool:
    return (
        plan.site == facts.site
        and (plan.groups is None or facts.group in plan.groups)
        and (plan.histologies is None or facts.histology in plan.histologies)
        and _stage_in(facts, plan.stages)
    )


def plans_for_patient(kb: KnowledgeBase, facts: Facts) -> list[Plan]:
    """Eligible standard plans, else the eligible fallbacks of the lowest level."""
    eligible = [
        p
        for p in kb.plans
        if plan_matches_setting(p, facts) and not requirement_failures(p.requires, facts)
    ]
    if not eligible:
        return []
    level = min(p.fallback for p in eligible)
    return [p for p in eligible if p.fallback == level]


def rule_applies(rule: Rule | Sequence, facts: Facts) -> bool:
    when = rule.when
    if when.site is not None and when.site != facts.site:
        return False
    if when.groups is not None and facts.group not in when.groups:
        return False
    if when.histologies is not None and facts.histology not in when.histologies:
        return False
    if not _stage_in(facts, when.stages):
        return False
    if when.sex is not None and facts.sex != when.sex:
        return False
    if when.menopause is not None and facts.menopause not in when.menopause:
        return False
    if when.child_pugh is not None and facts.child_pugh not in when.child_pugh:
        return False
    if when.risk is not None and facts.risk not in when.risk:
        return False
    if not all(_biomarker_in(facts, k, v) for k, v in when.biomarkers.items()):
        return False
    if when.biomarkers_any and not any(
        _biomarker_in(facts, k, v) for k, v in when.biomarkers_any.items()
    ):
        return False
    return all(
        allowed is None or _category_in(value, allowed)
        for value, allowed in ((facts.t, when.t), (facts.n, when.n), (facts.m, when.m))
    )


class TreatmentFacts(_Strict):
    """A treatment as the checker sees it (from a plan, a scenario or an annotated report)."""

    modality: str
    intent: str = ""
    drugs: list[str] = Field(default_factory=list)
    procedure: str | None = None
    step: int = 0
    line: int | None = None
    months: int | None = None


def spec_matches(spec: TreatmentSpec, treatment: TreatmentFacts) -> bool:
    if spec.modality is not None and treatment.modality not in spec.modality:
        return False
    if spec.intent is not None and treatment.intent not in spec.intent:
        return False
    if spec.drugs is not None and not set(spec.drugs) & set(treatment.drugs):
        return False
    # A duration bound only matches a treatment whose duration is known (a report's
    # annotation may not state it).
    if spec.min_months is not None and (
        treatment.months is None or treatment.months < spec.min_months
    ):
        return False
    if spec.max_months is not None and (
        treatment.months is None or treatment.months > spec.max_months
    ):
        return False
    return spec.procedures is None or treatment.procedure in spec.procedures


def rule_breaches(
    rule: Rule, treatments: list[TreatmentFacts], *, fallback: bool, requirements: bool = True
) -> list[str]:
    """Evidence of each breach of `rule` by these treatments (the rule is known to apply)."""
    breaches = []
    all_drugs = {d for t in treatments for d in t.drugs}
    for spec in rule.forbid:
        if spec.unless_drugs and set(spec.unless_drugs) & all_drugs:
            continue
        for t in treatments:
            if spec_matches(spec, t):
                what = ", ".join(t.drugs) or t.procedure or t.modality
                breaches.append(f"forbidden: {t.modality} ({what})")
    if requirements and (rule.applies_to_fallbacks or not fallback):
        for spec in rule.require:
            if not any(spec_matches(spec, t) for t in treatments):
                wanted = spec.drugs or spec.procedures or spec.modality or []
                breaches.append(f"missing: {'/'.join(wanted)} {'/'.join(spec.intent or [])}")
    return breaches


def sequence_breaches(
    kb: KnowledgeBase, facts: Facts, treatments: list[TreatmentFacts]
) -> list[tuple[str, str]]:
    """(sequence id or '', evidence) for each treatment line out of order: a line without
    the line before it, a line repeating the regimen that just progressed, a later-line drug
    without the earlier treatment its guideline places before it."""
    found = []
    lines: dict[int, set[str]] = {}
    for t in treatments:
        if t.line is not None:
            lines.setdefault(t.line, set()).update(t.drugs or [t.modality])
    for line in sorted(lines):
        if line > 1 and line - 1 not in lines:
            found.append(("", f"line {line} without a line {line - 1} before it"))
        elif line > 1 and lines[line] == lines[line - 1]:
            drugs = ", ".join(sorted(lines[line]))
            found.append(("", f"line {line} repeats line {line - 1} ({drugs}) after progression"))
    for sequence in kb.sequences:
        if not rule_applies(sequence, facts):
            continue
        for t in treatments:
            if (t.line or 1) < 2 or not spec_matches(sequence.later, t):
                continue
            earlier = [u for u in treatments if u.line is not None and u.line < (t.line or 1)]
            for spec in sequence.prior:
                if not any(spec_matches(spec, u) for u in earlier):
                    wanted = "/".join(spec.drugs or spec.procedures or spec.modality or [])
                    found.append(
                        (
                            sequence.id,
                            f"{sequence.text} (line {t.line} {', '.join(t.drugs)} without "
                            f"prior {wanted})",
                        )
                    )
    return found


def risk_group(site: Site, *, t: str, n: str, m: str, biomarkers: dict[str, str]) -> str | None:
    """The site's risk group of these clinical categories and factors (first matching row)."""
    for row in site.risk_groups:
        if (
            _category_in(t, row.t)
            and _category_in(n, row.n)
            and _category_in(m, row.m)
            and all(biomarkers.get(k) in v for k, v in row.biomarkers.items())
        ):
            return row.risk
    return None


def plan_treatment_facts(plan: Plan) -> list[TreatmentFacts]:
    return [
        TreatmentFacts(
            modality=t.modality,
            intent=t.intent,
            drugs=list(t.drugs),
            procedure=t.procedure,
            step=index,
            line=t.line,
            months=t.months,
        )
        for index, step in enumerate(plan.step_treatments())
        for t in step
    ]


def treatment_requirements(kb: KnowledgeBase, treatments: list[TreatmentFacts]):
    """(what, Requirements, source) of every drug, procedure and regimen given."""
    found = []
    for t in treatments:
        for drug in t.drugs:
            spec = kb.drugs.get(drug)
            if spec is not None and spec.requires != Requirements():
                found.append((drug, spec.requires, spec.source))
        if t.procedure and t.procedure in kb.procedures:
            proc = kb.procedures[t.procedure]
            found.append((t.procedure, proc.requires, proc.source))
    by_step: dict[int, set[str]] = {}
    for t in treatments:
        by_step.setdefault(t.step, set()).update(t.drugs)
    for regimen in kb.regimens:
        if any(set(regimen.drugs_all) <= drugs for drugs in by_step.values()):
            found.append((regimen.id, regimen.requires, regimen.source))
    return found


# --- validation --------------------------------------------------------------------------


def _loc(parts) -> str:
    return ".".join(str(p) for p in parts)


def _semantic_errors(kb: KnowledgeBase) -> list[str]:
    errors: list[str] = []

    def sourced(where: str, source: str) -> None:
        if source and source not in kb.sources:
            errors.append(f"{where}.source: {source!r} is not a key of 'sources'")

    def biomarker_values(where: str, mapping: dict[str, list[str]], site: Site | None) -> None:
        for name, values in mapping.items():
            if name not in kb.biomarkers:
                errors.append(
                    f"{where}: unknown biomarker {name!r}; known biomarkers: "
                    f"{', '.join(sorted(kb.biomarkers))}"
                )
                continue
            allowed = site.biomarkers[name].values if site and name in site.biomarkers else None
            allowed = allowed or kb.biomarkers[name].values
            for value in values:
                if value != NOT_TESTED and value not in allowed:
                    errors.append(
                        f"{where}.{name}: unknown value {value!r}; expected one of "
                        f"{', '.join(map(repr, allowed))} or 'not tested'"
                    )

    for key, drug in kb.drugs.items():
        sourced(f"drugs.{key}", drug.source)
        if drug.requires != Requirements() and not drug.source:
            errors.append(f"drugs.{key}: a drug with requirements must cite its source")
    for key, proc in kb.procedures.items():
        sourced(f"procedures.{key}", proc.source)
    for i, regimen in enumerate(kb.regimens):
        sourced(f"regimens[{i}]", regimen.source)
        for drug_key in regimen.drugs_all:
            if drug_key not in kb.drugs:
                errors.append(f"regimens[{i}] ({regimen.id}): unknown drug {drug_key!r}")
    for key, item in kb.comorbidity_drugs.items():
        sourced(f"comorbidity_drugs.{key}", item.source)
    classes = {c for drug in kb.drugs.values() for c in drug.classes}
    for key, complication in kb.complications.items():
        sourced(f"complications.{key}", complication.source)
        for cls in complication.drug_classes or []:
            if cls not in classes:
                errors.append(f"complications.{key}: unknown drug class {cls!r}")

    def rate_errors(where: str, rates: list[Rate], *, postoperative: bool = False) -> None:
        """Post-operative rates name their procedure; a drug complication's rates are
        regimens (drugs_all) or classes, then one default rate last (no selector)."""
        for i, rate in enumerate(rates):
            here = f"{where}.rates[{i}]"
            sourced(here, rate.source)
            given = [x for x in (rate.drugs_all, rate.drug_class, rate.procedure) if x]
            last = i == len(rates) - 1
            if postoperative and (rate.procedure is None or len(given) != 1):
                errors.append(f"{here}: a post-operative rate names its procedure only")
            elif not postoperative and rate.procedure is not None:
                errors.append(f"{here}: a treatment complication's rate names no procedure")
            elif not postoperative and len(given) > 1:
                errors.append(f"{here}: give drugs_all or drug_class, not both")
            elif not postoperative and bool(given) == last:
                errors.append(
                    f"{here}: rates are regimens or drug classes, then one default rate "
                    "(without drugs_all or drug_class) last"
                )
            for drug_key in rate.drugs_all or []:
                if drug_key not in kb.drugs:
                    errors.append(f"{here}: unknown drug {drug_key!r}")
            if rate.drug_class and rate.drug_class not in classes:
                errors.append(f"{here}: unknown drug class {rate.drug_class!r}")
            if rate.procedure and rate.procedure not in kb.procedures:
                errors.append(f"{here}: unknown procedure {rate.procedure!r}")

    for key, complication in kb.complications.items():
        rate_errors(f"complications.{key}", complication.rates)
    by_procedure: dict[str, float] = {}
    for key, post in kb.postoperative.items():
        rate_errors(f"postoperative.{key}", post.rates, postoperative=True)
        if not 0 <= post.extra_days[0] <= post.extra_days[1]:
            errors.append(f"postoperative.{key}.extra_days: give [low, high] days")
        for rate in post.rates:
            if rate.procedure:
                by_procedure[rate.procedure] = by_procedure.get(rate.procedure, 0) + rate.p
    for procedure, total in sorted(by_procedure.items()):
        if total > 1:
            errors.append(f"postoperative: complications of {procedure} add up to {total:.2f} > 1")
    missing = sorted({p.recovery for p in kb.procedures.values()} - set(kb.recovery))
    if missing:
        errors.append(f"recovery: no post-procedure course for {', '.join(missing)}")

    for name, site in kb.sites.items():
        where = f"sites.{name}"
        sourced(where, site.source)
        for marker, spec in site.biomarkers.items():
            if marker not in kb.biomarkers:
                errors.append(f"{where}.biomarkers: unknown biomarker {marker!r}")
                continue
            unknown = sorted(set(spec.values) - set(kb.biomarkers[marker].values))
            if unknown:
                errors.append(f"{where}.biomarkers.{marker}: unknown values {unknown}")
            for histology in spec.histologies or []:
                if histology not in site.histologies:
                    errors.append(f"{where}.biomarkers.{marker}: unknown histology {histology!r}")
            biomarker_values(f"{where}.biomarkers.{marker}.when", spec.when, site)
        for i, group in enumerate(site.exclusive):
            biomarker_values(f"{where}.exclusive[{i}]", {k: [v] for k, v in group.items()}, site)
        sourced(f"{where}.risk_source", site.risk_source)
        if site.risk_groups and not site.risk_source:
            errors.append(f"{where}.risk_source: a risk-group table must cite its source")
        for i, row in enumerate(site.risk_groups):
            biomarker_values(f"{where}.risk_groups[{i}].biomarkers", row.biomarkers, site)
        staging_factors = sorted(k for k, v in site.biomarkers.items() if v.staging)
        for metastatic, letter in site.metastatic_sites.items():
            if letter not in ("M1", "M1a", "M1b", "M1c", "M1d"):
                errors.append(f"{where}.metastatic_sites.{metastatic}: {letter!r} is no M1 letter")
        if site.staging == "bclc":
            if sorted(site.bclc) != sorted(BCLC_STAGES):
                errors.append(f"{where}.bclc: give exactly the BCLC stages {BCLC_STAGES}")
            continue
        if sorted(site.tnm) != sorted(TNM_STAGES):
            errors.append(f"{where}.tnm: give categories for each stage {TNM_STAGES}")
        for stage, codes in site.tnm.items():
            for code in codes:
                try:
                    parsed, factors = tnm_engine.tnm_entry_parse(code)
                    grouped = tnm_engine.stage_group(
                        tnm_engine.stage_from_tnm(site=name, tnm=parsed, biomarkers=factors)
                    )
                except (tnm_engine.TNMInvalid, KeyError) as exc:
                    errors.append(f"{where}.tnm.{stage}: {code!r}: {exc}")
                    continue
                if grouped != stage:
                    errors.append(
                        f"{where}.tnm.{stage}: {code} is stage {grouped} (AJCC 8th), not {stage}"
                    )
                    continue
                if sorted(factors) != staging_factors:
                    errors.append(
                        f"{where}.tnm.{stage}: {code} must give the staging factors "
                        f"{', '.join(staging_factors) or '(none)'}"
                    )
                if (
                    site.risk_groups
                    and risk_group(site, t=parsed.t, n=parsed.n, m=parsed.m, biomarkers=factors)
                    is None
                ):
                    errors.append(f"{where}.tnm.{stage}: {code} falls in no risk group")
                # After surgery the same tumour is grouped with the pathological table.
                pathological = tnm_engine.TNM(
                    prefix="p",
                    t=tnm_engine.pathological_t(site=name, t=parsed.t),
                    n=parsed.n,
                    m=parsed.m,
                )
                regrouped = tnm_engine.stage_group(
                    tnm_engine.stage_from_tnm(site=name, tnm=pathological, biomarkers=factors)
                )
                # pT2 prostate is not subdivided: a cT2b-c tumour (IIA) may be pT2 stage I.
                ambiguous = name == "prostate" and pathological.t == "T2"
                if regrouped != stage and not ambiguous:
                    errors.append(
                        f"{where}.tnm.{stage}: {code} is pathological stage {regrouped}, not "
                        f"{stage} (AJCC 8th)"
                    )

    for plan in kb.plans:
        where = f"plan {plan.id}"
        sourced(where, plan.source)
        plan_site = kb.sites.get(plan.site)
        if plan_site is None:
            errors.append(f"{where}.site: unknown site {plan.site!r}")
            continue
        if plan.requires.ecog_max is None:
            errors.append(f"{where}.requires: state the performance status limit (ecog_max)")
        groups = {h.group for h in plan_site.histologies.values()}
        for group_name in plan.groups or []:
            if group_name not in groups:
                errors.append(f"{where}.groups: unknown histology group {group_name!r}")
        for histology in plan.histologies or []:
            if histology not in plan_site.histologies:
                errors.append(f"{where}.histologies: unknown histology {histology!r}")
        allowed_stages = (*plan_site.stages, *SUB_STAGES)
        for stage in plan.stages:
            if stage not in allowed_stages:
                errors.append(f"{where}.stages: unknown stage {stage!r}")
        biomarker_values(f"{where}.requires.biomarkers", plan.requires.biomarkers, plan_site)
        risks = {row.risk for row in plan_site.risk_groups}
        for risk in plan.requires.risk or []:
            if risk not in risks:
                errors.append(f"{where}.requires.risk: unknown risk group {risk!r}")
        own_lines = [t.line for t in plan.treatments()[len(_flat(plan.prior)) :] if t.line]
        for treatment in _flat(plan.prior):
            if treatment.line is None or (own_lines and treatment.line >= min(own_lines)):
                errors.append(
                    f"{where}.prior: every prior treatment states a line lower than the plan's"
                )
                break
        for j, treatment in enumerate(plan.treatments()):
            here = f"{where}.steps[{j}]"
            for drug_key in treatment.drugs:
                if drug_key not in kb.drugs:
                    errors.append(
                        f"{here}: unknown drug {drug_key!r} (not in the controlled list 'drugs')"
                    )
            if treatment.modality in DRUG_MODALITIES and not treatment.drugs:
                errors.append(f"{here}: a {treatment.modality} step must name its drugs")
            if treatment.modality in PROCEDURE_MODALITIES:
                if not treatment.procedure:
                    errors.append(f"{here}: a {treatment.modality} step must name its procedure")
                elif treatment.procedure not in kb.procedures:
                    errors.append(f"{here}: unknown procedure {treatment.procedure!r}")
            needs_name = treatment.modality not in (*DRUG_MODALITIES, *PROCEDURE_MODALITIES)
            if needs_name and treatment.name is None:
                errors.append(f"{here}: a {treatment.modality} step needs a name (fr/en)")
        if not errors:
            errors.extend(_laxer_than_treatments(kb, plan, where))

    for rule in kb.rules:
        where = f"rule {rule.id}"
        sourced(where, rule.source)
        rule_site = kb.sites.get(rule.when.site or "")
        if rule.when.site is not None and rule_site is None:
            errors.append(f"{where}.when.site: unknown site {rule.when.site!r}")
        biomarker_values(f"{where}.when.biomarkers", rule.when.biomarkers, rule_site)
        biomarker_values(f"{where}.when.biomarkers_any", rule.when.biomarkers_any, rule_site)
        for treatment_spec in (*rule.forbid, *rule.require):
            for drug_key in (*(treatment_spec.drugs or []), *(treatment_spec.unless_drugs or [])):
                if drug_key not in kb.drugs:
                    errors.append(f"{where}: unknown drug {drug_key!r}")
            for procedure in treatment_spec.procedures or []:
                if procedure not in kb.procedures:
                    errors.append(f"{where}: unknown procedure {procedure!r}")
            for modality in treatment_spec.modality or []:
                if modality not in MODALITIES:
                    errors.append(f"{where}: unknown modality {modality!r}")
        if not rule.forbid and not rule.require:
            errors.append(f"{where}: a rule needs `forbid` or `require`")
    for sequence in kb.sequences:
        where = f"sequence {sequence.id}"
        sourced(where, sequence.source)
        if sequence.when.site is not None and sequence.when.site not in kb.sites:
            errors.append(f"{where}.when.site: unknown site {sequence.when.site!r}")
        for treatment_spec in (sequence.later, *sequence.prior):
            for drug_key in treatment_spec.drugs or []:
                if drug_key not in kb.drugs:
                    errors.append(f"{where}: unknown drug {drug_key!r}")

    ids = [p.id for p in kb.plans] + [r.id for r in kb.rules] + [q.id for q in kb.sequences]
    duplicates = sorted({x for x in ids if ids.count(x) > 1})
    if duplicates:
        errors.append(f"duplicate plan/rule ids: {', '.join(duplicates)}")
    if not errors:
        errors.extend(_coverage_errors(kb))
    return errors


def _laxer_than_treatments(kb: KnowledgeBase, plan: Plan, where: str) -> list[str]:
    """A plan must ask at least what its drugs and procedures ask (e.g. cisplatin: CrCl 60)."""
    errors = []
    own = plan.requires
    for what, needed, _source in treatment_requirements(kb, plan_treatment_facts(plan)):
        for attr, stricter in (("ecog_max", min), ("age_max", min), ("crcl_min", max)):
            limit = getattr(needed, attr)
            mine = getattr(own, attr)
            if limit is None:
                continue
            if mine is None or stricter(mine, limit) != mine:
                errors.append(
                    f"{where}.requires.{attr}: {what} requires {attr} {limit}, the plan says "
                    f"{mine if mine is not None else 'nothing'}"
                )
        if needed.child_pugh is not None and not set(own.child_pugh or "ABC") <= set(
            needed.child_pugh
        ):
            errors.append(f"{where}.requires.child_pugh: {what} requires {needed.child_pugh}")
    return errors


def _flat(steps: list[Treatment | Together]) -> list[Treatment]:
    return [t for s in steps for t in (s.together if isinstance(s, Together) else [s])]


def biomarker_profiles(site: Site, histology: str, stage_group: str) -> list[dict[str, str]]:
    """Every combination of tested biomarker values a patient of this setting may have
    (staging factors excepted: they come with the TNM entry)."""
    names, options = [], []
    for name, spec in sorted(site.biomarkers.items()):
        if spec.staging:
            continue
        if spec.histologies is not None and histology not in spec.histologies:
            continue
        if spec.stages is not None and stage_group not in spec.stages:
            continue
        names.append(name)
        options.append([*spec.values, NOT_TESTED] if spec.when else list(spec.values))
    profiles = []
    for values in itertools.product(*options):
        profile = {n: v for n, v in zip(names, values, strict=True) if v != NOT_TESTED}
        conditional_ok = all(
            (name not in profile)
            == (not all(profile.get(k) in v for k, v in site.biomarkers[name].when.items()))
            for name in names
            if site.biomarkers[name].when
        )
        if conditional_ok and not exclusive_breaches(site, profile):
            profiles.append(profile)
    return profiles


def exclusive_breaches(site: Site, biomarkers: dict[str, str]) -> list[str]:
    """Mutually exclusive alterations found together (e.g. EGFR mutation with ALK fusion)."""
    breaches = []
    for group in site.exclusive:
        present = [f"{k} {v}" for k, v in group.items() if biomarkers.get(k) == v]
        if len(present) > 1:
            breaches.append(" and ".join(present))
    return breaches


def _coverage_errors(kb: KnowledgeBase) -> list[str]:
    """Every setting the sampler can reach has a plan even for the least fit patient, and
    every plan, for every patient it is meant for, obeys the base's own rules."""
    errors = []
    for name, site in kb.sites.items():
        for histology, spec in site.histologies.items():
            for stage_group, stage, t, n, m, factors, risk in _settings(name, site):
                for drawn in biomarker_profiles(site, histology, stage_group):
                    profile = {**drawn, **factors}
                    for sex, menopause in (("F", "post"), ("F", "pre"), ("M", None)):
                        frail = Facts(
                            site=name,
                            histology=histology,
                            group=spec.group,
                            stage=stage,
                            stage_group=stage_group,
                            t=t,
                            n=n,
                            m=m,
                            biomarkers=profile,
                            sex=sex,  # type: ignore[arg-type]
                            age=99,
                            ecog=4,
                            crcl=10,
                            menopause=menopause,  # type: ignore[arg-type]
                            child_pugh="C",
                            risk=risk,
                        )
                        if not plans_for_patient(kb, frail):
                            errors.append(
                                f"sites.{name}: no plan (not even a fallback) for an unfit "
                                f"patient with {histology} stage {stage} {t}{n}{m} {profile}"
                            )
                        fit = frail.model_copy(
                            update={"age": 50, "ecog": 0, "crcl": 100, "child_pugh": "A"}
                        )
                        for patient in (frail, fit):
                            for plan in plans_for_patient(kb, patient):
                                treatments = plan_treatment_facts(plan)
                                for rule in kb.rules:
                                    if not rule_applies(rule, patient):
                                        continue
                                    breaches = rule_breaches(
                                        rule, treatments, fallback=plan.fallback > 0
                                    )
                                    if breaches:
                                        errors.append(
                                            f"plan {plan.id} breaks rule {rule.id} for "
                                            f"{histology} {stage} {profile} {sex}: "
                                            f"{'; '.join(breaches)}"
                                        )
                                for ref, evidence in sequence_breaches(kb, patient, treatments):
                                    errors.append(
                                        f"plan {plan.id} breaks the line order "
                                        f"{ref or '(lines)'}: {evidence}"
                                    )
    return sorted(set(errors))


def _settings(name: str, site: Site):
    """(stage group, stage, T, N, M, staging factors, risk group) of every tumour the sampler
    may draw for a site."""
    if site.staging == "bclc":
        for stage in BCLC_STAGES:
            yield stage, stage, "", "", "M0", {}, None
            if site.bclc.get(stage) and site.bclc[stage].metastatic_probability > 0:
                yield stage, stage, "", "", "M1", {}, None
        return
    for codes in site.tnm.values():
        for code in codes:
            parsed, factors = tnm_engine.tnm_entry_parse(code)
            risk = risk_group(site, t=parsed.t, n=parsed.n, m=parsed.m, biomarkers=factors)
            letters = set(site.metastatic_sites.values()) if parsed.metastatic else {"M0"}
            for p16 in ("negative", "positive") if name == "head_and_neck" else ("",):
                t, n = parsed.t, parsed.n
                if p16 == "positive":
                    t, n = tnm_engine.p16_positive_categories(t, n)
                escalated = {site.m_multiple_organs.to} if site.m_multiple_organs else set()
                for m in sorted(letters | (escalated if parsed.metastatic else set())):
                    variant = tnm_engine.TNM(prefix="c", t=t, n=n, m=m)
                    stage = tnm_engine.stage_from_tnm(
                        site=name, tnm=variant, biomarkers={"p16": p16, **factors}
                    )
                    yield tnm_engine.stage_group(stage), stage, t, n, m, factors, risk


def knowledge_parse_text(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KnowledgeInvalid([f"The file is not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise KnowledgeInvalid(["The knowledge base must be a YAML mapping at the top level."])
    return data


def _named_loc(data: dict[str, Any], loc: tuple) -> str:
    """'plans.62.requires' -> 'plan pancreas-advanced-folfirinox.requires' (ids, not indexes)."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] in ("plans", "rules") and isinstance(parts[1], int):
        items = data.get(parts[0])
        item = items[parts[1]] if isinstance(items, list) and parts[1] < len(items) else None
        if isinstance(item, dict) and item.get("id"):
            head = f"{parts[0][:-1]} {item['id']}"
            return ".".join([head, *map(str, parts[2:])])
    return _loc(parts) or "(top level)"


def knowledge_validate(data: dict[str, Any]) -> KnowledgeBase:
    try:
        kb = KnowledgeBase.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeInvalid(
            [f"{_named_loc(data, error['loc'])}: {error['msg']}" for error in exc.errors()]
        ) from None
    errors = _semantic_errors(kb)
    if errors:
        raise KnowledgeInvalid(errors)
    return kb


def default_knowledge_text() -> str:
    return DEFAULT_KNOWLEDGE_FILE.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=8)
def _validated(text: str) -> KnowledgeBase:
    return knowledge_validate(knowledge_parse_text(text))


def knowledge_from_text(text: str) -> KnowledgeBase:
    """Parsed and validated, cached by content (the base is immutable once loaded)."""
    return _validated(text)


def default_knowledge() -> KnowledgeBase:
    return knowledge_from_text(default_knowledge_text())
