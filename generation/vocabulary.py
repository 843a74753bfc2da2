"""Words for scenario values in French and English, shared by prompts and the offline writer."""

from __future__ import annotations

import datetime as dt
import unicodedata

from generation import guidelines
from generation.frame_format import COMORBIDITIES
from generation.scenario import Scenario, ScenarioStyle, Treatment

REGIMEN_EN = {
    "BCG-thérapie endovésicale": "intravesical BCG",
    "EC puis docétaxel": "EC followed by docetaxel",
    "EC puis paclitaxel": "EC followed by paclitaxel",
    "agoniste de la LH-RH + darolutamide": "LHRH agonist + darolutamide",
    "agoniste de la LH-RH + enzalutamide": "LHRH agonist + enzalutamide",
    "agoniste de la LH-RH 24 mois": "LHRH agonist for 24 months",
    "agoniste de la LH-RH 6 mois": "LHRH agonist for 6 months",
    "atézolizumab": "atezolizumab",
    "bévacizumab": "bevacizumab",
    "capécitabine + radiothérapie 50 Gy": "capecitabine + 50 Gy radiotherapy",
    "carboplatine + 5-FU": "carboplatin + 5-FU",
    "carboplatine-paclitaxel puis EC": "carboplatin-paclitaxel followed by EC",
    "carboplatine-pémétrexed": "carboplatin-pemetrexed",
    "carboplatine-étoposide": "carboplatin-etoposide",
    "chimioembolisation intra-artérielle": "transarterial chemoembolization",
    "cisplatine + radiothérapie 66 Gy": "cisplatin + 66 Gy radiotherapy",
    "cisplatine + radiothérapie 70 Gy": "cisplatin + 70 Gy radiotherapy",
    "cisplatine-vinorelbine": "cisplatin-vinorelbine",
    "cisplatine-étoposide + radiothérapie thoracique": (
        "cisplatin-etoposide + thoracic radiotherapy"
    ),
    "cisplatine-étoposide + radiothérapie thoracique 66 Gy": (
        "cisplatin-etoposide + 66 Gy thoracic radiotherapy"
    ),
    "colectomie + curage ganglionnaire": "colectomy with lymphadenectomy",
    "cystoprostatectomie / cystectomie totale": "radical cystectomy",
    "cétuximab": "cetuximab",
    "dabrafénib + tramétinib": "dabrafenib + trametinib",
    "docétaxel": "docetaxel",
    "duodénopancréatectomie céphalique": "pancreaticoduodenectomy",
    "encorafénib + binimétinib": "encorafenib + binimetinib",
    "enfortumab védotine": "enfortumab vedotin",
    "exérèse totale du mésorectum": "total mesorectal excision",
    "exérèse tumorale + évidement ganglionnaire": "tumour resection with neck dissection",
    "gastrectomie + curage D2": "gastrectomy with D2 lymphadenectomy",
    "hépatectomie partielle": "partial hepatectomy",
    "lobectomie + curage ganglionnaire": "lobectomy with lymph node dissection",
    "létrozole": "letrozole",
    "mastectomie + curage axillaire": "mastectomy with axillary dissection",
    "néphrectomie partielle": "partial nephrectomy",
    "néphrectomie totale élargie": "radical nephrectomy",
    "paclitaxel hebdomadaire": "weekly paclitaxel",
    "prostatectomie totale + curage ganglionnaire": (
        "radical prostatectomy with lymph node dissection"
    ),
    "prostatectomie totale robot-assistée": "robot-assisted radical prostatectomy",
    "radiofréquence percutanée": "percutaneous radiofrequency ablation",
    "radiothérapie exclusive 70 Gy": "definitive 70 Gy radiotherapy",
    "radiothérapie externe prostatique": "external beam prostate radiotherapy",
    "radiothérapie mammaire": "whole-breast radiotherapy",
    "radiothérapie mammaire 15 fractions": "whole-breast radiotherapy in 15 fractions",
    "radiothérapie pariétale et ganglionnaire": "chest wall and nodal radiotherapy",
    "radiothérapie stéréotaxique (SBRT)": "stereotactic body radiotherapy (SBRT)",
    "reprise d'exérèse + curage": "wide local excision with lymph node dissection",
    "reprise d'exérèse + ganglion sentinelle": "wide local excision with sentinel node biopsy",
    "reprise d'exérèse avec marges": "wide local excision",
    "résection transurétrale de vessie": "transurethral resection of bladder tumour",
    "surveillance active (PSA, IRM, biopsies)": "active surveillance (PSA, MRI, biopsies)",
    "tumorectomie + ganglion sentinelle": "lumpectomy with sentinel node biopsy",
}

