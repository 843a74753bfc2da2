"""Default prompt templates (French and English) and prompt rendering.

Templates use `string.Template` placeholders ($scenario, $sections, $fields), so the JSON
braces in them need no escaping. The stored `PromptTemplate` rows are what batches use;
these constants only seed version 1.
"""

from __future__ import annotations

from string import Template
from typing import get_args

from generation.output import AnnotationField
from generation.scenario import Scenario
from generation.vocabulary import REPORT_SECTIONS, scenario_summary

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


def prompt_render(
    *, system_template: str, user_template: str, scenario: Scenario, language: str
) -> tuple[str, str]:
    # The scenario goes in as a readable summary, not JSON: labels in the report's language
    # are what the model should reuse in the text.
    values = {
        "scenario": scenario_summary(scenario, language),
        # French typography puts a space before the semicolon.
        "sections": " ; ".join(REPORT_SECTIONS[language])
        if language == "fr"
        else "; ".join(REPORT_SECTIONS[language]),
        "fields": ", ".join(get_args(AnnotationField)),
        "language": language,
    }
    # safe_substitute: a coordinator's prompt may contain a literal "$" (prices, JSON
    # examples); an unknown placeholder is left as written instead of failing the batch.
    return (
        Template(system_template).safe_substitute(values),
        Template(user_template).safe_substitute(values),
    )
