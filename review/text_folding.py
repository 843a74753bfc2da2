"""Accent- and case-folding for the demo's SQLite search fallback, the counterpart of
PostgreSQL's unaccent + lower (review.selectors.report_list): "Pémétrexed" → "pemetrexed",
"œdème" → "oedeme". SQLite gets it as the SQL function review_fold (review.signals)."""

import unicodedata

# Letters that NFKD does not decompose into a base letter plus accents (unaccent.rules
# has them too).
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o"})


def fold(text: str | None) -> str:
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