REASON_LABELS = {
    "surgery": {"fr": "prise en charge chirurgicale", "en": "planned surgery"},
    "systemic_start": {"fr": "initiation du traitement", "en": "start of treatment"},
    "toxicity": {"fr": "toxicité du traitement", "en": "treatment toxicity"},
    "complication": {
        "fr": "altération de l'état général",
        "en": "deterioration of general condition",
    },
    "diagnostic": {
        "fr": "bilan diagnostique et d'extension",
        "en": "diagnostic and staging work-up",
    },
}
SMOKING_LABELS = {
    "never": {"fr": "non-fumeur", "en": "never smoker"},
    "former": {"fr": "ancien fumeur", "en": "former smoker"},
    "current": {"fr": "tabagisme actif", "en": "current smoker"},
}
SEX_LABELS = {"M": {"fr": "homme", "en": "man"}, "F": {"fr": "femme", "en": "woman"}}
BIOMARKER_VALUE_FR = {
    "positive": "positif",
    "negative": "négatif",
    "mutated": "muté",
    "wild-type": "sauvage",
    "rearranged": "réarrangé",
    "not rearranged": "non réarrangé",
    "V600E mutated": "muté V600E",
    "left": "gauche",
    "right": "droit",
}
LANGUAGES = ("fr", "en")


def regimen_label(regimen: str, language: str) -> str:
    return REGIMEN_EN.get(regimen, regimen) if language == "en" else regimen


def biomarker_value_label(value: str, language: str) -> str:
    return BIOMARKER_VALUE_FR.get(value, value) if language == "fr" else value


def comorbidity_label(key: str, language: str) -> str:
    return COMORBIDITIES.get(key, {}).get(language, key)


def format_date(value: str, language: str) -> str:
    day = dt.date.fromisoformat(value)
    return day.strftime("%d/%m/%Y" if language == "fr" else "%m/%d/%Y")


def treatment_label(treatment: Treatment, language: str) -> str:
    modality = guidelines.MODALITY_LABELS[treatment.modality][language]
    intent = guidelines.INTENT_LABELS.get(treatment.intent, {}).get(language, "")
    regimen = (
        treatment.regimen_en
        if language == "en" and treatment.regimen_en
        else regimen_label(treatment.regimen, language)
    )
    if treatment.concurrent:
        regimen += ", concomitant" if language == "fr" else ", concurrent"
    line = treatment.line
    if language == "fr":
        line_text = f", {'1re' if line == 1 else f'{line}e'} ligne" if line else ""
    else:
        line_text = f", line {line}" if line else ""
    return f"{modality} {intent} ({regimen}{line_text})".replace("  ", " ")


def _stage_text(scenario: Scenario) -> str:
    if scenario.tnm:
        return f"{scenario.stage} ({scenario.tnm}, AJCC 8)"
    # HCC: BCLC stage and liver function, not TNM (BCLC 2022).
    child_pugh = f", Child-Pugh {scenario.child_pugh}" if scenario.child_pugh else ""
    return f"BCLC {scenario.stage}{child_pugh}"


def scenario_summary(scenario: Scenario, language: str) -> str:
    """The scenario as a bullet list for the prompt (the LLM writes from this)."""
    site = scenario.site
    admin = scenario.admin
    fr = language == "fr"
    biomarkers = ", ".join(
        f"{name} {biomarker_value_label(value, language)}"
        for name, value in scenario.biomarkers.items()
    )
    metastases = ", ".join(
        guidelines.METASTATIC_SITE_LABELS[m][language] for m in scenario.metastatic_sites
    )
    comorbidities = ", ".join(comorbidity_label(c, language) for c in scenario.comorbidities)
    none = "aucune" if fr else "none"
    rows = [
        (
            # Agreed with the sex: the model copies "Patient(e) … né(e)" into its report.
            "Patiente" if fr and scenario.sex == "F" else "Patient",
            f"{admin.patient_first_name} {admin.patient_last_name}, "
            f"{SEX_LABELS[scenario.sex][language]}, {scenario.age} "
            f"{'ans' if fr else 'years old'}, "
            f"{('née le' if scenario.sex == 'F' else 'né le') if fr else 'born'} "
            f"{format_date(admin.birth_date, language)}",
        ),
        ("Établissement" if fr else "Hospital", f"{admin.hospital}, {admin.department}"),
        ("Médecin" if fr else "Physician", admin.physician),
        (
            "Dates",
            f"{format_date(admin.admission_date, language)} → "
            f"{format_date(admin.discharge_date, language)}",
        ),
        ("Motif" if fr else "Reason", REASON_LABELS[scenario.reason][language]),
        ("Localisation" if fr else "Primary site", guidelines.site_label(site, language)),
        (
            "Histologie" if fr else "Histology",
            guidelines.histology_label(site, scenario.histology, language),
        ),
        ("Stade" if fr else "Stage", _stage_text(scenario)),
        ("Biomarqueurs" if fr else "Biomarkers", biomarkers or none),
        ("Métastases" if fr else "Metastases", metastases or none),
        ("ECOG", str(scenario.ecog)),
        ("Comorbidités" if fr else "Comorbidities", comorbidities or none),
        ("Tabac" if fr else "Smoking", SMOKING_LABELS[scenario.smoking][language]),
        (
            "Stratégie thérapeutique (RCP)" if fr else "Treatment strategy (tumour board)",
            "; ".join(treatment_label(t, language) for t in scenario.treatments),
        ),
    ]
    if scenario.style is not None:
        # The real corpus's style profile: the model writes to its length, sections,
        # headings, abbreviations and date style.
        style = scenario.style
        rows.append(
            (
                "Style",
                (
                    f"environ {style.target_length} caractères ; sections : "
                    f"{', '.join(styled_sections(language, style))} ; titres : "
                    f"{HEADING_STYLE_LABELS[style.heading_style]['fr']}"
                    + _style_conventions(style, language)
                )
                if fr
                else (
                    f"about {style.target_length} characters; sections: "
                    f"{', '.join(styled_sections(language, style))}; headings: "
                    f"{HEADING_STYLE_LABELS[style.heading_style]['en']}"
                    + _style_conventions(style, language)
                ),
            )
        )
    return "\n".join(
        f"- {label} : {value}" if fr else f"- {label}: {value}" for label, value in rows
    )


