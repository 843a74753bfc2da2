"""Guideline rule table: which treatment strategies fit a site, histology, stage and biomarkers.

Two tables, both plain data:

* `SITES[site]["plans"][group][stage]`: the strategies the sampler may choose from (a
  standard-of-care outline after /work/shared/reference/oncology-figures.md, ESMO/INCa;
  it is a simplification for synthetic data and must be reviewed by an oncologist before
  any clinical use).
* `RULES`: constraints stated independently of the plans ("no curative surgery at stage
  IV", "HR+ breast gets endocrine therapy"…). `guideline_violations` checks any list of
  treatments against them: the sampler's scenarios (tests draw thousands) and the
  treatments an LLM annotated in its report (a `guideline_violated` flag).

A treatment is {"modality", "intent", "regimen", "line"}; modalities are the keys of
`MODALITY_LABELS`.
"""

from __future__ import annotations

from typing import Any

STAGES = ("I", "II", "III", "IV")

MODALITY_LABELS = {
    "surgery": {"fr": "chirurgie", "en": "surgery"},
    "radiotherapy": {"fr": "radiothérapie", "en": "radiotherapy"},
    "chemoradiation": {"fr": "radiochimiothérapie concomitante", "en": "chemoradiation"},
    "chemotherapy": {"fr": "chimiothérapie", "en": "chemotherapy"},
    "targeted": {"fr": "thérapie ciblée", "en": "targeted therapy"},
    "immunotherapy": {"fr": "immunothérapie", "en": "immunotherapy"},
    "endocrine": {"fr": "hormonothérapie", "en": "endocrine therapy"},
    "anti_her2": {"fr": "traitement anti-HER2", "en": "anti-HER2 therapy"},
    "active_surveillance": {"fr": "surveillance active", "en": "active surveillance"},
    "local_ablation": {"fr": "traitement local", "en": "local treatment"},
    "intravesical": {"fr": "instillations endovésicales", "en": "intravesical therapy"},
}
INTENT_LABELS = {
    "curative": {"fr": "à visée curative", "en": "with curative intent"},
    "adjuvant": {"fr": "adjuvante", "en": "adjuvant"},
    "neoadjuvant": {"fr": "néoadjuvante", "en": "neoadjuvant"},
    "palliative": {"fr": "à visée palliative", "en": "palliative"},
    "consolidation": {"fr": "de consolidation", "en": "consolidation"},
}
SYSTEMIC = ("chemotherapy", "targeted", "immunotherapy", "endocrine", "anti_her2")


def _t(modality: str, intent: str, regimen: str, line: int | None = None) -> dict[str, Any]:
    return {"modality": modality, "intent": intent, "regimen": regimen, "line": line}


# Biomarkers a histology is not tested for are absent from the scenario (None here).
NO_EGFR = ("wild-type", None)
NO_ALK = ("not rearranged", None)


# Plan: {"id", "when": {biomarker: value} (all must hold), "treatments": [...]}.
def _plan(plan_id: str, *treatments: dict[str, Any], when: dict[str, Any] | None = None):
    return {"id": plan_id, "when": when or {}, "treatments": list(treatments)}


