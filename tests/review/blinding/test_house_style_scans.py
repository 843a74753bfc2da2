"""The house style's shortcuts show every report as the plain scans did (issue 21's speed-up).

Each shortcut is held to the rule it replaces: `sub_at` and `_written_dates_sub` to the
pattern's own `sub`, `_spaces_single` to `_SPACES.sub`, the a-z count to the capitals test,
the Markdown marks to their patterns, the look-aheads to the patterns without them; over
the shipped exports and over generated texts full of dates, numbers, titles and marks.
"""

import re
import sys
from contextlib import ExitStack
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.blinding import house_style, presentation
from review.blinding.house_style import (
    _BORN_UNACCENTED,
    _BOTH_CAPITALISED,
    _EN_WRITTEN,
    _FR_MONTH_YEAR,
    _FR_WRITTEN,
    _SURNAME_FIRST,
    _WRITTEN_LEAD,
    capitals_to_sentence_case,
    line_house_style,
)
from review.blinding.presentation import report_blocks
from review.conventions import NO_CONVENTIONS
from tests.export_texts import shipped_export_texts

_FRAGMENTS = [
    *("12/03/2022", "3/4/21", "1-22-43", "22.05.23", "2021-03-05", "03/2021", "1/2/3/2020"),
    *("12/03/2022/", "٣/٤/٢٠٢١", "0001-01-02", "31/02/2020", "12.5", "3,25", "1,000,000"),
    *("1.2.3", "0,5 mg", "37.8 °C", "pT2/2019", "x1.5", "2.", ",5"),
    *("1er mars 2021", "lundi 3 mars 2021", "Mercredi  14   FEVRIER\n2022", "31 décembre 1999"),
    *("mars 2021", "SEPTEMBRE 2020", "aout\u00a02019", "mars 20215", "mars 2021a", "juin 20٢١"),
    *("March 5, 2021", "september 30th,  2020", "5th June 2021", "2 May\n2019", "May 2019"),
    *("dimanche 1er janvier 2023", "vendredi\t12 mai 2000", "x1 mars 2020", " 2020", "1919"),
    *("Madame DUPONT Marie", "Madame Marie Dupont", "Dr Jean Martin", "M. MARTIN Jean"),
    *("Pr Durand Claire", "Mme Claire", "Mrs Smith Emma", "ne le 03/02/1951", "nee le 4"),
    *("NEE LE 05", "Ne le 1", "né le 2", "PATIENTE ADMISE POUR CHIMIOTHERAPIE", "IRM ET TDM"),
    *("**Examen** clinique", "__gras__", "*italique*", "_x_", "`code`", "[lien](http://a)"),
    *("\u202f", "\u2007", "\t", "  ", "   ", "> citation", "\n", ". ", ", ", " ", ":", "-"),
    *("« cité »", '"quoted"', "\u2019", "“a”"),
]
_TEXTS = st.lists(
    st.one_of(
        st.sampled_from(_FRAGMENTS),
        st.text(alphabet="0123456789٣ \u00a0\n-/.,:erstmaiMARSjuneDP*_", max_size=10),
    ),
    max_size=50,
).map("".join)


def _plain_scans() -> ExitStack:
    """The house style as it was: every pattern scanned over the whole line."""
    stack = ExitStack()
    stack.enter_context(
        mock.patch.object(
            house_style, "sub_at", lambda pattern, f, text, starts: pattern.sub(f, text)
        )
    )
    stack.enter_context(
        mock.patch.object(
            house_style, "_written_dates_sub", lambda pattern, f, text: pattern.sub(f, text)
        )
    )
    stack.enter_context(mock.patch.object(house_style, "_plainly_not_capitals", lambda line: False))
    stack.enter_context(
        mock.patch.object(
            presentation, "_spaces_single", lambda line: presentation._SPACES.sub(" ", line)
        )
    )
    return stack


def _shown(text: str, language: str) -> tuple:
    blocks = report_blocks(text, language=language, conventions=NO_CONVENTIONS)
    return tuple((block.kind, block.text, tuple(block.items)) for block in blocks)


