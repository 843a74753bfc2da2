"""Clinical consistency checker: pure functions returning named violations with evidence.

Used three ways: the sampler's tests draw thousands of scenarios and expect none; the
validation of every generated report runs `report_violations` and stores the flags on the
batch item; `manage.py check_scenarios` prints the rate of each rule. A violation's `rule`
is the flag name (one of RULES), `detail` the evidence, `ref` the knowledge-base rule or
plan it comes from when there is one.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from generation.clinical import tnm as tnm_engine
from generation.clinical.draw import (
    STAY_AFTER_PROCEDURE,
    ClinicalCase,
    cockcroft_gault,
    complication_options,
    postoperative_options,
)
from generation.clinical.knowledge import (
    KnowledgeBase,
    TreatmentFacts,
    exclusive_breaches,
    plan_matches_setting,
    plan_treatment_facts,
    requirement_failures,
    risk_group,
    rule_applies,
    rule_breaches,
    sequence_breaches,
    treatment_requirements,
)

RULES = (
    "tnm_vs_metastatic_sites",
    "stage_vs_tnm",
    "tnm_category_invalid",
    "regimen_vs_histology",
    "regimen_vs_biomarkers",
    "biomarkers_exclusive",
    "biomarker_not_tested",
    "plan_vs_fitness",
    "plan_vs_setting",
    "staging_prefix_vs_pathway",
    "dates_order",
    "age_vs_birth_date",
    "lab_vs_disease",
    "complication_vs_treatment",
    "concurrent_vs_sequential",
    "patient_attributes",
    "risk_group_vs_factors",
    "line_sequence",
    "postoperative_vs_procedure",
)


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str
    ref: str = ""

    def as_flag(self) -> dict[str, str]:
        return {"code": self.rule, **({"ref": self.ref} if self.ref else {}), "detail": self.detail}

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _full_years(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --- scenario checks ---------------------------------------------------------------------


def check_tnm(kb: KnowledgeBase, case: ClinicalCase) -> list[Violation]:
    site = kb.sites[case.site]
    found: list[Violation] = []
    if site.staging == "bclc":
        if case.tnm:
            found.append(Violation("stage_vs_tnm", f"HCC staged by TNM ({case.tnm}), not BCLC"))
        if case.stage not in site.bclc:
            found.append(Violation("stage_vs_tnm", f"{case.stage!r} is not a BCLC stage"))
        return found
    try:
        parsed = tnm_engine.tnm_parse(case.tnm)
    except tnm_engine.TNMInvalid as exc:
        return [Violation("tnm_category_invalid", str(exc))]
    for error in tnm_engine.tnm_category_errors(site=case.site, tnm=parsed):
        found.append(Violation("tnm_category_invalid", error, "ajcc8"))
    unknown = [s for s in case.metastatic_sites if s not in site.metastatic_sites]
    if unknown:
        found.append(Violation("tnm_vs_metastatic_sites", f"unknown metastatic sites {unknown}"))
    elif parsed.metastatic != bool(case.metastatic_sites):
        found.append(
            Violation(
                "tnm_vs_metastatic_sites",
                f"{parsed.m} with metastatic sites {case.metastatic_sites or 'none'}",
                "ajcc8",
            )
        )
    elif case.metastatic_sites:
        multiple = site.m_multiple_organs
        expected = tnm_engine.m_category(
            site_letters=site.metastatic_sites,
            multiple=(multiple.from_, multiple.to) if multiple else None,
            sites=case.metastatic_sites,
        )
        if parsed.m != expected:
            found.append(
                Violation(
                    "tnm_vs_metastatic_sites",
                    f"{parsed.m} but {', '.join(case.metastatic_sites)} make {expected} "
                    f"for the {case.site} (AJCC 8th)",
                    "ajcc8",
                )
            )
    # The stage of the categories as written (c or p), with the prognostic factors (p16,
    # prostate PSA and Grade Group): AJCC 8th.
    try:
        stage = tnm_engine.stage_from_tnm(site=case.site, tnm=parsed, biomarkers=case.biomarkers)
    except (tnm_engine.TNMInvalid, KeyError) as exc:
        return [*found, Violation("stage_vs_tnm", f"no stage for {case.tnm}: {exc}")]
    if case.clinical_tnm:
        # The written categories are those of the diagnosis (pT2 for any organ-confined
        # prostate tumour after surgery).
        clinical = tnm_engine.tnm_parse(case.clinical_tnm)
        expected_t = clinical.t
        if parsed.prefix in ("p", "yp"):
            expected_t = tnm_engine.pathological_t(site=case.site, t=clinical.t)
        if clinical.prefix != "c" or (parsed.t, parsed.n, parsed.m) != (
            expected_t,
            clinical.n,
            clinical.m,
        ):
            found.append(
                Violation("stage_vs_tnm", f"{case.tnm} does not follow cTNM {case.clinical_tnm}")
            )
    if stage != case.stage:
        found.append(
            Violation("stage_vs_tnm", f"{case.tnm} is stage {stage}, not {case.stage}", "ajcc8")
        )
    if tnm_engine.stage_group(case.stage) != case.stage_group:
        found.append(Violation("stage_vs_tnm", f"stage {case.stage} in group {case.stage_group}"))
    return found


def check_risk_group(kb: KnowledgeBase, case: ClinicalCase) -> list[Violation]:
    """The risk group (prostate: EAU 2024) follows from the clinical categories, PSA and
    Grade Group; the plan's choice depends on it."""
    site = kb.sites[case.site]
    if not site.risk_groups:
        if case.risk_group is not None:
            return [Violation("risk_group_vs_factors", f"no risk groups for the {case.site}")]
        return []
    try:
        clinical = tnm_engine.tnm_parse(case.clinical_tnm)
    except tnm_engine.TNMInvalid:
        return [Violation("risk_group_vs_factors", "no clinical TNM to group the risk from")]
    expected = risk_group(
        site, t=clinical.t, n=clinical.n, m=clinical.m, biomarkers=case.biomarkers
    )
    if expected != case.risk_group:
        factors = ", ".join(f"{k} {case.biomarkers.get(k, '?')}" for k in ("PSA", "Grade Group"))
        return [
            Violation(
                "risk_group_vs_factors",
                f"{case.clinical_tnm}, {factors} is {expected} risk, not {case.risk_group}",
                site.risk_source,
            )
        ]
    return []


