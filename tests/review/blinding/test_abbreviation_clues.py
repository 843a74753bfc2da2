"""abbreviation_forms skips the texts that cannot hold a pair's spelled-out form (issue 21:
opening a study of 2,000 reports spent two seconds in these scans). The skip must change
nothing: the counts equal those of every pattern run over every text."""

import re
import string
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from review.conventions.abbreviations import (
    LONG,
    PAIRS_FR,
    SHORT,
    _casefolded,
    _long_clue,
    _patterns,
    abbreviation_forms,
)


def _counts_without_clues(texts):
    counts = Counter()
    for short, long in PAIRS_FR:
        short_pattern, long_pattern = _patterns(short, long)
        for text in texts:
            counts[(short, SHORT)] += len(short_pattern.findall(text))
            counts[(short, LONG)] += len(long_pattern.findall(text))
    return counts


def _forms(counts):
    forms = {}
    for short, _long in PAIRS_FR:
        n_short, n_long = counts[(short, SHORT)], counts[(short, LONG)]
        if n_short or n_long:
            forms[short] = SHORT if n_short >= n_long else LONG
    return forms


def test_the_clues():
    assert _long_clue("hémoglobine") == "moglobine"
    assert _long_clue("altération de l'état général") == "ration"
    assert _long_clue("tomographie par émission de positons") == "tomographie"


def test_no_character_matched_case_insensitively_escapes_the_clue():
    # Every character Python's re.IGNORECASE takes for an ASCII letter keeps that letter
    # once case-folded by _casefolded ("K" Kelvin, "ſ", "ı", "İ").
    escaped = [
        (hex(code), letter)
        for code in range(0x80, 0x110000)
        for letter in string.ascii_lowercase
        if re.fullmatch(letter, chr(code), re.IGNORECASE) and letter not in _casefolded(chr(code))
    ]
    assert escaped == []


TEXTS = [
    "Hb 11,3 g/dL. HTA traitée. Hémoglobine 10,2 ; HEMOGLOBINE stable.",
    "Antécédents : hypertension  artérielle, embolie pulmonaire (EP) en 2019.",
    "Altération de l’état général ; AEG. TEP-TDM et TDM thoraco-abdominale.",
    "Hypertensıon artérielle (dotless i), tomographİe par émission de positons.",
    "Pas d'HTA. PNN 0,4 G/L : polynucléaires neutrophiles bas. RCP du 3/4.",
    "",
]


def test_forms_equal_those_of_every_pattern_over_every_text():
    counts = _counts_without_clues(TEXTS)
    assert counts[("Hb", SHORT)] == 1
    assert counts[("Hb", LONG)] == 2
    assert counts[("HTA", LONG)] == 2
    assert counts[("TEP-TDM", LONG)] == 1
    assert abbreviation_forms(TEXTS) == _forms(counts)


WORDS = sorted({w for _short, long in PAIRS_FR for w in long.split()} | {s for s, _ in PAIRS_FR})


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.sampled_from(WORDS),
                st.sampled_from(WORDS).map(str.upper),
                st.text(alphabet="aeiouéèıİſK -'’\n", max_size=6),
            ),
            max_size=12,
        ).map(" ".join),
        max_size=6,
    )
)
def test_forms_equal_on_generated_texts(texts):
    assert abbreviation_forms(texts) == _forms(_counts_without_clues(texts))
