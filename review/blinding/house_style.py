"""The house style every report is shown in, per language, whatever its source.

Hospital exports and the generator write the same facts in different typography: a decimal
point or comma, "22.05.23" or "14 mars 2022" or "14/03/2022", straight or typographic
apostrophes, "DUPONT Jean" or "Jean DUPONT". Any of these tells a reviewer the source at a
glance (a classifier on them alone separated the sources perfectly), so the normaliser
rewrites each line into one style:

- decimal separator: comma in French, point in English;
- full dates as dd/mm/yyyy in French, mm/dd/yyyy in English (as the surrogates write them);
  a month and year alone written out ("mars 2022");
- apostrophes straight; quotations in guillemets « … » in French, "…" in English;
- names after a title as first name then SURNAME;
- words an export wrote without accents in their accented spelling, and, per study
  (`review.conventions`), the abbreviation form its real reports prefer ("Hb" or
  "hémoglobine") for every report of the study.

Every rule is idempotent: a line already in house style comes out unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from review.conventions import NO_CONVENTIONS, Conventions
from review.conventions.abbreviations import abbreviations_house_style
from review.conventions.accents import accented, fold
from review.timeline import (
    EN_MONTHS,
    FR_MONTHS,
    MONTHS,
    UNACCENTED_MONTHS,
    digit_run_starts,
    sub_at,
    substituted,
    year_anchored_find,
)

# --- dates ------------------------------------------------------------------------------

_NUMERIC_FULL = re.compile(
    r"(?<![\w/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/])(?![.-]\d)"
)
_ISO_FULL = re.compile(r"(?<![\w/.-])(\d{4})-(\d{2})-(\d{2})(?![\w/-])")
_FR_WRITTEN = re.compile(
    rf"\b(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?"
    rf"(\d{{1,2}})(?:er)?\s+({FR_MONTHS})\s+((?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_EN_WRITTEN = re.compile(
    rf"\b({EN_MONTHS})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b"
    rf"|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({EN_MONTHS})\s+((?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_NUMERIC_MONTH_YEAR = re.compile(r"(?<![\w/.-])(0?[1-9]|1[0-2])/((?:19|20)\d\d)(?![\w/])(?![.-]\d)")
_FR_MONTH_YEAR = re.compile(rf"\b({FR_MONTHS})\s+((?:19|20)\d\d)\b", re.IGNORECASE)

# Speed (issue 21): every report shown passes through these patterns, and a scan by `re`
# costs ~10 ns per character even where nothing matches (~0.4 ms a report for the dates and
# decimals). As in review.timeline, the patterns that open with a number refuse a digit just
# before it, so each match starts a run of digits and they are tried there only (`sub_at`);
# the dates in words end with a year of four digits after white space, so each is searched
# in the characters before such a year that can hold the rest of it (`timeline.year_anchored_find`).
# tests/review/blinding/test_house_style_scans.py holds both to the patterns' own `sub`.
# How many characters other than white space each pattern writes before its year, at most:
# a weekday, the day with "er", the month; the month, the day with "th" and a comma; a month.
_WRITTEN_LEAD = {_FR_WRITTEN: 8 + 2 + 2 + 9, _EN_WRITTEN: 9 + 2 + 2 + 1, _FR_MONTH_YEAR: 9}


def _written_dates_sub(
    pattern: re.Pattern[str], replacement: Callable[[re.Match[str]], str], text: str
) -> str:
    """`pattern.sub(replacement, text)` for a pattern of `_WRITTEN_LEAD`."""
    return substituted(text, year_anchored_find(pattern, text, _WRITTEN_LEAD[pattern]), replacement)


def _full_year(year: str) -> int:
    if len(year) == 4:
        return int(year)
    full = 2000 + int(year)
    # A two-digit year past next year is last century's (a birth date, say).
    return full - 100 if full > dt.date.today().year + 1 else full


def _house_date(day: dt.date, language: str) -> str:
    return day.strftime("%d/%m/%Y" if language == "fr" else "%m/%d/%Y")


def _month_index(name: str) -> int:
    lowered = name.lower()
    lowered = UNACCENTED_MONTHS.get(lowered, lowered)
    if lowered in MONTHS["fr"]:
        return MONTHS["fr"].index(lowered) + 1
    return [m.lower() for m in MONTHS["en"]].index(lowered) + 1


def dates_house_style(line: str, *, language: str) -> str:
    """Every full date as dd/mm/yyyy (fr) or mm/dd/yyyy (en); month-years written out."""

    def numeric(match: re.Match[str]) -> str:
        a, sep, b, year = match.group(1), match.group(2), match.group(3), match.group(4)
        if sep == "-" and len(year) == 2:
            return match.group(0)  # "1-22-43": a regimen's days, not a date
        # Already in house style: leave it (and its zero padding) alone.
        if sep == "/" and len(year) == 4 and len(a) == 2 and len(b) == 2:
            return match.group(0)
        day, month = (int(b), int(a)) if language == "en" and sep == "/" else (int(a), int(b))
        try:
            return _house_date(dt.date(_full_year(year), month, day), language)
        except ValueError:
            return match.group(0)

    def iso(match: re.Match[str]) -> str:
        try:
            value = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return match.group(0)
        return _house_date(value, language)

    def french(match: re.Match[str]) -> str:
        try:
            value = dt.date(int(match.group(3)), _month_index(match.group(2)), int(match.group(1)))
        except ValueError:
            return match.group(0)
        return _house_date(value, language)

    def english(match: re.Match[str]) -> str:
        if match.group(1):
            month, day, year = match.group(1), match.group(2), match.group(3)
        else:
            day, month, year = match.group(4), match.group(5), match.group(6)
        try:
            value = dt.date(int(year), _month_index(month), int(day))
        except ValueError:
            return match.group(0)
        return _house_date(value, language)

    def month_year(match: re.Match[str]) -> str:
        month, year = int(match.group(1)), match.group(2)
        return f"{MONTHS[language][month - 1]} {year}"

    def french_month_year(match: re.Match[str]) -> str:
        # Unaccented or capitalised month names ("FEVRIER 2022") in the one spelling.
        return f"{MONTHS['fr'][_month_index(match.group(1)) - 1]} {match.group(2)}"

    line = sub_at(_ISO_FULL, iso, line, digit_run_starts(line))
    line = sub_at(_NUMERIC_FULL, numeric, line, digit_run_starts(line))
    line = _written_dates_sub(_FR_WRITTEN, french, line)
    line = _written_dates_sub(_EN_WRITTEN, english, line)
    line = sub_at(_NUMERIC_MONTH_YEAR, month_year, line, digit_run_starts(line))
    if language == "fr":
        line = _written_dates_sub(_FR_MONTH_YEAR, french_month_year, line)
    return line


# --- numbers, quotes ----------------------------------------------------------------------

# A decimal number: digits, one separator, digits, with no further separator-digit around
# (so "1.2.3", dates and "1,000,000" stay as they are).
_POINT_DECIMAL = re.compile(r"(?<![\d.,/])(\d+)\.(\d+)(?![\d]|[.,/]\d)")
_COMMA_DECIMAL = re.compile(r"(?<![\d.,/])(\d+),(\d{1,2})(?![\d]|[.,/]\d)")


def decimals_house_style(line: str, *, language: str) -> str:
    # Each match starts a run of digits (see `_WRITTEN_LEAD`'s comment).
    if language == "fr":
        return sub_at(_POINT_DECIMAL, _comma_decimal, line, digit_run_starts(line))
    return sub_at(_COMMA_DECIMAL, _point_decimal, line, digit_run_starts(line))


def _comma_decimal(match: re.Match[str]) -> str:
    return f"{match.group(1)},{match.group(2)}"


def _point_decimal(match: re.Match[str]) -> str:
    return f"{match.group(1)}.{match.group(2)}"


_DOUBLE_QUOTED = re.compile(r"[\"“”„]\s*([^\"“”„«»\n]+?)\s*[\"“”„]")
_GUILLEMETS = re.compile(r"«\s*([^«»\n]+?)\s*»")


def quotes_house_style(line: str, *, language: str) -> str:
    """Straight apostrophes; quotations in guillemets (fr) or straight double quotes (en)."""
    line = line.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    if language == "fr":
        line = _DOUBLE_QUOTED.sub(r"« \1 »", line)
        return _GUILLEMETS.sub(r"« \1 »", line)
    line = _GUILLEMETS.sub(r'"\1"', line)
    return _DOUBLE_QUOTED.sub(r'"\1"', line)


# --- names --------------------------------------------------------------------------------

_TITLE = r"(?:Madame|Monsieur|Mademoiselle|Mme|Mlle|M\.|Dr|Docteur|Pr|Professeur|Mrs|Mr|Ms)"
_UPPER_WORD = r"[A-ZÀ-Ý][A-ZÀ-Ý'-]+"
_CAPITALISED_WORD = r"[A-ZÀ-Ý][a-zß-ÿ]+(?:-[A-ZÀ-Ý][a-zß-ÿ]+)?"
# "Madame DUPONT Marie" (surname first, in capitals) → "Madame Marie DUPONT".
# The leading look-aheads restate the titles' first letters: a scan rejects other positions
# at once (see review.timeline).
_SURNAME_FIRST = re.compile(
    rf"(?=[MDP])\b({_TITLE})\s+({_UPPER_WORD}(?:\s{_UPPER_WORD})?)\s+({_CAPITALISED_WORD})\b(?!\s*[A-ZÀ-Ý]{{2}})"
)
# "Madame Marie Dupont" → "Madame Marie DUPONT" when "Marie" is a known first name.
_BOTH_CAPITALISED = re.compile(
    rf"(?=[MDP])\b({_TITLE})\s+({_CAPITALISED_WORD})\s+({_CAPITALISED_WORD})\b"
)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """First names French and English reports use (Faker's lists, as the surrogates draw)."""
    from faker import Faker

    names: set[str] = set()
    for locale in ("fr_FR", "en_US"):
        provider = Faker(locale).provider("faker.providers.person")
        for attribute in ("first_names_female", "first_names_male", "first_names"):
            names.update(getattr(provider, attribute, ()) or ())
    return frozenset(names)


def names_house_style(line: str) -> str:
    """Names after a title as first name then SURNAME, whichever order the source used."""
    known = first_names()

    def surname_first(match: re.Match[str]) -> str:
        title, surname, first = match.group(1), match.group(2), match.group(3)
        if first not in known:
            return match.group(0)  # "Dr DUPONT Service…": not a first name, leave it
        return f"{title} {first} {surname}"

    def both_capitalised(match: re.Match[str]) -> str:
        title, a, b = match.group(1), match.group(2), match.group(3)
        if a in known and b not in known:
            return f"{title} {a} {b.upper()}"
        if b in known and a not in known:
            return f"{title} {b} {a.upper()}"
        return match.group(0)

    line = _SURNAME_FIRST.sub(surname_first, line)
    return _BOTH_CAPITALISED.sub(both_capitalised, line)


def line_house_style(line: str, *, language: str, conventions: Conventions = NO_CONVENTIONS) -> str:
    """One line of report text in the house style of its language and study (dates before
    decimals: "22.05.23" is a date, not two decimals)."""
    line = capitals_to_sentence_case(line)
    if language == "fr":
        line = accents_restore(line, learned=conventions.accents)
    line = abbreviations_house_style(line, conventions.abbreviations, language=language)
    line = dates_house_style(line, language=language)
    line = decimals_house_style(line, language=language)
    line = quotes_house_style(line, language=language)
    return names_house_style(line)


# --- hard-wrapped lines ---------------------------------------------------------------------

# Words a sentence does not end on: a line ending on one was cut by the export's wrapping,
# whatever case the next line starts in ("traité par\nTamoxifène depuis…").
_OPEN_ENDINGS = frozenset(
    (
        *("de", "du", "des", "d'", "le", "la", "les", "l'", "un", "une", "au", "aux", "à", "a"),
        *("et", "ou", "par", "pour", "avec", "sans", "sur", "sous", "en", "dans", "chez", "vers"),
        *("puis", "mais", "donc", "car", "que", "qui", "dont", "son", "sa", "ses", "leur"),
        *("of", "the", "and", "or", "with", "without", "for", "to", "in", "on", "by", "a", "an"),
    )
)
_SENTENCE_END = re.compile(r"[.:;!?)»\"]$")
# "Poids : 62 kg", "TA: 120/80": a field line stands alone even without a full stop.
_FIELD = re.compile(r"^[^\s:]{1,25}(?:\s[^\s:]{1,25}){0,3}\s?:\s")
WRAP_WIDTH = 60


def continues(previous: str, line: str) -> bool:
    """Whether `line` continues `previous`, hard-wrapped by an export: the previous line
    stops mid-sentence and this one either starts in lower case, or starts with a capital
    after a word no sentence ends on, or after a line as long as a wrapped one."""
    if not previous or _SENTENCE_END.search(previous) or not line:
        return False
    if line[:1].islower():
        return True
    if not line[:1].isupper() or _FIELD.match(line) or _FIELD.match(previous):
        return False
    last_word = previous.split()[-1].lower()
    return last_word in _OPEN_ENDINGS or previous.endswith(",") or len(previous) >= WRAP_WIDTH


def list_item_house_style(item: str) -> str:
    """List items capitalised, without the ";" or "," some exports end them with."""
    item = item.rstrip(" ;,")
    return item[:1].upper() + item[1:] if item else item


# --- capitals and accents -------------------------------------------------------------------

# Abbreviations kept in capitals when a line written all in capitals is set in sentence case.
ACRONYMS = frozenset(
    (
        *("RCP", "HTA", "CHU", "CHR", "CH", "TEP", "IRM", "TDM", "PNN", "CRP", "BPCO", "ECOG"),
        *("AVC", "VIH", "VHB", "VHC", "OMS", "ALAT", "ASAT", "LDH", "ACE", "PSA", "TNM", "PA"),
        *("FOLFOX", "FOLFIRI", "FOLFIRINOX", "XELOX", "EGFR", "ALK", "HER2", "KRAS", "BRAF"),
        *("ORL", "TVP", "EP", "ACFA", "SCA", "IDM", "IV", "PO", "SC", "NFS", "INR", "TP", "DFG"),
        *("AEG", "OMI", "MTEV", "HBPM", "IPP", "AINS", "GCSF", "PICC", "PAC", "UGD", "SAU"),
    )
)
_NAME_TITLES = frozenset(("monsieur", "madame", "mademoiselle", "mme", "mlle", "dr", "docteur"))
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ0-9]*")
_WORD_SPLIT = re.compile(f"({_WORD.pattern})")