def check_lines(kb: KnowledgeBase, case: ClinicalCase) -> list[Violation]:
    """Treatment lines of metastatic disease: each line after the one before it, a new
    regimen after progression, the guideline's order (KB `sequences`), prior lines given
    and dated before the progression that opened the current line."""
    found = [
        Violation("line_sequence", evidence, ref)
        for ref, evidence in sequence_breaches(kb, case.facts(), _treatment_facts(case))
    ]
    lines: dict[int, list[Any]] = {}
    for t in case.treatments:
        if t.line is not None:
            lines.setdefault(t.line, []).append(t)
    given = [n for n, items in lines.items() if any(t.status != "planned" for t in items)]
    if not given or max(given) < 2:
        return found
    latest = max(given)
    for line in range(1, latest):
        for t in lines.get(line, []):
            if t.status != "done" or t.start_date is None:
                found.append(
                    Violation(
                        "line_sequence",
                        f"line {line} {t.regimen_en} is {t.status} while line {latest} is given",
                    )
                )
    progression = case.timeline.progression_date
    if progression is None:
        found.append(Violation("line_sequence", f"line {latest} without a progression date"))
        return found
    for t in case.treatments:
        if t.line is None or t.start_date is None:
            continue
        before = t.line < latest
        if before != (t.start_date < progression):
            found.append(
                Violation(
                    "dates_order",
                    f"line {t.line} {t.regimen_en} starts {t.start_date}, progression on "
                    f"{progression}",
                )
            )
    return found


def check_postoperative(kb: KnowledgeBase, case: ClinicalCase) -> list[Violation]:
    """A complicated post-operative course belongs to the procedure of this surgery stay and
    lengthens it."""
    if case.postoperative is None:
        return []
    current = [t for t in case.treatments if t.step == case.timeline.current_step]
    procedure = next((t.procedure for t in current if t.procedure), None)
    if case.reason != "surgery" or procedure is None:
        return [
            Violation(
                "postoperative_vs_procedure",
                f"{case.postoperative} outside a surgery stay ({case.reason})",
                case.postoperative,
            )
        ]
    if case.postoperative not in {key for key, _rate in postoperative_options(kb, procedure)}:
        return [
            Violation(
                "postoperative_vs_procedure",
                f"{case.postoperative} is no complication of {procedure}",
                case.postoperative,
            )
        ]
    days = (
        dt.date.fromisoformat(case.discharge_date) - dt.date.fromisoformat(case.admission_date)
    ).days
    shortest = (
        STAY_AFTER_PROCEDURE[kb.procedures[procedure].recovery][0]
        + kb.postoperative[case.postoperative].extra_days[0]
    )
    if days < shortest:
        return [
            Violation(
                "postoperative_vs_procedure",
                f"{case.postoperative} after {procedure} with a {days}-day stay "
                f"(at least {shortest})",
                case.postoperative,
            )
        ]
    return []