SITES: dict[str, dict[str, Any]] = {
    "breast": {
        "labels": {"fr": "sein", "en": "breast"},
        "histologies": {
            "invasive_ductal": {
                "group": "breast",
                "fr": "carcinome canalaire infiltrant (NST)",
                "en": "invasive ductal carcinoma (NST)",
            },
            "invasive_lobular": {
                "group": "breast",
                "fr": "carcinome lobulaire infiltrant",
                "en": "invasive lobular carcinoma",
            },
        },
        "biomarkers": {"HR": ("positive", "negative"), "HER2": ("positive", "negative")},
        "metastatic_sites": ("bone", "liver", "lung", "brain"),
        "tnm": {
            "I": ("T1cN0M0", "T1bN0M0"),
            "II": ("T2N0M0", "T1cN1M0", "T2N1M0"),
            "III": ("T3N1M0", "T2N2M0", "T4bN1M0"),
            "IV": ("T2N1M1", "T3N2M1"),
        },
        "plans": {
            "breast": {
                "I": [
                    _plan(
                        "breast-early-hr",
                        _t("surgery", "curative", "tumorectomie + ganglion sentinelle"),
                        _t("radiotherapy", "adjuvant", "radiothérapie mammaire 15 fractions"),
                        _t("endocrine", "adjuvant", "létrozole"),
                        when={"HR": "positive", "HER2": "negative"},
                    ),
                    _plan(
                        "breast-early-her2",
                        _t("surgery", "curative", "tumorectomie + ganglion sentinelle"),
                        _t("chemotherapy", "adjuvant", "paclitaxel hebdomadaire"),
                        _t("anti_her2", "adjuvant", "trastuzumab"),
                        _t("radiotherapy", "adjuvant", "radiothérapie mammaire"),
                        when={"HER2": "positive", "HR": "negative"},
                    ),
                    _plan(
                        "breast-early-hr-her2",
                        _t("surgery", "curative", "tumorectomie + ganglion sentinelle"),
                        _t("chemotherapy", "adjuvant", "paclitaxel hebdomadaire"),
                        _t("anti_her2", "adjuvant", "trastuzumab"),
                        _t("radiotherapy", "adjuvant", "radiothérapie mammaire"),
                        _t("endocrine", "adjuvant", "anastrozole"),
                        when={"HER2": "positive", "HR": "positive"},
                    ),
                    _plan(
                        "breast-early-tn",
                        _t("surgery", "curative", "tumorectomie + ganglion sentinelle"),
                        _t("chemotherapy", "adjuvant", "EC puis paclitaxel"),
                        _t("radiotherapy", "adjuvant", "radiothérapie mammaire"),
                        when={"HR": "negative", "HER2": "negative"},
                    ),
                ],
                "II": "I",
                "III": [
                    _plan(
                        "breast-la-hr",
                        _t("chemotherapy", "neoadjuvant", "EC puis paclitaxel"),
                        _t("surgery", "curative", "mastectomie + curage axillaire"),
                        _t("radiotherapy", "adjuvant", "radiothérapie pariétale et ganglionnaire"),
                        _t("endocrine", "adjuvant", "létrozole"),
                        when={"HR": "positive", "HER2": "negative"},
                    ),
                    _plan(
                        "breast-la-her2",
                        _t("chemotherapy", "neoadjuvant", "EC puis docétaxel"),
                        _t("anti_her2", "neoadjuvant", "trastuzumab + pertuzumab"),
                        _t("surgery", "curative", "mastectomie + curage axillaire"),
                        _t("radiotherapy", "adjuvant", "radiothérapie pariétale et ganglionnaire"),
                        when={"HER2": "positive", "HR": "negative"},
                    ),
                    _plan(
                        "breast-la-hr-her2",
                        _t("chemotherapy", "neoadjuvant", "EC puis docétaxel"),
                        _t("anti_her2", "neoadjuvant", "trastuzumab + pertuzumab"),
                        _t("surgery", "curative", "mastectomie + curage axillaire"),
                        _t("radiotherapy", "adjuvant", "radiothérapie pariétale et ganglionnaire"),
                        _t("endocrine", "adjuvant", "létrozole"),
                        when={"HER2": "positive", "HR": "positive"},
                    ),
                    _plan(
                        "breast-la-tn",
                        _t("chemotherapy", "neoadjuvant", "carboplatine-paclitaxel puis EC"),
                        _t("immunotherapy", "neoadjuvant", "pembrolizumab"),
                        _t("surgery", "curative", "mastectomie + curage axillaire"),
                        _t("radiotherapy", "adjuvant", "radiothérapie pariétale et ganglionnaire"),
                        when={"HR": "negative", "HER2": "negative"},
                    ),
                ],
                "IV": [
                    _plan(
                        "breast-met-hr",
                        _t("endocrine", "palliative", "létrozole", 1),
                        _t("targeted", "palliative", "palbociclib", 1),
                        when={"HR": "positive", "HER2": "negative"},
                    ),
                    _plan(
                        "breast-met-her2",
                        _t("chemotherapy", "palliative", "docétaxel", 1),
                        _t("anti_her2", "palliative", "trastuzumab + pertuzumab", 1),
                        when={"HER2": "positive", "HR": "negative"},
                    ),
                    _plan(
                        "breast-met-hr-her2",
                        _t("chemotherapy", "palliative", "docétaxel", 1),
                        _t("anti_her2", "palliative", "trastuzumab + pertuzumab", 1),
                        _t("endocrine", "palliative", "létrozole", 1),
                        when={"HER2": "positive", "HR": "positive"},
                    ),
                    _plan(
                        "breast-met-tn",
                        _t("chemotherapy", "palliative", "paclitaxel", 1),
                        _t("immunotherapy", "palliative", "pembrolizumab", 1),
                        when={"HR": "negative", "HER2": "negative"},
                    ),
                ],
            }
        },
    },
    "prostate": {
        "labels": {"fr": "prostate", "en": "prostate"},
        "histologies": {
            "acinar_adenocarcinoma": {
                "group": "prostate",
                "fr": "adénocarcinome acinaire",
                "en": "acinar adenocarcinoma",
            },
        },
        "biomarkers": {},
        "metastatic_sites": ("bone", "lymph_nodes"),
        "tnm": {
            "I": ("T1cN0M0", "T2aN0M0"),
            "II": ("T2bN0M0", "T2cN0M0"),
            "III": ("T3aN0M0", "T3bN0M0"),
            "IV": ("T3bN1M1b", "T2cN0M1b"),
        },
        "plans": {
            "prostate": {
                "I": [
                    _plan(
                        "prostate-surveillance",
                        _t(
                            "active_surveillance",
                            "curative",
                            "surveillance active (PSA, IRM, biopsies)",
                        ),
                    ),
                    _plan(
                        "prostate-rp",
                        _t("surgery", "curative", "prostatectomie totale robot-assistée"),
                    ),
                    _plan(
                        "prostate-rt",
                        _t("radiotherapy", "curative", "radiothérapie externe prostatique"),
                    ),
                ],
                "II": [
                    _plan(
                        "prostate-rp",
                        _t("surgery", "curative", "prostatectomie totale robot-assistée"),
                    ),
                    _plan(
                        "prostate-rt-adt",
                        _t("radiotherapy", "curative", "radiothérapie externe prostatique"),
                        _t("endocrine", "adjuvant", "agoniste de la LH-RH 6 mois"),
                    ),
                ],
                "III": [
                    _plan(
                        "prostate-rt-adt-long",
                        _t("radiotherapy", "curative", "radiothérapie externe prostatique"),
                        _t("endocrine", "adjuvant", "agoniste de la LH-RH 24 mois"),
                    ),
                    _plan(
                        "prostate-rp-la",
                        _t("surgery", "curative", "prostatectomie totale + curage ganglionnaire"),
                    ),
                ],
                "IV": [
                    _plan(
                        "prostate-met-arpi",
                        _t("endocrine", "palliative", "agoniste de la LH-RH + enzalutamide", 1),
                    ),
                    _plan(
                        "prostate-met-triplet",
                        _t("endocrine", "palliative", "agoniste de la LH-RH + darolutamide", 1),
                        _t("chemotherapy", "palliative", "docétaxel", 1),
                    ),
                ],
            }
        },
    },
    "lung": {
        "labels": {"fr": "poumon", "en": "lung"},
        "histologies": {
            "adenocarcinoma": {"group": "nsclc", "fr": "adénocarcinome", "en": "adenocarcinoma"},
            "squamous": {
                "group": "nsclc",
                "fr": "carcinome épidermoïde",
                "en": "squamous cell carcinoma",
            },
            "small_cell": {
                "group": "sclc",
                "fr": "carcinome à petites cellules",
                "en": "small cell carcinoma",
            },
        },
        "biomarkers": {
            "EGFR": ("mutated", "wild-type"),
            "ALK": ("rearranged", "not rearranged"),
            "PD-L1": ("≥50%", "1-49%", "<1%"),
        },
        "metastatic_sites": ("bone", "brain", "liver", "adrenal", "contralateral_lung"),
        "tnm": {
            "I": ("T1bN0M0", "T2aN0M0"),
            "II": ("T2bN0M0", "T1cN1M0", "T3N0M0"),
            "III": ("T2aN2M0", "T3N2M0", "T4N1M0"),
            "IV": ("T2aN2M1c", "T4N3M1b", "T3N1M1a"),
        },
        "plans": {
            "nsclc": {
                "I": [
                    _plan(
                        "nsclc-lobectomy",
                        _t("surgery", "curative", "lobectomie + curage ganglionnaire"),
                    ),
                    _plan(
                        "nsclc-sbrt",
                        _t("radiotherapy", "curative", "radiothérapie stéréotaxique (SBRT)"),
                    ),
                ],
                "II": [
                    _plan(
                        "nsclc-lobectomy-adjuvant",
                        _t("surgery", "curative", "lobectomie + curage ganglionnaire"),
                        _t("chemotherapy", "adjuvant", "cisplatine-vinorelbine"),
                    ),
                ],
                "III": [
                    _plan(
                        "nsclc-crt-durvalumab",
                        _t(
                            "chemoradiation",
                            "curative",
                            "cisplatine-étoposide + radiothérapie thoracique 66 Gy",
                        ),
                        _t("immunotherapy", "consolidation", "durvalumab"),
                    ),
                ],
                "IV": [
                    _plan(
                        "nsclc-egfr",
                        _t("targeted", "palliative", "osimertinib", 1),
                        when={"EGFR": "mutated"},
                    ),
                    _plan(
                        "nsclc-alk",
                        _t("targeted", "palliative", "alectinib", 1),
                        when={"ALK": "rearranged"},
                    ),
                    _plan(
                        "nsclc-pdl1-high",
                        _t("immunotherapy", "palliative", "pembrolizumab", 1),
                        when={"EGFR": NO_EGFR, "ALK": NO_ALK, "PD-L1": "≥50%"},
                    ),
                    _plan(
                        "nsclc-chemo-io",
                        _t("chemotherapy", "palliative", "carboplatine-pémétrexed", 1),
                        _t("immunotherapy", "palliative", "pembrolizumab", 1),
                        when={"EGFR": NO_EGFR, "ALK": NO_ALK},
                    ),
                ],
            },
            "sclc": {
                "I": [
                    _plan(
                        "sclc-limited",
                        _t(
                            "chemoradiation",
                            "curative",
                            "cisplatine-étoposide + radiothérapie thoracique",
                        ),
                    )
                ],
                "II": "I",
                "III": "I",
                "IV": [
                    _plan(
                        "sclc-extensive",
                        _t("chemotherapy", "palliative", "carboplatine-étoposide", 1),
                        _t("immunotherapy", "palliative", "atézolizumab", 1),
                    )
                ],
            },
        },
    },
    "colorectal": {
        "labels": {"fr": "côlon-rectum", "en": "colorectum"},
        "histologies": {
            "colon_adenocarcinoma": {
                "group": "colon",
                "fr": "adénocarcinome du côlon",
                "en": "colon adenocarcinoma",
            },
            "rectal_adenocarcinoma": {
                "group": "rectum",
                "fr": "adénocarcinome du rectum",
                "en": "rectal adenocarcinoma",
            },
        },
        "biomarkers": {"RAS": ("mutated", "wild-type"), "MSI": ("MSI-H", "MSS")},
        "metastatic_sites": ("liver", "lung", "peritoneum"),
        "tnm": {
            "I": ("T1N0M0", "T2N0M0"),
            "II": ("T3N0M0", "T4aN0M0"),
            "III": ("T3N1bM0", "T4aN2aM0", "T2N1aM0"),
            "IV": ("T3N1M1a", "T4aN2M1b"),
        },
        "plans": {
            "colon": {
                "I": [
                    _plan(
                        "colon-surgery",
                        _t("surgery", "curative", "colectomie + curage ganglionnaire"),
                    )
                ],
                "II": [
                    _plan(
                        "colon-surgery",
                        _t("surgery", "curative", "colectomie + curage ganglionnaire"),
                    )
                ],
                "III": [
                    _plan(
                        "colon-folfox",
                        _t("surgery", "curative", "colectomie + curage ganglionnaire"),
                        _t("chemotherapy", "adjuvant", "FOLFOX"),
                    ),
                    _plan(
                        "colon-capox",
                        _t("surgery", "curative", "colectomie + curage ganglionnaire"),
                        _t("chemotherapy", "adjuvant", "CAPOX"),
                    ),
                ],
                "IV": [
                    _plan(
                        "crc-folfox-bev",
                        _t("chemotherapy", "palliative", "FOLFOX", 1),
                        _t("targeted", "palliative", "bévacizumab", 1),
                        when={"MSI": "MSS"},
                    ),
                    _plan(
                        "crc-folfiri-cetux",
                        _t("chemotherapy", "palliative", "FOLFIRI", 1),
                        _t("targeted", "palliative", "cétuximab", 1),
                        when={"RAS": "wild-type", "MSI": "MSS"},
                    ),
                    _plan(
                        "crc-msi-io",
                        _t("immunotherapy", "palliative", "pembrolizumab", 1),
                        when={"MSI": "MSI-H"},
                    ),
                ],
            },
            "rectum": {
                "I": [
                    _plan("rectum-tme", _t("surgery", "curative", "exérèse totale du mésorectum"))
                ],
                "II": [
                    _plan(
                        "rectum-crt-tme",
                        _t("chemoradiation", "neoadjuvant", "capécitabine + radiothérapie 50 Gy"),
                        _t("surgery", "curative", "exérèse totale du mésorectum"),
                    )
                ],
                "III": [
                    _plan(
                        "rectum-tnt",
                        _t("chemotherapy", "neoadjuvant", "FOLFIRINOX"),
                        _t("chemoradiation", "neoadjuvant", "capécitabine + radiothérapie 50 Gy"),
                        _t("surgery", "curative", "exérèse totale du mésorectum"),
                    ),
                ],
                "IV": [],  # metastatic: the colon plans (set below)
            },
        },
    },
    "pancreas": {
        "labels": {"fr": "pancréas", "en": "pancreas"},
        "histologies": {
            "ductal_adenocarcinoma": {
                "group": "pancreas",
                "fr": "adénocarcinome canalaire",
                "en": "ductal adenocarcinoma",
            }
        },
        "biomarkers": {},
        "metastatic_sites": ("liver", "peritoneum", "lung"),
        "tnm": {
            "I": ("T1N0M0", "T2N0M0"),
            "II": ("T3N0M0", "T2N1M0"),
            "III": ("T4N0M0", "T4N1M0"),
            "IV": ("T3N1M1", "T4N1M1"),
        },
        "plans": {
            "pancreas": {
                "I": [
                    _plan(
                        "pancreas-resection",
                        _t("surgery", "curative", "duodénopancréatectomie céphalique"),
                        _t("chemotherapy", "adjuvant", "mFOLFIRINOX"),
                    )
                ],
                "II": "I",
                "III": [_plan("pancreas-la", _t("chemotherapy", "palliative", "FOLFIRINOX", 1))],
                "IV": [
                    _plan(
                        "pancreas-met-folfirinox", _t("chemotherapy", "palliative", "FOLFIRINOX", 1)
                    ),
                    _plan(
                        "pancreas-met-gem",
                        _t("chemotherapy", "palliative", "gemcitabine + nab-paclitaxel", 1),
                    ),
                ],
            }
        },
    },
    "bladder": {
        "labels": {"fr": "vessie", "en": "bladder"},
        "histologies": {
            "urothelial": {
                "group": "bladder",
                "fr": "carcinome urothélial",
                "en": "urothelial carcinoma",
            }
        },
        "biomarkers": {},
        "metastatic_sites": ("lymph_nodes", "bone", "lung", "liver"),
        "tnm": {
            "I": ("T1N0M0",),
            "II": ("T2aN0M0", "T2bN0M0"),
            "III": ("T3aN0M0", "T3bN1M0"),
            "IV": ("T3N2M1a", "T4aN1M1b"),
        },
        "plans": {
            "bladder": {
                "I": [
                    _plan(
                        "bladder-nmibc",
                        _t("surgery", "curative", "résection transurétrale de vessie"),
                        _t("intravesical", "adjuvant", "BCG-thérapie endovésicale"),
                    )
                ],
                "II": [
                    _plan(
                        "bladder-mibc",
                        _t("chemotherapy", "neoadjuvant", "dd-MVAC"),
                        _t("surgery", "curative", "cystoprostatectomie / cystectomie totale"),
                    )
                ],
                "III": "II",
                "IV": [
                    _plan(
                        "bladder-met",
                        _t("targeted", "palliative", "enfortumab védotine", 1),
                        _t("immunotherapy", "palliative", "pembrolizumab", 1),
                    )
                ],
            }
        },
    },
    "kidney": {
        "labels": {"fr": "rein", "en": "kidney"},
        "histologies": {
            "clear_cell": {
                "group": "kidney",
                "fr": "carcinome rénal à cellules claires",
                "en": "clear cell renal cell carcinoma",
            }
        },
        "biomarkers": {},
        "metastatic_sites": ("lung", "bone", "adrenal"),
        "tnm": {
            "I": ("T1aN0M0", "T1bN0M0"),
            "II": ("T2aN0M0",),
            "III": ("T3aN0M0", "T3aN1M0"),
            "IV": ("T3aN0M1", "T4N1M1"),
        },
        "plans": {
            "kidney": {
                "I": [_plan("kidney-partial", _t("surgery", "curative", "néphrectomie partielle"))],
                "II": [
                    _plan(
                        "kidney-radical", _t("surgery", "curative", "néphrectomie totale élargie")
                    )
                ],
                "III": [
                    _plan(
                        "kidney-radical-adj",
                        _t("surgery", "curative", "néphrectomie totale élargie"),
                        _t("immunotherapy", "adjuvant", "pembrolizumab"),
                    )
                ],
                "IV": [
                    _plan(
                        "kidney-io-tki",
                        _t("immunotherapy", "palliative", "pembrolizumab", 1),
                        _t("targeted", "palliative", "axitinib", 1),
                    ),
                    _plan(
                        "kidney-io-io",
                        _t("immunotherapy", "palliative", "nivolumab + ipilimumab", 1),
                    ),
                ],
            }
        },
    },
    "melanoma": {
        "labels": {"fr": "mélanome cutané", "en": "cutaneous melanoma"},
        "histologies": {
            "superficial_spreading": {
                "group": "melanoma",
                "fr": "mélanome superficiel extensif",
                "en": "superficial spreading melanoma",
            },
            "nodular": {"group": "melanoma", "fr": "mélanome nodulaire", "en": "nodular melanoma"},
        },
        "biomarkers": {"BRAF": ("V600E mutated", "wild-type")},
        "metastatic_sites": ("lung", "liver", "brain", "skin"),
        "tnm": {
            "I": ("T1bN0M0", "T2aN0M0"),
            "II": ("T3bN0M0", "T4aN0M0"),
            "III": ("T2bN1aM0", "T3bN2bM0"),
            "IV": ("T3bN1M1c", "T4bN2M1d"),
        },
        "plans": {
            "melanoma": {
                "I": [
                    _plan(
                        "melanoma-excision",
                        _t("surgery", "curative", "reprise d'exérèse avec marges"),
                    )
                ],
                "II": [
                    _plan(
                        "melanoma-excision-sn",
                        _t("surgery", "curative", "reprise d'exérèse + ganglion sentinelle"),
                    )
                ],
                "III": [
                    _plan(
                        "melanoma-adj-pd1",
                        _t("surgery", "curative", "reprise d'exérèse + curage"),
                        _t("immunotherapy", "adjuvant", "nivolumab"),
                    ),
                    _plan(
                        "melanoma-adj-braf",
                        _t("surgery", "curative", "reprise d'exérèse + curage"),
                        _t("targeted", "adjuvant", "dabrafénib + tramétinib"),
                        when={"BRAF": "V600E mutated"},
                    ),
                ],
                "IV": [
                    _plan(
                        "melanoma-met-io",
                        _t("immunotherapy", "palliative", "nivolumab + ipilimumab", 1),
                    ),
                    _plan(
                        "melanoma-met-braf",
                        _t("targeted", "palliative", "encorafénib + binimétinib", 1),
                        when={"BRAF": "V600E mutated"},
                    ),
                ],
            }
        },
    },
    "head_and_neck": {
        "labels": {"fr": "voies aérodigestives supérieures", "en": "head and neck"},
        "histologies": {
            "squamous": {
                "group": "hnscc",
                "fr": "carcinome épidermoïde",
                "en": "squamous cell carcinoma",
            }
        },
        "biomarkers": {},
        "metastatic_sites": ("lung", "bone", "liver"),
        "tnm": {
            "I": ("T1N0M0",),
            "II": ("T2N0M0",),
            "III": ("T3N1M0", "T4aN2bM0"),
            "IV": ("T4aN2cM1", "T3N2M1"),
        },
        "plans": {
            "hnscc": {
                "I": [
                    _plan(
                        "hn-surgery",
                        _t("surgery", "curative", "exérèse tumorale + évidement ganglionnaire"),
                    ),
                    _plan("hn-rt", _t("radiotherapy", "curative", "radiothérapie exclusive 70 Gy")),
                ],
                "II": "I",
                "III": [
                    _plan(
                        "hn-crt",
                        _t("chemoradiation", "curative", "cisplatine + radiothérapie 70 Gy"),
                    ),
                    _plan(
                        "hn-surgery-crt",
                        _t("surgery", "curative", "exérèse tumorale + évidement ganglionnaire"),
                        _t("chemoradiation", "adjuvant", "cisplatine + radiothérapie 66 Gy"),
                    ),
                ],
                "IV": [
                    _plan(
                        "hn-met",
                        _t("chemotherapy", "palliative", "carboplatine + 5-FU", 1),
                        _t("immunotherapy", "palliative", "pembrolizumab", 1),
                    )
                ],
            }
        },
    },
    "liver": {
        "labels": {"fr": "foie", "en": "liver"},
        "histologies": {
            "hepatocellular": {
                "group": "hcc",
                "fr": "carcinome hépatocellulaire",
                "en": "hepatocellular carcinoma",
            }
        },
        "biomarkers": {},
        "metastatic_sites": ("lung", "bone", "adrenal"),
        "tnm": {
            "I": ("T1bN0M0",),
            "II": ("T2N0M0",),
            "III": ("T3N0M0", "T4N0M0"),
            "IV": ("T3N1M0", "T2N0M1"),
        },
        "plans": {
            "hcc": {
                "I": [
                    _plan("hcc-resection", _t("surgery", "curative", "hépatectomie partielle")),
                    _plan(
                        "hcc-ablation",
                        _t("local_ablation", "curative", "radiofréquence percutanée"),
                    ),
                ],
                "II": [
                    _plan(
                        "hcc-tace",
                        _t("local_ablation", "palliative", "chimioembolisation intra-artérielle"),
                    )
                ],
                "III": "II",
                "IV": [
                    _plan(
                        "hcc-atezo-bev",
                        _t("immunotherapy", "palliative", "atézolizumab", 1),
                        _t("targeted", "palliative", "bévacizumab", 1),
                    )
                ],
            }
        },
    },
    "stomach": {
        "labels": {"fr": "estomac", "en": "stomach"},
        "histologies": {
            "gastric_adenocarcinoma": {
                "group": "stomach",
                "fr": "adénocarcinome gastrique",
                "en": "gastric adenocarcinoma",
            }
        },
        "biomarkers": {},
        "metastatic_sites": ("liver", "peritoneum", "lymph_nodes"),
        "tnm": {
            "I": ("T1bN0M0",),
            "II": ("T2N1M0", "T3N0M0"),
            "III": ("T3N2M0", "T4aN1M0"),
            "IV": ("T4aN2M1",),
        },
        "plans": {
            "stomach": {
                "I": [
                    _plan("stomach-surgery", _t("surgery", "curative", "gastrectomie + curage D2"))
                ],
                "II": [
                    _plan(
                        "stomach-flot",
                        _t("chemotherapy", "neoadjuvant", "FLOT"),
                        _t("surgery", "curative", "gastrectomie + curage D2"),
                        _t("chemotherapy", "adjuvant", "FLOT"),
                    )
                ],
                "III": "II",
                "IV": [
                    _plan(
                        "stomach-met",
                        _t("chemotherapy", "palliative", "FOLFOX", 1),
                        _t("immunotherapy", "palliative", "nivolumab", 1),
                    )
                ],
            }
        },
    },
}