@lru_cache(maxsize=1)
def _places_by_fold() -> dict[str, str]:
    from review.surrogates import real_places

    return {fold(place): place for language in ("fr", "en") for place in real_places()[language]}


def _in_case_of(word: str, replacement: str) -> str:
    if word.isupper() and len(word) > 1:
        return replacement.upper()
    if word[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


_BORN_UNACCENTED = re.compile(r"(?=[Nn])\b([Nn])(?:ee|e)( le \d)|\b(N)(?:EE|E)( LE \d)")


def accents_restore(line: str, *, learned: Mapping[str, str] | None = None) -> str:
    """French words an export wrote without accents ("Antecedents", "DIABETE", "ne le
    03/02/1951") in their spelling (`review.blinding.accents`: the clinical word list, the
    study's `learned` spellings, the packaged French dictionary); words with any accent,
    and unaccented spellings that are words of their own ("entre", "des"), are left."""

    # Each distinct word is looked up once, and the line rewritten only when one of them
    # changes: a 2,500-character report has ~400 words, ~200 distinct, and most of its
    # lines need nothing (a callback per word was most of a rating page's house style).
    spellings: dict[str, str] = {}
    for word in set(_WORD.findall(line)):
        if word.isascii():
            spelling = accented(word.lower(), learned)
            if spelling:
                spellings[word] = _in_case_of(word, spelling)
    if spellings:
        # Words at the odd places of the split, what lies between them at the even ones.
        parts = _WORD_SPLIT.split(line)
        parts[1::2] = [spellings.get(word, word) for word in parts[1::2]]
        line = "".join(parts)
    return born_restore(line)


def born_restore(line: str) -> str:
    """ "ne le 03/…" / "nee le 03/…": a birth date, so né / née (the date follows)."""

    def born(match: re.Match[str]) -> str:
        whole = match.group(0)
        feminine = whole.lower().startswith("nee")
        rest = match.group(2) if match.group(2) is not None else match.group(4)
        word = "née" if feminine else "né"
        return _in_case_of(whole.split()[0], word) + rest

    return _BORN_UNACCENTED.sub(born, line)


def places_restore(text: str) -> str:
    """Town names in their own capitals after a line was set in sentence case ("Centre
    hospitalier de bourges" → "… de Bourges"); only after "de", "d'", "à": "tours", "sens"
    or "nice" elsewhere are words."""
    places = _places_by_fold()

    def fix(match: re.Match[str]) -> str:
        word = match.group(2)
        return match.group(1) + places.get(fold(word), word)

    return re.sub(r"(\b(?:de|d'|à|du) ?)([\w-]+)", fix, text)


_ASCII_LOWERCASE = bytes(range(ord("a"), ord("z") + 1))


def _plainly_not_capitals(line: str) -> bool:
    """Whether the letters a-z alone show that fewer than nine letters in ten of `line` are
    capitals: more of them than a tenth of its length (so of its letters). Most lines say
    so, counted on the UTF-8 bytes (where a-z are only themselves) by C-level translate."""
    encoded = line.encode("utf-8", "surrogatepass")
    return len(encoded) - len(encoded.translate(None, _ASCII_LOWERCASE)) > 0.1 * len(line)


def capitals_to_sentence_case(line: str) -> str:
    """A body line typed all in capitals, in sentence case: abbreviations and the name after
    a title stay in capitals (a surname), a known first name is capitalised."""
    if _plainly_not_capitals(line):
        return line
    # Counted by C-level map/filter: every line of every report shown passes here.
    letters = sum(map(str.isalpha, line))
    if letters < 8 or len(line.split()) < 2:
        return line
    if sum(map(str.isupper, filter(str.isalpha, line))) < 0.9 * letters:
        return line
    known = first_names()
    out: list[str] = []
    cursor = 0
    after_title = 0  # how many of the next words may still be a name
    sentence_start = True
    for match in _WORD.finditer(line):
        word = match.group(0)
        between = line[cursor : match.start()]
        out.append(between)
        if re.search(r"[.!?]\s*$", between):
            sentence_start = True
        if between.strip():
            after_title = 0  # a name follows its title directly
        capitalised = word[:1] + word[1:].lower()
        if after_title and capitalised in known:
            value = capitalised
        elif after_title:
            value = word  # the surname, in capitals as French reports write it
        elif word in ACRONYMS or any(ch.isdigit() for ch in word):
            value = word
        else:
            value = word.lower()
            if sentence_start or value in _NAME_TITLES:
                value = value[:1].upper() + value[1:]
        after_title = 2 if word.lower() in _NAME_TITLES else max(after_title - 1, 0)
        sentence_start = False
        out.append(value)
        cursor = match.end()
    out.append(line[cursor:])
    return places_restore("".join(out))