def _as_before(text: str, language: str) -> None:
    line = text.replace("\n", " ")
    fast = line_house_style(line, language=language)
    fast_blocks = _shown(text, language)
    with _plain_scans():
        assert line_house_style(line, language=language) == fast
        assert _shown(text, language) == fast_blocks
    assert capitals_to_sentence_case(line) == _capitals_before(line)


def _capitals_before(line: str) -> str:
    with mock.patch.object(house_style, "_plainly_not_capitals", lambda line: False):
        return capitals_to_sentence_case(line)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_exports_are_shown_as_before(language):
    texts = shipped_export_texts()
    assert len(texts) >= 8
    for text in [*texts, *_FRAGMENTS, " ".join(_FRAGMENTS)]:
        _as_before(text, language)


@settings(max_examples=500, deadline=None)
@given(_TEXTS, st.sampled_from(["fr", "en"]))
def test_any_text_is_shown_as_before(text, language):
    _as_before(text, language)


def test_the_shortcuts_change_what_they_must():
    # Not vacuous: each shortcut's pattern rewrites these (fast path and scan alike).
    assert line_house_style("Vu le lundi 3 mars 2021, T 37.8", language="fr") == (
        "Vu le 03/03/2021, T 37,8"
    )
    assert line_house_style("Seen March 5,  2021; 3,25 mg; 2021-03-05", language="en") == (
        "Seen 03/05/2021; 3.25 mg; 03/05/2021"
    )
    assert line_house_style("Revu en FEVRIER\n2022 et 3/2021", language="fr") == (
        "Revu en février 2022 et mars 2021"
    )
    assert capitals_to_sentence_case("PATIENTE ADMISE POUR CHIMIOTHERAPIE") == (
        "Patiente admise pour chimiotherapie"
    )
    assert _shown("**Examen** :  [vu](http://x)\u00a0ok", "fr") == (
        ("paragraph", "Examen : vu ok", ()),
    )


def test_a_written_date_fits_in_the_lead_searched_before_its_year():
    # _written_dates_sub searches from the last _WRITTEN_LEAD[pattern] characters other
    # than white space before each year: the longest match, less its white space and its
    # year, must fit.
    from re import _parser  # type: ignore[attr-defined]

    for pattern, lead in _WRITTEN_LEAD.items():
        without_space = pattern.pattern.replace(r"\s+", "").replace(r",?", ",")
        longest = _parser.parse(without_space, pattern.flags).getwidth()[1]
        assert longest - len("2021") <= lead, pattern.pattern
    assert set(_WRITTEN_LEAD) == {_FR_WRITTEN, _EN_WRITTEN, _FR_MONTH_YEAR}


def test_the_white_space_re_matches_is_what_isspace_says():
    # _years_after_space asks str.isspace where the patterns read \s.
    space = re.compile(r"\s")
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        assert bool(space.match(character)) == character.isspace(), hex(code)


@pytest.mark.parametrize("pattern", [_SURNAME_FIRST, _BOTH_CAPITALISED, _BORN_UNACCENTED])
def test_a_leading_look_ahead_changes_no_match(pattern):
    prefix = re.match(r"\(\?=\[[A-Za-z]+\]\)", pattern.pattern)
    assert prefix is not None
    plain = re.compile(pattern.pattern[prefix.end() :], pattern.flags)
    for text in [*shipped_export_texts(), " ".join(_FRAGMENTS)]:
        assert [m.span() for m in pattern.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ]


@pytest.mark.parametrize(
    ("marks", "pattern"),
    [
        (("](",), presentation._LINK),
        (("`",), presentation._CODE),
        (("*", "_"), presentation._BOLD),
        (("*", "_"), presentation._ITALIC),
        ((">",), presentation._QUOTE),
    ],
)
def test_each_markdown_pattern_needs_its_marks(marks, pattern):
    # _clean_lines runs a pattern only when one of its marks is in the line.
    for text in [*shipped_export_texts(), *_FRAGMENTS, " ".join(_FRAGMENTS)]:
        for line in text.split("\n"):
            if not any(mark in line for mark in marks):
                assert pattern.search(line) is None
