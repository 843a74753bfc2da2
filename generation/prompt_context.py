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

from generation import guidelines
from generation.scenario import Scenario
from generation.vocabulary import REASON_LABELS, comorbidity_label, format_date, treatment_label

# The guideline knowledge base these texts come from. The versioned YAML knowledge base
# (issue 13) replaces this label with its own version when it lands.
GUIDELINE_VERSION = "builtin-guidelines@1"

# Usual long-term treatments of the frame's comorbidities (HAS guides de parcours: diabète
# de type 2 2014, HTA 2016, BPCO 2019, MRC 2021; ESC 2019 chronic coronary syndromes).
# They belong in the discharge treatment: forbidding them made reports implausible.
COMORBIDITY_TREATMENTS: dict[str, dict[str, str]] = {
    "diabetes": {
        "fr": "metformine (± insuline selon l'équilibre glycémique)",
        "en": "metformin (± insulin depending on glycaemic control)",
    },
    "hypertension": {
        "fr": "IEC ou ARA2, inhibiteur calcique ou diurétique thiazidique",
        "en": "ACE inhibitor or ARB, calcium-channel blocker or thiazide diuretic",
    },
    "cardiovascular_disease": {
        "fr": "aspirine à faible dose, statine, bêtabloquant",
        "en": "low-dose aspirin, statin, beta-blocker",
    },
    "copd": {
        "fr": "bronchodilatateurs inhalés de longue durée d'action (LAMA/LABA)",
        "en": "long-acting inhaled bronchodilators (LAMA/LABA)",
    },
    "chronic_kidney_disease": {
        "fr": "adaptation des posologies à la clairance, IEC ou ARA2",
        "en": "doses adjusted to creatinine clearance, ACE inhibitor or ARB",
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


def _guideline_text(scenario: Scenario, language: str) -> str:
    group = (
        guidelines.histology_group(scenario.site, scenario.histology)
        if scenario.histology in guidelines.SITES[scenario.site]["histologies"]
        else ""
    )
    rules = [
        f"- {rule['text']} [{rule['id']}]"
        for rule in guidelines.RULES
        if guidelines._rule_applies(
            rule["when"],
            site=scenario.site,
            group=group,
            stage=scenario.stage,
            biomarkers=scenario.biomarkers,
        )
    ]
    plan = "; ".join(treatment_label(t, language) for t in scenario.treatments)
    head = "Plan retenu en RCP" if language == "fr" else "Tumour board plan"
    justification = "Règles applicables" if language == "fr" else "Applicable rules"
    none = "aucune règle spécifique" if language == "fr" else "no specific rule"
    return f"{head} : {plan}\n{justification} :\n" + ("\n".join(rules) or f"- {none}")


def _timeline(scenario: Scenario, language: str) -> str:
    # The scenario (schema 1) has no diagnosis or prior-line dates yet: the knowledge-base
    # issue adds a per-scenario timeline, which replaces this when it lands.
    admin = scenario.admin
    fr = language == "fr"
    stay = (
        f"naissance le {format_date(admin.birth_date, language)} ; "
        if fr
        else f"born {format_date(admin.birth_date, language)}; "
    )
    stay += (
        f"séjour du {format_date(admin.admission_date, language)} au "
        f"{format_date(admin.discharge_date, language)}"
        if fr
        else f"stay from {format_date(admin.admission_date, language)} to "
        f"{format_date(admin.discharge_date, language)}"
    )
    steps = ", ".join(
        f"{step}. {treatment_label(treatment, language)}"
        for step, treatment in enumerate(scenario.treatments, start=1)
    )
    order = "ordre du plan" if fr else "order of the plan"
    return f"{stay} ; {order} : {steps}" if fr else f"{stay}; {order}: {steps}"


def _expected_course(scenario: Scenario, language: str) -> str:
    seen: list[str] = []
    for treatment in scenario.treatments:
        if treatment.modality in EXPECTED_COURSE and treatment.modality not in seen:
            seen.append(treatment.modality)
    return "\n".join(f"- {EXPECTED_COURSE[m][language]}" for m in seen) or "-"


def _comorbidity_treatments(scenario: Scenario, language: str) -> str:
    rows = [
        f"- {comorbidity_label(c, language)} : {COMORBIDITY_TREATMENTS[c][language]}"
        for c in scenario.comorbidities
        if c in COMORBIDITY_TREATMENTS
    ]
    return "\n".join(rows) or ("- aucune" if language == "fr" else "- none")


def prompt_context(scenario: Scenario, language: str) -> PromptContext:
    position = _POSITION.get(scenario.reason, {}).get(language) or REASON_LABELS.get(
        scenario.reason, {}
    ).get(language, scenario.reason)
    return PromptContext(
        guideline=_guideline_text(scenario, language),
        guideline_version=GUIDELINE_VERSION,
        timeline=_timeline(scenario, language),
        stay_position=position,
        expected_course=_expected_course(scenario, language),
        comorbidity_treatments=_comorbidity_treatments(scenario, language),
        required_elements=REQUIRED_ELEMENTS[language],
    )
