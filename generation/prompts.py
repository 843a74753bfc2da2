"""Default prompt templates (French and English) and prompt rendering.

Templates use `string.Template` placeholders ($scenario, $sections, $fields), so the JSON
braces in them need no escaping. The stored `PromptTemplate` rows are what batches use;
these constants only seed version 1.
"""

from __future__ import annotations

from string import Template
from typing import get_args

from generation.clinical.knowledge import KnowledgeBase
from generation.prompt_context import prompt_context
from generation.scenario import Scenario
from generation.vocabulary import REPORT_SECTIONS, scenario_summary
from review.annotation_fields import AnnotationField, ExtractionField

# Editing these texts changes nothing already stored: data migration 0002 seeded version 1
# from them, and a changed prompt must become a new PromptTemplate version (provenance
# names the version every report was written with).
DEFAULT_PROMPTS: dict[str, dict[str, str]] = {
    "fr": {
        "name": "compte-rendu-fr",
        "system": (
            "Tu es oncologue médical dans un hôpital français. Tu rédiges des comptes rendus "
            "d'hospitalisation fictifs mais réalistes, destinés à constituer un corpus annoté "
            "pour entraîner des modèles d'extraction. Tu respectes strictement les données du "
            "scénario et les recommandations de prise en charge : n'ajoute aucun traitement qui "
            "n'y figure pas. Texte brut uniquement : ni gras, ni titres Markdown, ni listes à "
            "puces, aucune phrase adressée au lecteur, aucun avertissement. Tu réponds "
            "uniquement par un objet JSON conforme au schéma demandé."
        ),
        "user": (
            # Verbatim segments rather than offsets: models copy text reliably but count
            # characters badly; the validator computes the offsets.
            "Rédige le compte rendu d'hospitalisation correspondant à ce scénario :\n"
            "$scenario\n\n"
            "Structure : un en-tête (établissement, service, identité du patient, dates), "
            "puis ces rubriques, chacune introduite par son titre exact seul sur sa ligne : "
            "$sections. La conclusion précise le traitement de sortie et le suivi.\n\n"
            "Renvoie un JSON avec « narrative » (le compte rendu complet, texte brut) et "
            "« annotations » : une entrée par information du jeu de données minimal "
            "($fields), avec « field », « value » (valeur normalisée), et « segments » : le ou "
            "les extraits du texte, recopiés caractère pour caractère, dont la valeur est tirée. "
            "Pour un biomarqueur, « name » ; pour un traitement, « modality » (surgery, "
            "radiotherapy, chemoradiation, chemotherapy, targeted, immunotherapy, endocrine, "
            "anti_her2, active_surveillance, local_ablation, intravesical), « intent » "
            "(curative, adjuvant, neoadjuvant, palliative, consolidation) et « line »."
        ),
    },
    "en": {
        "name": "discharge-report-en",
        "system": (
            "You are a medical oncologist in a hospital. You write fictitious but realistic "
            "hospital discharge reports for an annotated corpus used to train extraction "
            "models. Follow the scenario and the treatment guidelines strictly: add no "
            "treatment that is not in it. Plain text only: no bold, no Markdown headings, no "
            "bullet lists, no words addressed to the reader, no disclaimers. Answer only with a "
            "JSON object following the requested schema."
        ),
        "user": (
            "Write the hospital discharge report for this scenario:\n"
            "$scenario\n\n"
            "Structure: a header (hospital, department, patient identity, dates), then these "
            "sections, each introduced by its exact heading alone on its line: $sections. The "
            "conclusion gives the discharge medication and follow-up.\n\n"
            'Return JSON with "narrative" (the whole report, plain text) and "annotations": '
            'one entry per item of the minimal dataset ($fields), with "field", "value" '
            '(normalised value) and "segments": the excerpt(s) of the text, copied character '
            'for character, the value was read from. For a biomarker add "name"; for a '
            'treatment "modality" (surgery, radiotherapy, chemoradiation, chemotherapy, '
            "targeted, immunotherapy, endocrine, anti_her2, active_surveillance, "
            'local_ablation, intravesical), "intent" (curative, adjuvant, neoadjuvant, '
            'palliative, consolidation) and "line".'
        ),
    },
}


