"""Labels and look-ups over the clinical knowledge base, for pages, prompts and the writer.

The clinical content itself (sites, histologies, plans with their eligibility, rules, each
with its source) is data: generation/data/guidelines/*.yaml, validated by
generation.clinical.knowledge. The engine stays in Python: TNM (generation.clinical.tnm),
drawing a patient and a plan (generation.clinical.draw) and the consistency checker
(generation.clinical.checker). This module only names things in French and English.
"""

from __future__ import annotations

from generation.clinical.knowledge import (
    SYSTEMIC,
    TNM_STAGES,
    KnowledgeBase,
    default_knowledge,
)

STAGES = TNM_STAGES
__all__ = ["STAGES", "SYSTEMIC", "histology_label", "site_choices", "site_label"]

MODALITY_LABELS = {
    "surgery": {"fr": "chirurgie", "en": "surgery"},
    "radiotherapy": {"fr": "radiothérapie", "en": "radiotherapy"},
    "chemoradiation": {"fr": "radiochimiothérapie concomitante", "en": "chemoradiation"},
    "chemotherapy": {"fr": "chimiothérapie", "en": "chemotherapy"},
    "targeted": {"fr": "thérapie ciblée", "en": "targeted therapy"},
    "immunotherapy": {"fr": "immunothérapie", "en": "immunotherapy"},
    "endocrine": {"fr": "hormonothérapie", "en": "endocrine therapy"},
    "anti_her2": {"fr": "traitement anti-HER2", "en": "anti-HER2 therapy"},
    "active_surveillance": {"fr": "surveillance", "en": "surveillance"},
    "local_ablation": {"fr": "traitement local", "en": "local treatment"},
    "intravesical": {"fr": "instillations endovésicales", "en": "intravesical therapy"},
    "supportive_care": {"fr": "soins de support", "en": "supportive care"},
}
INTENT_LABELS = {
    "curative": {"fr": "à visée curative", "en": "with curative intent"},
    "adjuvant": {"fr": "adjuvante", "en": "adjuvant"},
    "neoadjuvant": {"fr": "néoadjuvante", "en": "neoadjuvant"},
    "palliative": {"fr": "à visée palliative", "en": "palliative"},
    "consolidation": {"fr": "de consolidation", "en": "consolidation"},
}
METASTATIC_SITE_LABELS = {
    "bone": {"fr": "osseuses", "en": "bone"},
    "liver": {"fr": "hépatiques", "en": "liver"},
    "lung": {"fr": "pulmonaires", "en": "lung"},
    "brain": {"fr": "cérébrales", "en": "brain"},
    "adrenal": {"fr": "surrénaliennes", "en": "adrenal"},
    "contralateral_lung": {"fr": "pulmonaires controlatérales", "en": "contralateral lung"},
    "pleura": {"fr": "pleurales", "en": "pleural"},
    "peritoneum": {"fr": "péritonéales", "en": "peritoneal"},
    "distant_lymph_nodes": {"fr": "ganglionnaires à distance", "en": "distant lymph node"},
    "lymph_nodes": {"fr": "ganglionnaires à distance", "en": "distant lymph node"},
    "skin": {"fr": "cutanées", "en": "skin"},
}


def _kb(kb: KnowledgeBase | None) -> KnowledgeBase:
    return kb if kb is not None else default_knowledge()


def site_choices(kb: KnowledgeBase | None = None) -> list[tuple[str, str]]:
    return [(key, site.en) for key, site in _kb(kb).sites.items()]


def site_label(site: str, language: str, kb: KnowledgeBase | None = None) -> str:
    return getattr(_kb(kb).sites[site], language)


def histology_label(
    site: str, histology: str, language: str, kb: KnowledgeBase | None = None
) -> str:
    return getattr(_kb(kb).sites[site].histologies[histology], language)