def _treatment_facts(case: ClinicalCase) -> list[TreatmentFacts]:
    return [
        TreatmentFacts(
            modality=t.modality,
            intent=t.intent,
            drugs=t.drugs,
            procedure=t.procedure,
            step=t.step,
            line=t.line,
            months=t.months,
        )
        for t in case.treatments
    ]


def check_rules(
    kb: KnowledgeBase,
    case: ClinicalCase,
    treatments: list[TreatmentFacts] | None = None,
    *,
    requirements: bool = True,
) -> list[Violation]:
    """The knowledge base's rules (regimen vs histology/biomarkers, sex/menopause)."""
    facts = case.facts()
    given = treatments if treatments is not None else _treatment_facts(case)
    fallback = case.plan_fallback > 0
    found = []
    for rule in kb.rules:
        if not rule_applies(rule, facts):
            continue
        for breach in rule_breaches(rule, given, fallback=fallback, requirements=requirements):
            found.append(Violation(rule.category, f"{rule.text} ({breach})", rule.id))
    for breach in exclusive_breaches(kb.sites[case.site], case.biomarkers):
        found.append(Violation("biomarkers_exclusive", f"{breach} together", case.site))
    return found


def check_biomarkers_tested(kb: KnowledgeBase, case: ClinicalCase) -> list[Violation]:
    """A biomarker the guideline asks for in this setting (p16 of an oropharyngeal cancer,
    RAS/BRAF of a metastatic colorectal cancer…) must be in the scenario."""
    site = kb.sites[case.site]
    found = []
    for name, spec in sorted(site.biomarkers.items()):
        if spec.histologies is not None and case.histology not in spec.histologies:
            continue
        if spec.stages is not None and case.stage_group not in spec.stages:
            continue
        if not all(case.biomarkers.get(k) in v for k, v in spec.when.items()):
            continue
        if name not in case.biomarkers:
            found.append(
                Violation(
                    "biomarker_not_tested",
                    f"{name} not given for {case.histology} stage {case.stage}",
                    case.site,
                )
            )
    return found


def check_fitness(
    kb: KnowledgeBase, case: ClinicalCase, treatments: list[TreatmentFacts] | None = None
) -> list[Violation]:
    """The plan's eligibility and every drug's, procedure's and regimen's requirements."""
    facts = case.facts()
    found = []
    if treatments is None:
        try:
            plan = kb.plan(case.plan)
        except KeyError:
            return [Violation("plan_vs_setting", f"unknown plan {case.plan!r}")]
        if not plan_matches_setting(plan, facts):
            found.append(
                Violation(
                    "plan_vs_setting",
                    f"plan {plan.id} is for {plan.site} {plan.stages}, patient has "
                    f"{case.site} {case.histology} stage {case.stage}",
                    plan.id,
                )
            )
        failures = requirement_failures(plan.requires, facts)
        if failures:
            found.append(Violation("plan_vs_fitness", "; ".join(failures), plan.id))
        planned = [
            (t.modality, t.intent, sorted(t.drugs), t.procedure, t.step, t.line, t.months)
            for t in plan_treatment_facts(plan)
        ]
        stated = [
            (t.modality, t.intent, sorted(t.drugs), t.procedure, t.step, t.line, t.months)
            for t in _treatment_facts(case)
        ]
        if planned != stated:
            found.append(Violation("plan_vs_setting", "treatments differ from the plan", plan.id))
        treatments = _treatment_facts(case)
    for what, requires, source in treatment_requirements(kb, treatments):
        failures = requirement_failures(requires, facts)
        if failures:
            found.append(
                Violation("plan_vs_fitness", f"{what}: {'; '.join(failures)}", source or what)
            )
    return found


