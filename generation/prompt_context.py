"""What a clinician would know when writing the report: the values of a version-2 prompt.

`prompt_context` turns a scenario into the texts the guideline-aware prompts carry: the
guideline rules that justify the plan (with the knowledge base's version), the disease
timeline, the position of this stay in the pathway, the expected course for the treatment
classes, the comorbidities' usual treatments and the elements a French compte rendu
d'hospitalisation must hold (décret n° 2016-995 du 20 juillet 2016, art. R. 1112-1-2 CSP).
The judge and the revision pass read the same texts, so writer and critic argue from one
reference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from generation.clinical.knowledge import KnowledgeBase, default_knowledge, rule_applies
from generation.scenario import Scenario
from generation.vocabulary import REASON_LABELS, comorbidity_label, format_date, treatment_label

# Usual long-term treatments when the knowledge base names none for a comorbidity (HAS
# guides de parcours: diabète de type 2 2014, HTA 2016, BPCO 2019, MRC 2021; ESC 2019
# chronic coronary syndromes). They belong in the discharge treatment.
COMORBIDITY_TREATMENTS: dict[str, dict[str, str]] = {
    "diabetes": {"fr": "metformine", "en": "metformin"},
    "hypertension": {"fr": "IEC ou ARA2", "en": "ACE inhibitor or ARB"},
    "copd": {
        "fr": "bronchodilatateurs inhalés de longue durée d'action",
        "en": "long-acting inhaled bronchodilators",
    },
    "chronic_kidney_disease": {
        "fr": "posologies adaptées à la clairance",
        "en": "doses adjusted to creatinine clearance",
    },
}

# Expected course and usual complications by treatment class (ESMO clinical practice
# guidelines: febrile neutropenia 2016, immune-related toxicities 2022; ESMO/ESTRO
# radiotherapy toxicities), so a stay's events match the drugs actually given.
EXPECTED_COURSE: dict[str, dict[str, str]] = {
    "chemotherapy": {
        "fr": "cytotoxiques : nausées, asthénie, nadir des neutrophiles vers J7-J14, risque de "
        "neutropénie fébrile",
        "en": "cytotoxics: nausea, fatigue, neutrophil nadir around day 7-14, risk of "
        "febrile neutropenia",
    },
    "chemoradiation": {
        "fr": "radiochimiothérapie : mucite ou œsophagite radique, cytopénies",
        "en": "chemoradiation: radiation mucositis or oesophagitis, cytopenias",
    },
    "immunotherapy": {
        "fr": "inhibiteurs de points de contrôle : toxicités immuno-médiées (thyroïdite, "
        "colite, pneumopathie, hépatite), pas de neutropénie fébrile attendue",
        "en": "checkpoint inhibitors: immune-related adverse events (thyroiditis, colitis, "
        "pneumonitis, hepatitis), no expected febrile neutropenia",
    },
    "targeted": {
        "fr": "thérapie ciblée : toxicités de classe (cutanées, digestives, hépatiques)",
        "en": "targeted therapy: class toxicities (skin, digestive, liver)",
    },
    "endocrine": {
        "fr": "hormonothérapie : bouffées de chaleur, arthralgies, pas de myélotoxicité",
        "en": "endocrine therapy: hot flushes, arthralgia, no myelotoxicity",
    },
    "anti_her2": {
        "fr": "anti-HER2 : surveillance de la fraction d'éjection ventriculaire gauche",
        "en": "anti-HER2: left-ventricular ejection fraction monitoring",
    },
    "surgery": {
        "fr": "chirurgie : suites selon le geste (douleur, reprise du transit après chirurgie "
        "digestive, drainage), risque infectieux et thromboembolique",
        "en": "surgery: course by procedure (pain, return of bowel function after digestive "
        "surgery, drains), infection and thromboembolic risk",
    },
    "radiotherapy": {
        "fr": "radiothérapie : asthénie, radiodermite, toxicité selon le champ irradié",
        "en": "radiotherapy: fatigue, radiation dermatitis, toxicity by irradiated field",
    },
}

# Décret n° 2016-995 du 20 juillet 2016 (lettre de liaison à la sortie): what the report
# handed to the patient at discharge must state.
REQUIRED_ELEMENTS = {
    "fr": (
        "motif d'hospitalisation ; antécédents pertinents ; synthèse du séjour (évolution, "
        "événements indésirables, actes réalisés) ; résultats en attente ; traitement de "
        "sortie avec posologies et durées (traitements arrêtés ou modifiés et pourquoi) ; "
        "suites à donner (rendez-vous, surveillance, prochaine cure)"
    ),
    "en": (
        "reason for admission; relevant history; summary of the stay (course, adverse "
        "events, procedures); results still pending; discharge medication with doses and "
        "durations (stopped or changed drugs and why); follow-up (appointments, monitoring, "
        "next cycle)"
    ),
}

_POSITION = {
    "diagnostic": {
        "fr": "séjour de bilan initial : le diagnostic est établi pendant ou juste avant ce "
        "séjour, aucun traitement spécifique n'a encore été donné ; le plan est celui "
        "proposé en RCP",
        "en": "initial work-up stay: the diagnosis is made during or just before this stay, "
        "no specific treatment has been given yet; the plan is the tumour board's proposal",
    },
    "surgery": {
        "fr": "séjour chirurgical du parcours : les traitements qui précèdent la chirurgie "
        "dans le plan sont terminés, ceux qui la suivent sont à venir",
        "en": "surgical stay of the pathway: treatments before surgery in the plan are done, "
        "those after it are to come",
    },
    "systemic_start": {
        "fr": "séjour d'initiation du premier traitement systémique du plan",
        "en": "stay to start the plan's first systemic treatment",
    },
    "toxicity": {
        "fr": "séjour pour toxicité d'un traitement en cours du plan",
        "en": "stay for a toxicity of an ongoing treatment of the plan",
    },
    "complication": {
        "fr": "séjour pour altération de l'état général au cours de la maladie",
        "en": "stay for deterioration of general condition in the course of the disease",
    },
}


@dataclass(frozen=True)
class PromptContext:
    guideline: str
    guideline_version: str
    timeline: str
    stay_position: str
    expected_course: str
    comorbidity_treatments: str
    required_elements: str

    def as_values(self) -> dict[str, str]:
        return asdict(self)


def _citation(kb: KnowledgeBase, key: str) -> str:
    # Citations carry their year already (the knowledge base validates them).
    source = kb.sources.get(key)
    return source.citation if source else key


def _guideline_text(scenario: Scenario, language: str, kb: KnowledgeBase) -> str:
    fr = language == "fr"
    plan = "; ".join(treatment_label(t, language) for t in scenario.treatments)
    lines = [f"{'Plan retenu en RCP' if fr else 'Tumour board plan'} : {plan}"]
    source = scenario.plan_source or _plan_source(kb, scenario.plan)
    if source:
        lines.append(f"{'Référence' if fr else 'Reference'} : {_citation(kb, source)}")
    if scenario.fallback_reasons:
        # The patient was not fit for the standard plan: say why, so the text does too.
        why = "; ".join(scenario.fallback_reasons)
        head = (
            "Plan adapté au patient (standard non retenu)"
            if fr
            else "Plan adapted to the patient (standard not chosen)"
        )
        lines.append(f"{head} : {why}")
    case = scenario.clinical_case()
    rules = (
        [
            f"- {rule.text} [{rule.id} ; {_citation(kb, rule.source)}]"
            for rule in kb.rules
            if rule_applies(rule, case.facts())
        ]
        if case is not None
        else []
    )
    lines.append("Règles applicables :" if fr else "Applicable rules:")
    lines += rules or ["- aucune règle spécifique" if fr else "- no specific rule"]
    return "\n".join(lines)


def _plan_source(kb: KnowledgeBase, plan_id: str) -> str:
    try:
        return kb.plan(plan_id).source
    except KeyError:
        return ""


_STATUS = {
    "done": {"fr": "fait", "en": "done"},
    "current": {"fr": "en cours (ce séjour)", "en": "current (this stay)"},
    "planned": {"fr": "à venir", "en": "to come"},
}


def _timeline(scenario: Scenario, language: str) -> str:
    admin = scenario.admin
    fr = language == "fr"
    parts = []
    if scenario.timeline is not None:
        parts.append(
            f"{'diagnostic le' if fr else 'diagnosed'} "
            f"{format_date(scenario.timeline.diagnosis_date, language)}"
        )
        if scenario.timeline.surgery_date:
            parts.append(
                f"{'chirurgie le' if fr else 'surgery'} "
                f"{format_date(scenario.timeline.surgery_date, language)}"
            )
        if scenario.timeline.progression_date:
            # Later-line plans: the progression that ended the previous line.
            parts.append(
                f"{'progression le' if fr else 'progression'} "
                f"{format_date(scenario.timeline.progression_date, language)}"
            )
    parts.append(
        f"séjour du {format_date(admin.admission_date, language)} au "
        f"{format_date(admin.discharge_date, language)}"
        if fr
        else f"stay from {format_date(admin.admission_date, language)} to "
        f"{format_date(admin.discharge_date, language)}"
    )
    steps = []
    for number, treatment in enumerate(scenario.treatments, start=1):
        when = (
            f", {'début' if fr else 'start'} {format_date(treatment.start_date, language)}"
            if treatment.start_date
            else ""
        )
        status = _STATUS.get(treatment.status, {}).get(language, treatment.status)
        steps.append(f"{number}. {treatment_label(treatment, language)} ({status}{when})")
    separator = " ; " if fr else "; "
    plan = ("ordre du plan : " if fr else "order of the plan: ") + ", ".join(steps)
    return separator.join([*parts, plan])


def _expected_course(scenario: Scenario, language: str, kb: KnowledgeBase) -> str:
    lines = []
    if scenario.complication and scenario.complication in kb.complications:
        # The event the scenario drew for this stay (by drug class or procedure).
        event = getattr(kb.complications[scenario.complication], language)
        lines.append(
            f"- {'événement de ce séjour' if language == 'fr' else 'event of this stay'} : {event}"
        )
    if scenario.postoperative and scenario.postoperative in kb.postoperative:
        # A complicated post-operative course drawn with its frequency for the procedure.
        event = getattr(kb.postoperative[scenario.postoperative], language)
        lines.append(
            f"- {'événement de ce séjour' if language == 'fr' else 'event of this stay'} : {event}"
        )
    seen: list[str] = []
    for treatment in scenario.treatments:
        if treatment.modality in EXPECTED_COURSE and treatment.modality not in seen:
            seen.append(treatment.modality)
    lines += [f"- {EXPECTED_COURSE[m][language]}" for m in seen]
    return "\n".join(lines) or "-"


def _comorbidity_treatments(scenario: Scenario, language: str, kb: KnowledgeBase) -> str:
    rows = []
    for comorbidity in scenario.comorbidities:
        drugs = kb.comorbidity_drugs.get(comorbidity)
        if drugs is not None:
            rows.append(
                f"- {comorbidity_label(comorbidity, language)} : {getattr(drugs, language)}"
            )
        elif comorbidity in COMORBIDITY_TREATMENTS:
            rows.append(
                f"- {comorbidity_label(comorbidity, language)} : "
                f"{COMORBIDITY_TREATMENTS[comorbidity][language]}"
            )
    return "\n".join(rows) or ("- aucune" if language == "fr" else "- none")


def prompt_context(
    scenario: Scenario, language: str, kb: KnowledgeBase | None = None
) -> PromptContext:
    """The texts of a version-2 prompt, from the knowledge base the scenario was drawn with
    (`kb`; the release's when None)."""
    kb = kb or default_knowledge()
    position = _POSITION.get(scenario.reason, {}).get(language) or REASON_LABELS.get(
        scenario.reason, {}
    ).get(language, scenario.reason)
    return PromptContext(
        guideline=_guideline_text(scenario, language, kb),
        guideline_version=scenario.guideline or kb.label,
        timeline=_timeline(scenario, language),
        stay_position=position,
        expected_course=_expected_course(scenario, language, kb),
        comorbidity_treatments=_comorbidity_treatments(scenario, language, kb),
        required_elements=REQUIRED_ELEMENTS[language],
    )