# Metastatic rectal cancer is treated like metastatic colon cancer.
SITES["colorectal"]["plans"]["rectum"]["IV"] = SITES["colorectal"]["plans"]["colon"]["IV"]

METASTATIC_SITE_LABELS = {
    "bone": {"fr": "osseuses", "en": "bone"},
    "liver": {"fr": "hépatiques", "en": "liver"},
    "lung": {"fr": "pulmonaires", "en": "lung"},
    "brain": {"fr": "cérébrales", "en": "brain"},
    "adrenal": {"fr": "surrénaliennes", "en": "adrenal"},
    "contralateral_lung": {"fr": "pulmonaires controlatérales", "en": "contralateral lung"},
    "peritoneum": {"fr": "péritonéales", "en": "peritoneal"},
    "lymph_nodes": {"fr": "ganglionnaires à distance", "en": "distant lymph node"},
    "skin": {"fr": "cutanées", "en": "skin"},
}


def _resolve(table: dict[str, Any], key: str) -> Any:
    """Follow string aliases ("II": "I" means stage II uses stage I's plans)."""
    value = table[key]
    if value == key:
        raise ValueError(f"{key!r} refers to itself")
    seen = {key}
    while isinstance(value, str):
        if value in seen:
            raise ValueError(f"Alias loop at {key!r}")
        seen.add(value)
        value = table[value]
    return value