def check_patient(case: ClinicalCase) -> list[Violation]:
    found = []
    if case.sex == "M" and case.menopause is not None:
        found.append(Violation("patient_attributes", "menopausal status given for a man"))
    if case.sex == "F" and case.menopause is None:
        found.append(Violation("patient_attributes", "no menopausal status for a woman"))
    if case.sex == "F" and case.site == "prostate":
        found.append(Violation("patient_attributes", "prostate cancer in a woman"))
    if case.menopause == "pre" and case.age >= 60:
        found.append(Violation("patient_attributes", f"premenopausal at {case.age}"))
    if "copd" in case.comorbidities and case.smoking == "never" and case.site == "lung":
        pass  # possible (COPD of never-smokers exists): frequency is a frame matter, not a rule
    return found


def check_pathway(kb: KnowledgeBase, case: ClinicalCase) -> list[Violation]:
    """c/p/yp prefix against the pathway, and the order of every date."""
    found = []
    admission = dt.date.fromisoformat(case.admission_date)
    discharge = dt.date.fromisoformat(case.discharge_date)
    birth = dt.date.fromisoformat(case.birth_date)
    diagnosis = dt.date.fromisoformat(case.timeline.diagnosis_date)
    if case.tnm:
        prefix = tnm_engine.tnm_parse(case.tnm).prefix
        current = case.timeline.current_step
        surgery = [t.step for t in case.treatments if t.modality == "surgery"]
        operated = bool(surgery) and (
            surgery[0] < current or (surgery[0] == current and case.reason != "surgery")
        )
        at_diagnosis = kb.sites[case.site].pathological_at_diagnosis
        if prefix in ("p", "yp") and not operated and not at_diagnosis:
            found.append(
                Violation(
                    "staging_prefix_vs_pathway",
                    f"{case.tnm}: pathological staging without prior surgery "
                    f"(stay: {case.reason}, step {current})",
                    "ajcc8",
                )
            )
        if prefix == "yp":
            before = [t for t in case.treatments if surgery and t.step < surgery[0]]
            if not before:
                found.append(
                    Violation(
                        "staging_prefix_vs_pathway",
                        f"{case.tnm}: ypTNM without neoadjuvant treatment",
                        "ajcc8",
                    )
                )
        if prefix == "c" and operated:
            found.append(
                Violation(
                    "staging_prefix_vs_pathway",
                    f"{case.tnm}: clinical staging after the operation",
                    "ajcc8",
                )
            )
    if case.timeline.surgery_date is not None:
        surgery_date = dt.date.fromisoformat(case.timeline.surgery_date)
        if not diagnosis <= surgery_date <= discharge:
            found.append(
                Violation(
                    "dates_order",
                    f"surgery {surgery_date} outside diagnosis {diagnosis} - discharge {discharge}",
                )
            )
    if not birth < diagnosis <= discharge or not admission <= discharge:
        found.append(
            Violation(
                "dates_order",
                f"birth {birth}, diagnosis {diagnosis}, admission {admission}, "
                f"discharge {discharge} out of order",
            )
        )
    for t in case.treatments:
        if t.start_date is None:
            if t.status != "planned":
                found.append(Violation("dates_order", f"{t.regimen} ({t.status}) has no date"))
            continue
        start = dt.date.fromisoformat(t.start_date)
        if start < diagnosis or start > discharge or (t.status == "planned"):
            found.append(
                Violation(
                    "dates_order",
                    f"{t.regimen} ({t.status}) starts {start}, stay ends "
                    f"{discharge}, diagnosis {diagnosis}",
                )
            )
    if _full_years(birth, admission) != case.age:
        found.append(
            Violation(
                "age_vs_birth_date",
                f"age {case.age} but born {birth}: {_full_years(birth, admission)} on {admission}",
            )
        )
    return found


def check_labs(kb: KnowledgeBase, case: ClinicalCase) -> list[Violation]:
    found = []
    labs = case.labs
    liver = case.site == "liver" or "liver" in case.metastatic_sites
    if liver and labs.liver_tests == "normal":
        found.append(Violation("lab_vs_disease", "normal liver tests with HCC or liver metastases"))
    if "chronic_kidney_disease" in case.comorbidities and labs.crcl_ml_min >= 60:
        found.append(
            Violation(
                "lab_vs_disease",
                f"chronic kidney disease with creatinine clearance {labs.crcl_ml_min} mL/min",
            )
        )
    expected = cockcroft_gault(
        age=case.age,
        weight_kg=labs.weight_kg,
        creatinine_umol_l=labs.creatinine_umol_l,
        sex=case.sex,
    )
    if abs(expected - labs.crcl_ml_min) > 3:
        found.append(
            Violation(
                "lab_vs_disease",
                f"clearance {labs.crcl_ml_min} mL/min, Cockcroft-Gault gives {expected:.0f}",
            )
        )
    if case.complication == "febrile_neutropenia" and labs.neutrophils_g_l >= 0.5:
        found.append(
            Violation("lab_vs_disease", f"febrile neutropenia with {labs.neutrophils_g_l} G/L")
        )
    return found