# Version 2 (the default since issue 14): two passes. Pass 1 writes the narrative only,
# with the guideline and the clinical context a clinician would have; pass 2 extracts the
# minimal dataset from that narrative (`extraction_template`). Supportive and comorbidity
# drugs are allowed: only cancer treatments outside the plan are forbidden.
PROMPTS_V2: dict[str, dict[str, str]] = {
    "fr": {
        "system": (
            "Tu es oncologue médical dans un hôpital français. Tu rédiges des comptes rendus "
            "d'hospitalisation fictifs mais réalistes, destinés à constituer un corpus annoté. "
            "Les traitements anticancéreux sont exactement ceux du plan retenu en RCP : n'en "
            "ajoute aucun autre. Les traitements de support (antiémétiques, antalgiques, "
            "G-CSF, anticoagulants…) et les traitements habituels des comorbidités sont "
            "permis et attendus. Texte brut uniquement : ni gras, ni titres Markdown, ni "
            "listes à puces, aucune phrase adressée au lecteur, aucun avertissement."
        ),
        "user": (
            "Rédige le compte rendu d'hospitalisation correspondant à ce scénario :\n"
            "$scenario\n\n"
            "Recommandation qui justifie le plan (référentiel $guideline_version) :\n"
            "$guideline\n\n"
            "Chronologie de la maladie : $timeline\n"
            "Place de ce séjour dans le parcours : $stay_position\n"
            "Évolution et complications attendues pour ces traitements :\n$expected_course\n"
            "Traitements habituels des comorbidités (à faire figurer au traitement de "
            "sortie) :\n$comorbidity_treatments\n\n"
            "Le compte rendu contient les éléments du décret n° 2016-995 : "
            "$required_elements.\n"
            "Structure : un en-tête (établissement, service, identité du patient, dates), "
            "puis ces rubriques, chacune introduite par son titre exact seul sur sa ligne : "
            "$sections. Environ 400 à 700 mots. Réponds uniquement par le texte du compte "
            "rendu."
        ),
        "extraction": (
            "Voici un compte rendu d'hospitalisation :\n<<<\n$narrative\n>>>\n\n"
            "Extrais-en le jeu de données minimal ($fields). Une entrée par valeur, avec "
            "« field », « value » (valeur normalisée), « segment » : l'extrait du texte, "
            "recopié caractère pour caractère, dont la valeur est tirée, et « occurrence » : "
            "le rang de cet extrait dans le texte s'il y figure plusieurs fois (1 = première "
            "fois). Pour un biomarqueur ou un examen biologique, « name » ; pour un "
            "traitement, « modality » (surgery, radiotherapy, chemoradiation, chemotherapy, "
            "targeted, immunotherapy, endocrine, anti_her2, active_surveillance, "
            "local_ablation, intravesical), « intent » (curative, adjuvant, neoadjuvant, "
            "palliative, consolidation) et « line » ; pour une toxicité, « grade » (CTCAE). "
            "N'extrais que ce que le texte dit."
        ),
    },
    "en": {
        "system": (
            "You are a medical oncologist in a hospital. You write fictitious but realistic "
            "hospital discharge reports for an annotated corpus. The cancer treatments are "
            "exactly those of the tumour board's plan: add no other. Supportive care "
            "(antiemetics, analgesics, G-CSF, anticoagulants…) and the comorbidities' usual "
            "treatments are allowed and expected. Plain text only: no bold, no Markdown "
            "headings, no bullet lists, no words addressed to the reader, no disclaimers."
        ),
        "user": (
            "Write the hospital discharge report for this scenario:\n"
            "$scenario\n\n"
            "Guideline that justifies the plan (knowledge base $guideline_version):\n"
            "$guideline\n\n"
            "Disease timeline: $timeline\n"
            "Position of this stay in the pathway: $stay_position\n"
            "Expected course and complications for these treatments:\n$expected_course\n"
            "Usual treatments of the comorbidities (to appear in the discharge "
            "medication):\n$comorbidity_treatments\n\n"
            "The report holds the elements of French decree 2016-995: $required_elements.\n"
            "Structure: a header (hospital, department, patient identity, dates), then these "
            "sections, each introduced by its exact heading alone on its line: $sections. "
            "About 400 to 700 words. Answer with the report text only."
        ),
        "extraction": (
            "Here is a hospital discharge report:\n<<<\n$narrative\n>>>\n\n"
            "Extract the minimal dataset ($fields). One entry per value, with "
            '"field", "value" (normalised value), "segment": the excerpt of the text, copied '
            'character for character, the value was read from, and "occurrence": which '
            "occurrence of that excerpt it is when the text holds it several times (1 = "
            'first). For a biomarker or a lab test add "name"; for a treatment "modality" '
            "(surgery, radiotherapy, chemoradiation, chemotherapy, targeted, immunotherapy, "
            "endocrine, anti_her2, active_surveillance, local_ablation, intravesical), "
            '"intent" (curative, adjuvant, neoadjuvant, palliative, consolidation) and '
            '"line"; for a toxicity "grade" (CTCAE). Extract only what the text says.'
        ),
    },
}