def _value_ok(actual: str | None, expected: Any) -> bool:
    if isinstance(expected, tuple | list):
        return actual in expected
    return actual == expected


def histology_group(site: str, histology: str) -> str:
    return SITES[site]["histologies"][histology]["group"]


def plans_for(site: str, histology: str, stage: str) -> list[dict[str, Any]]:
    plans = SITES[site]["plans"]
    group = histology_group(site, histology)
    by_stage = _resolve(plans, group)
    return list(_resolve(by_stage, stage))


def plan_options(
    *, site: str, histology: str, stage: str, biomarkers: dict[str, str]
) -> list[dict[str, Any]]:
    """The plans whose biomarker conditions all hold for this patient."""
    return [
        plan
        for plan in plans_for(site, histology, stage)
        if all(_value_ok(biomarkers.get(name), value) for name, value in plan["when"].items())
    ]


# --- independent constraints ----------------------------------------------------------

# A rule applies when all of `when` holds: site, group (histology group), stage (list),
# biomarkers ({name: value}). Then every `require` spec must match at least one treatment,
# no `forbid` spec may match any, and `require_line1` must match a first-line treatment.
RULES: list[dict[str, Any]] = [
    {
        "id": "no-curative-surgery-metastatic",
        "when": {"stage": ["IV"]},
        "forbid": [{"modality": ["surgery"], "intent": ["curative", "adjuvant", "neoadjuvant"]}],
        "text": "No curative surgery at stage IV.",
    },
    {
        "id": "metastatic-systemic-therapy",
        "when": {"stage": ["IV"]},
        "require": [{"modality": list(SYSTEMIC)}],
        "text": "Stage IV disease receives systemic therapy.",
    },
    {
        "id": "nsclc-iv-driver-targeted",
        "when": {
            "group": "nsclc",
            "stage": ["IV"],
            "biomarkers_any": {"EGFR": "mutated", "ALK": "rearranged"},
        },
        "require_line1": [{"modality": ["targeted"]}],
        "text": "Stage IV NSCLC with a driver alteration: targeted therapy first.",
    },
    {
        "id": "nsclc-targeted-needs-driver",
        "when": {"group": "nsclc", "biomarkers": {"EGFR": NO_EGFR, "ALK": NO_ALK}},
        "forbid": [{"modality": ["targeted"]}],
        "text": "No EGFR/ALK inhibitor without a driver alteration.",
    },
    {
        "id": "nsclc-iii-chemoradiation",
        "when": {"group": "nsclc", "stage": ["III"]},
        "require": [{"modality": ["chemoradiation"]}],
        "text": "Stage III NSCLC: concurrent chemoradiation (then durvalumab).",
    },
    {
        "id": "sclc-no-surgery",
        "when": {"group": "sclc", "stage": ["II", "III", "IV"]},
        "forbid": [{"modality": ["surgery"]}],
        "text": "No surgery for small cell lung cancer beyond stage I.",
    },
    {
        "id": "colon-iii-adjuvant",
        "when": {"group": "colon", "stage": ["III"]},
        "require": [
            {"modality": ["surgery"]},
            {"modality": ["chemotherapy"], "intent": ["adjuvant"], "regimen": ["FOLFOX", "CAPOX"]},
        ],
        "text": "Stage III colon: surgery then adjuvant FOLFOX/CAPOX.",
    },
    {
        "id": "colon-i-no-adjuvant",
        "when": {"group": "colon", "stage": ["I"]},
        "forbid": [{"modality": ["chemotherapy"], "intent": ["adjuvant"]}],
        "text": "No adjuvant chemotherapy for stage I colon cancer.",
    },
    {
        "id": "crc-anti-egfr-ras-wild-type",
        "when": {"site": "colorectal", "biomarkers": {"RAS": "mutated"}},
        "forbid": [{"regimen": ["cétuximab", "panitumumab", "cetuximab"]}],
        "text": "Anti-EGFR antibodies only for RAS wild-type tumours.",
    },
    {
        "id": "rectum-neoadjuvant",
        "when": {"group": "rectum", "stage": ["II", "III"]},
        "require": [{"modality": ["chemoradiation", "chemotherapy"], "intent": ["neoadjuvant"]}],
        "text": "Locally advanced rectal cancer: neoadjuvant (chemo)radiation or TNT.",
    },
    {
        "id": "breast-hr-endocrine",
        "when": {"site": "breast", "biomarkers": {"HR": "positive"}},
        "require": [{"modality": ["endocrine"]}],
        "text": "HR+ breast cancer receives endocrine therapy.",
    },
    {
        "id": "breast-hr-negative-no-endocrine",
        "when": {"site": "breast", "biomarkers": {"HR": "negative"}},
        "forbid": [{"modality": ["endocrine"]}],
        "text": "No endocrine therapy for HR- breast cancer.",
    },
    {
        "id": "breast-her2-anti-her2",
        "when": {"site": "breast", "biomarkers": {"HER2": "positive"}},
        "require": [{"modality": ["anti_her2"]}],
        "text": "HER2+ breast cancer receives anti-HER2 therapy.",
    },
    {
        "id": "breast-her2-negative-no-anti-her2",
        "when": {"site": "breast", "biomarkers": {"HER2": "negative"}},
        "forbid": [{"modality": ["anti_her2"]}],
        "text": "No anti-HER2 therapy for HER2- breast cancer.",
    },
    {
        "id": "prostate-iv-adt",
        "when": {"site": "prostate", "stage": ["IV"]},
        "require": [{"modality": ["endocrine"]}],
        "text": "Metastatic prostate cancer: androgen deprivation.",
    },
    {
        "id": "melanoma-braf-inhibitor-needs-mutation",
        "when": {"site": "melanoma", "biomarkers": {"BRAF": "wild-type"}},
        "forbid": [{"modality": ["targeted"]}],
        "text": "BRAF/MEK inhibitors only for BRAF V600-mutated melanoma.",
    },
    {
        "id": "pancreas-unresectable-no-surgery",
        "when": {"site": "pancreas", "stage": ["III", "IV"]},
        "forbid": [{"modality": ["surgery"]}],
        "text": "No upfront surgery for unresectable pancreatic cancer.",
    },
    {
        "id": "no-active-surveillance-advanced",
        "when": {"stage": ["III", "IV"]},
        "forbid": [{"modality": ["active_surveillance"]}],
        "text": "No active surveillance for advanced disease.",
    },
]