def check_complication(kb: KnowledgeBase, case: ClinicalCase) -> list[Violation]:
    if case.complication is None:
        return []
    if case.reason != "toxicity":
        return [
            Violation("complication_vs_treatment", f"{case.complication} outside a toxicity stay")
        ]
    step = [t for t in case.treatments if t.step == case.timeline.current_step]
    possible = complication_options(kb, site=case.site, step_treatments=step)
    if case.complication in possible:
        return []
    given = ", ".join(d for t in step for d in t.drugs) or ", ".join(t.modality for t in step)
    return [
        Violation(
            "complication_vs_treatment",
            f"{case.complication} cannot follow {given or 'no treatment'}",
            case.complication,
        )
    ]


def check_concurrency(case: ClinicalCase) -> list[Violation]:
    steps: dict[int, list[Any]] = {}
    for t in case.treatments:
        steps.setdefault(t.step, []).append(t)
    found = []
    for index, items in steps.items():
        if len(items) > 1 and not all(t.concurrent for t in items):
            found.append(
                Violation(
                    "concurrent_vs_sequential",
                    f"step {index}: {' + '.join(t.regimen for t in items)} given together "
                    "but not marked concurrent",
                )
            )
    return found


def scenario_violations(kb: KnowledgeBase, case: ClinicalCase) -> list[Violation]:
    """Every rule, for one sampled scenario."""
    return [
        *check_tnm(kb, case),
        *check_rules(kb, case),
        *check_biomarkers_tested(kb, case),
        *check_fitness(kb, case),
        *check_patient(case),
        *check_pathway(kb, case),
        *check_labs(kb, case),
        *check_complication(kb, case),
        *check_concurrency(case),
        *check_risk_group(kb, case),
        *check_lines(kb, case),
        *check_postoperative(kb, case),
    ]


# --- report checks (narrative and annotations of a generated report) --------------------

_NORMAL_LIVER = re.compile(
    r"bilan hepatique (normal|sans anomalie)|liver (function )?tests (were )?normal"
    r"|\bnormal liver (function )?tests"
)
_INFUSION = re.compile(r"reaction (a la )?perfusion|infusion reaction|reaction a la perfusion")
_BOWEL = re.compile(r"reprise du transit|bowel function resumed|transit resumed")
_UNEVENTFUL = re.compile(r"suites (operatoires )?simples|uneventful (recovery|course)")


def drugs_in_text(kb: KnowledgeBase, text: str) -> list[str]:
    """Drugs of the controlled list named in a free-text regimen (French or English).

    Longest names first, each match blanked out, so 'nab-paclitaxel' is not also read as
    'paclitaxel' while 'carboplatine-pémétrexed' still gives both drugs.
    """
    folded = _fold(text)
    names = sorted(
        (
            (name, key)
            for key, drug in kb.drugs.items()
            for name in {_fold(drug.fr), _fold(drug.en), key.replace("_", " ")}
        ),
        key=lambda item: -len(item[0]),
    )
    found = set()
    for name, key in names:
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
        if pattern.search(folded):
            found.add(key)
            folded = pattern.sub(" ", folded)
    return sorted(found)


def _given_so_far(case: ClinicalCase) -> list[Any]:
    return [t for t in case.treatments if t.status in ("done", "current")]