EXTRACTION_SYSTEM = {
    "fr": "Tu extrais des données structurées d'un texte médical, sans rien inventer. Tu "
    "réponds uniquement par un objet JSON conforme au schéma demandé.",
    "en": "You extract structured data from a medical text, inventing nothing. Answer only "
    "with a JSON object following the requested schema.",
}

# The critique prompts are code, versioned by this label (recorded in each pass's
# provenance): a changed wording must bump it.
CRITIQUE_VERSION = "critique-v1"
JUDGE_PROMPTS = {
    "fr": {
        "system": (
            "Tu es oncologue relecteur. Tu vérifies qu'un compte rendu d'hospitalisation "
            "fictif est médicalement conforme à son scénario et à la recommandation. Tu "
            "réponds uniquement par un objet JSON conforme au schéma demandé."
        ),
        "user": (
            "Scénario :\n$scenario\n\nRecommandation (référentiel $guideline_version) :\n"
            "$guideline\n\nAnomalies déjà relevées par le contrôle automatique :\n"
            "$checker_flags\n\nCompte rendu :\n<<<\n$narrative\n>>>\n\n"
            "Réponds « conform » (true/false) et, pour chaque anomalie, « category » "
            "(guideline, fitness, tnm, chronology, drug_indication, internal_contradiction), "
            "« evidence » (l'extrait fautif recopié du texte), « explanation » et "
            "« correction » (la correction proposée). Les traitements de support et des "
            "comorbidités ne sont pas des anomalies."
        ),
    },
    "en": {
        "system": (
            "You are a reviewing oncologist. You check that a fictitious discharge report is "
            "medically consistent with its scenario and the guideline. Answer only with a "
            "JSON object following the requested schema."
        ),
        "user": (
            "Scenario:\n$scenario\n\nGuideline (knowledge base $guideline_version):\n"
            "$guideline\n\nAnomalies already found by the automatic checker:\n"
            "$checker_flags\n\nReport:\n<<<\n$narrative\n>>>\n\n"
            'Answer "conform" (true/false) and, for each anomaly, "category" (guideline, '
            "fitness, tnm, chronology, drug_indication, internal_contradiction), "
            '"evidence" (the faulty excerpt copied from the text), "explanation" and '
            '"correction" (the suggested fix). Supportive and comorbidity treatments are '
            "not anomalies."
        ),
    },
}
REVISION_PROMPTS = {
    "fr": (
        "Voici ton compte rendu :\n<<<\n$narrative\n>>>\n\nUn relecteur y a relevé ces "
        "anomalies :\n$anomalies\n\nRéécris le compte rendu complet en corrigeant chacune, "
        "sans rien changer d'autre. Réponds uniquement par le texte du compte rendu."
    ),
    "en": (
        "Here is your report:\n<<<\n$narrative\n>>>\n\nA reviewer found these "
        "anomalies:\n$anomalies\n\nRewrite the whole report fixing each of them and "
        "changing nothing else. Answer with the report text only."
    ),
}


def prompt_render(
    *,
    system_template: str,
    user_template: str,
    scenario: Scenario,
    language: str,
    output_schema_version: int = 1,
    extra: dict[str, str] | None = None,
    kb: KnowledgeBase | None = None,
) -> tuple[str, str]:
    # The scenario goes in as a readable summary, not JSON: labels in the report's language
    # are what the model should reuse in the text.
    fields = get_args(ExtractionField if output_schema_version >= 2 else AnnotationField)
    values = {
        "scenario": scenario_summary(scenario, language),
        # French typography puts a space before the semicolon.
        "sections": " ; ".join(REPORT_SECTIONS[language])
        if language == "fr"
        else "; ".join(REPORT_SECTIONS[language]),
        "fields": ", ".join(fields),
        "language": language,
        **prompt_context(scenario, language, kb).as_values(),
        **(extra or {}),
    }
    # safe_substitute: a coordinator's prompt may contain a literal "$" (prices, JSON
    # examples); an unknown placeholder is left as written instead of failing the batch.
    return (
        Template(system_template).safe_substitute(values),
        Template(user_template).safe_substitute(values),
    )
