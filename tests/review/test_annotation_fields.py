"""One annotation vocabulary (review/annotation_fields.py), read by generation's schemas,
and one fixed colour per known field."""

import re
from pathlib import Path
from typing import get_args

from django.conf import settings

from generation import output
from review.annotation_fields import (
    EXTRACTION_FIELDS,
    KNOWN_FIELDS,
    PALETTE_SIZE,
    SCHEMA_1_FIELDS,
    field_colour,
)


def test_generation_schemas_use_reviews_vocabulary():
    assert get_args(output.OutputAnnotation.model_fields["field"].annotation) == SCHEMA_1_FIELDS
    assert (
        get_args(output.ExtractionAnnotation.model_fields["field"].annotation) == EXTRACTION_FIELDS
    )
    assert set(KNOWN_FIELDS) == set(EXTRACTION_FIELDS) | set(SCHEMA_1_FIELDS)


def test_every_known_field_has_its_own_colour_with_a_css_rule():
    colours = [field_colour(field) for field in KNOWN_FIELDS]
    assert len(set(colours)) == len(KNOWN_FIELDS) == PALETTE_SIZE == 27
    # Schema 1's fields keep the colours they always had; schema 2's follow.
    assert field_colour("patient_name") == 0 and field_colour("treatment") == 18
    assert [field_colour(f) for f in ("grade", "weight", "lab", "toxicity")] == [20, 21, 22, 24]
    css = (Path(settings.BASE_DIR) / "static/css/app.css").read_text()
    defined = {int(n) for n in re.findall(r"^\.ann-(\d+) \{", css, flags=re.MULTILINE)}
    assert defined == set(range(PALETTE_SIZE))