def report_text_violations(
    kb: KnowledgeBase, case: ClinicalCase, narrative: str, language: str
) -> list[Violation]:
    """What the narrative states against the scenario: labs, complications, recovery,
    concurrent combinations written as sequences."""
    text = _fold(narrative)
    found = []
    liver = case.site == "liver" or "liver" in case.metastatic_sites
    if liver and _NORMAL_LIVER.search(text):
        found.append(Violation("lab_vs_disease", "normal liver tests stated with liver disease"))
    given = _given_so_far(case)
    drugs = [kb.drugs[d] for t in given for d in t.drugs if d in kb.drugs]
    for key, spec in kb.complications.items():
        if not any(re.search(_fold(m), text) for m in spec.mention):
            continue
        possible = {
            k
            for step in {t.step for t in given}
            for k in complication_options(
                kb, site=case.site, step_treatments=[t for t in given if t.step == step]
            )
        }
        if key not in possible:
            found.append(
                Violation(
                    "complication_vs_treatment",
                    f"{key} mentioned, not a complication of "
                    f"{', '.join(sorted({d.en for d in drugs})) or 'the treatment given'}",
                    key,
                )
            )
    for key, course in kb.postoperative.items():
        if key != case.postoperative and any(re.search(_fold(m), text) for m in course.mention):
            found.append(
                Violation(
                    "postoperative_vs_procedure",
                    f"{key} mentioned, not the post-operative course of this stay",
                    key,
                )
            )
    if case.postoperative is not None and _UNEVENTFUL.search(text):
        found.append(
            Violation(
                "postoperative_vs_procedure",
                f"an uneventful recovery stated with {case.postoperative}",
                case.postoperative,
            )
        )
    current = [t for t in case.treatments if t.step == case.timeline.current_step]
    if _INFUSION.search(text) and not any(
        kb.drugs[d].route == "iv" for t in current for d in t.drugs if d in kb.drugs
    ):
        found.append(
            Violation("complication_vs_treatment", "infusion reaction mentioned without infusion")
        )
    digestive = any(
        t.procedure and kb.procedures[t.procedure].recovery == "digestive" for t in given
    )
    if _BOWEL.search(text) and not digestive:
        found.append(
            Violation(
                "complication_vs_treatment",
                "bowel function recovery after a non-digestive procedure",
            )
        )
    found += sequential_wording(kb, case, narrative, language)
    return found


def sequential_wording(
    kb: KnowledgeBase, case: ClinicalCase, narrative: str, language: str
) -> list[Violation]:
    """'letrozole, then palbociclib' for drugs given together in one step."""
    text = _fold(narrative)
    found = []
    steps: dict[int, list[Any]] = {}
    for t in case.treatments:
        steps.setdefault(t.step, []).append(t)
    joiner = r"\s*,?\s*(puis|then|followed by|suivi(e)? de)\s+"
    for items in steps.values():
        labels = [
            _fold(t.regimen if language == "fr" else t.regimen_en) for t in items if t.concurrent
        ]
        for first in labels:
            for second in labels:
                if first == second:
                    continue
                pattern = re.escape(first) + joiner + re.escape(second)
                if re.search(pattern, text):
                    found.append(
                        Violation(
                            "concurrent_vs_sequential",
                            f"{first!r} and {second!r} are given together, written in sequence",
                        )
                    )
    return found


def annotation_violations(
    kb: KnowledgeBase, case: ClinicalCase, annotations: Iterable[Mapping[str, Any]]
) -> list[Violation]:
    """Annotated age against the birth date, annotated treatments against the rules
    (prohibitions only: a report may leave part of the plan unsaid) and fitness."""
    found = []
    birth = dt.date.fromisoformat(case.birth_date)
    admission = dt.date.fromisoformat(case.admission_date)
    treatments = []
    for a in annotations:
        if a.get("field") == "age":
            match = re.search(r"\d+", str(a.get("value", "")))
            if match and int(match.group(0)) != _full_years(birth, admission):
                found.append(
                    Violation(
                        "age_vs_birth_date",
                        f"age {match.group(0)} stated, born {birth}, admitted {admission}",
                    )
                )
        if a.get("field") == "treatment":
            drugs = drugs_in_text(kb, str(a.get("value", "")))
            treatments.append(
                TreatmentFacts(
                    modality=str(a.get("modality") or ""),
                    intent=str(a.get("intent") or ""),
                    drugs=drugs,
                )
            )
    if treatments:
        found += check_rules(kb, case, treatments, requirements=False)
        found += [v for v in check_fitness(kb, case, treatments) if v.rule == "plan_vs_fitness"]
    return found


def violation_rates(
    violations_per_case: Iterable[list[Violation]],
) -> tuple[int, dict[str, int]]:
    """(cases, {rule: cases with at least one violation of it})."""
    cases = 0
    counts = dict.fromkeys(RULES, 0)
    for violations in violations_per_case:
        cases += 1
        for rule in {v.rule for v in violations}:
            counts[rule] = counts.get(rule, 0) + 1
    return cases, counts