DATE_STYLE_LABELS = {
    "numeric": {"fr": "dates en chiffres (14/03/2022)", "en": "numeric dates (03/14/2022)"},
    "dotted": {"fr": "dates pointées (14.03.22)", "en": "dotted dates (14.03.22)"},
    "written": {"fr": "dates en toutes lettres (14 mars 2022)", "en": "written dates"},
}


def _style_conventions(style: ScenarioStyle, language: str) -> str:
    """The profile's abbreviations (those it prefers short, then its usual ones) and date
    style, as the rest of the Style row."""
    fr = language == "fr"
    preferred = [short for short, form in style.abbreviation_forms.items() if form == "short"]
    spelled = [short for short, form in style.abbreviation_forms.items() if form == "long"]
    usual = list(dict.fromkeys([*preferred, *(a for a in style.abbreviations if a not in spelled)]))
    parts = []
    if usual:
        parts.append(("abréviations : " if fr else "abbreviations: ") + ", ".join(usual))
    if spelled:
        parts.append(("en toutes lettres : " if fr else "spelled out: ") + ", ".join(spelled))
    if style.date_style in DATE_STYLE_LABELS:
        parts.append(DATE_STYLE_LABELS[style.date_style]["fr" if fr else "en"])
    separator = " ; " if fr else "; "
    return "".join(separator + part for part in parts)


# Sections of a French compte rendu d'hospitalisation (and their English counterparts), in
# order. The prompts ask for these headings verbatim; validation flags a missing one.
REPORT_SECTIONS = {
    "fr": (
        "Motif d'hospitalisation",
        "Antécédents",
        "Mode de vie",
        "Histoire de la maladie",
        "Examen clinique",
        "Examens complémentaires",
        "Évolution",
        "Conclusion",
    ),
    "en": (
        "Reason for admission",
        "Past medical history",
        "Social history",
        "History of present illness",
        "Physical examination",
        "Investigations",
        "Hospital course",
        "Conclusion",
    ),
}


HEADING_STYLE_LABELS = {
    "title": {"fr": "casse normale", "en": "sentence case"},
    "capitals": {"fr": "en majuscules", "en": "in capitals"},
    "numbered": {"fr": "numérotés, en majuscules", "en": "numbered, in capitals"},
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def styled_sections(language: str, style: ScenarioStyle | None) -> tuple[str, ...]:
    """The writer's sections a style keeps: those the real reports have (by folded name),
    always with the reason for admission first and the conclusion last, where the
    diagnosis and the plan are written."""
    sections = REPORT_SECTIONS.get(language, REPORT_SECTIONS["fr"])
    if style is None:
        return sections
    wanted = {_fold(section) for section in style.sections}
    return tuple(
        section
        for index, section in enumerate(sections)
        if index in (0, len(sections) - 1) or _fold(section) in wanted
    )


def heading_styled(title: str, *, number: int, style: ScenarioStyle | None) -> str:
    if style is None or style.heading_style == "title":
        return title
    if style.heading_style == "numbered":
        return f"{number}. {title.upper()}"
    return title.upper()
