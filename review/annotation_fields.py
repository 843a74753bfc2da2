"""The annotation vocabulary: which minimal-dataset items an annotation may name, and the
colour each one is shown in.

Written once, here, because review reads what generation writes: generation's output
schemas (`generation/output.py`) import these literals, and the report viewer, the audit
study and the dataset exports read the same names. review never imports generation
(import-linter contract), so the vocabulary lives on this side of the dependency.
"""

from __future__ import annotations

import zlib
from typing import Literal, get_args

# Schema 1 (one-pass prompts): a version-1 prompt still renders and asks for exactly these.
AnnotationField = Literal[
    "patient_name",
    "age",
    "sex",
    "admission_date",
    "discharge_date",
    "hospital",
    "department",
    "physician",
    "reason",
    "primary_site",
    "histology",
    "stage",
    "tnm",
    "biomarker",
    "metastatic_site",
    "ecog",
    "comorbidity",
    "smoking",
    "treatment",
]

# Schema 2 (two-pass prompts): what the open dataset needs and schema 1 lacked.
ExtractionField = Literal[
    "patient_name",
    "age",
    "sex",
    "admission_date",
    "discharge_date",
    "diagnosis_date",
    "hospital",
    "department",
    "physician",
    "reason",
    "primary_site",
    "histology",
    "grade",
    "stage",
    "tnm",
    "biomarker",
    "metastatic_site",
    "ecog",
    "weight",
    "lab",
    "comorbidity",
    "smoking",
    "alcohol",
    "treatment",
    "toxicity",
    "disease_status",
    "discharge_treatment",
]

SCHEMA_1_FIELDS: tuple[str, ...] = get_args(AnnotationField)
EXTRACTION_FIELDS: tuple[str, ...] = get_args(ExtractionField)

# Colour order: schema 1's fields keep the palette index they always had (a coordinator
# who learnt "tnm is index 12" is not surprised), schema 2's additions follow.
KNOWN_FIELDS: tuple[str, ...] = SCHEMA_1_FIELDS + tuple(
    field for field in EXTRACTION_FIELDS if field not in SCHEMA_1_FIELDS
)
# static/css/app.css defines .ann-0 … .ann-26: one distinct colour per known field.
PALETTE_SIZE = len(KNOWN_FIELDS)
_COLOUR = {field: index for index, field in enumerate(KNOWN_FIELDS)}


def field_colour(field: str) -> int:
    """The palette index of a field: fixed for every known field (no two share one);
    a field outside the vocabulary (an imported file's label) hashes into the palette."""
    known = _COLOUR.get(field)
    if known is not None:
        return known
    return zlib.crc32(field.encode()) % PALETTE_SIZE