def _spec_matches(spec: dict[str, Any], treatment: dict[str, Any]) -> bool:
    if "modality" in spec and treatment.get("modality") not in spec["modality"]:
        return False
    if "intent" in spec and treatment.get("intent") not in spec["intent"]:
        return False
    if "regimen" in spec:
        regimen = str(treatment.get("regimen") or "").lower()
        if not any(name.lower() in regimen for name in spec["regimen"]):
            return False
    return True


def _rule_applies(when: dict[str, Any], *, site, group, stage, biomarkers) -> bool:
    if "site" in when and when["site"] != site:
        return False
    if "group" in when and when["group"] != group:
        return False
    if "stage" in when and stage not in when["stage"]:
        return False
    if "biomarkers" in when and not all(
        _value_ok(biomarkers.get(k), v) for k, v in when["biomarkers"].items()
    ):
        return False
    return not (
        "biomarkers_any" in when
        and not any(biomarkers.get(k) == v for k, v in when["biomarkers_any"].items())
    )


def guideline_violations(
    *,
    site: str,
    histology: str,
    stage: str,
    biomarkers: dict[str, str],
    treatments: list[dict[str, Any]],
    check_requirements: bool = True,
) -> list[dict[str, str]]:
    """Rules broken by these treatments: [{"rule": id, "text": why}], empty when none.

    `check_requirements=False` checks prohibitions only: an LLM report may rightly omit
    part of the strategy (e.g. adjuvant therapy still to be decided), but must not add a
    forbidden treatment.
    """
    group = histology_group(site, histology) if histology in SITES[site]["histologies"] else ""
    broken = []
    for rule in RULES:
        if not _rule_applies(
            rule["when"], site=site, group=group, stage=stage, biomarkers=biomarkers
        ):
            continue
        ok = True
        for spec in rule.get("forbid", []):
            if any(_spec_matches(spec, t) for t in treatments):
                ok = False
        if check_requirements:
            for spec in rule.get("require", []):
                if not any(_spec_matches(spec, t) for t in treatments):
                    ok = False
            first_line = [t for t in treatments if t.get("line") == 1]
            for spec in rule.get("require_line1", []):
                if not any(_spec_matches(spec, t) for t in first_line):
                    ok = False
        if not ok:
            broken.append({"rule": rule["id"], "text": rule["text"]})
    return broken


def site_label(site: str, language: str) -> str:
    return SITES[site]["labels"][language]


def histology_label(site: str, histology: str, language: str) -> str:
    return SITES[site]["histologies"][histology][language]
