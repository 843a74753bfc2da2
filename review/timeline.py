"""The timeline of one report: every date it states (in any written form) with the role its
context gives it, and every age it states.

Surrogates are drawn against this timeline so that a real report stays coherent once its
placeholders are filled: a "[DDN]" agrees with "66 ans", an admission "[DATE]" lands in the
report's own period, a follow-up comes after the discharge. The coherence checker
(`review.coherence`) reads the same timeline to find what does not fit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
# Exports that drop accents (Latin-1 CSVs typed in capitals) write "fevrier", "aout".
UNACCENTED_MONTHS = {"fevrier": "février", "aout": "août", "decembre": "décembre"}
FR_MONTHS = "|".join(MONTHS["fr"]) + "|fevrier|aout|decembre"
EN_MONTHS = "|".join(MONTHS["en"])
# Speed: every report is scanned with each pattern below (import, coherence, validation), and
# Python's `re` tries a pattern that opens with a look-behind, `\b` or an alternation at every
# position of the text. A leading look-ahead on the characters a match can start with, such as
# `(?=\d)`, rejects the other positions at once (3-4x faster scans) and never changes what
# matches: it only restates the first character the rest of the pattern requires.
NUMERIC_DATE = re.compile(
    r"(?=\d)(?<![\d/])(?<!\d[.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/])(?![.-]\d)"
)
ISO_DATE = re.compile(r"(?=\d)(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")


def numeric_date_plausible(match: re.Match[str]) -> bool:
    """A dashed date needs a four-digit year: "1-22-43" is a regimen's days (cisplatin days
    1, 22, 43), not 22 January 1943."""
    return not (match.group(2) == "-" and len(match.group(4)) == 2)


# The day is optional: "3 février 2021" and "février 2021", "March 5, 2021" and "March 2021".
FR_TEXT_DATE = re.compile(
    rf"(?=[\djfmasond])\b(?:(\d{{1,2}})(er)? )?({FR_MONTHS}) ((?:19|20)\d\d)\b", re.I
)
EN_TEXT_DATE = re.compile(
    rf"(?=[jfmasond])\b({EN_MONTHS})(?: (\d{{1,2}}),)? ((?:19|20)\d\d)\b", re.IGNORECASE
)
# Month and year alone, numeric: "03/2021", "2021-03" (never part of a full date or of a
# code such as "pT2/2019": no letter, digit or separator may touch them).
NUMERIC_MONTH_YEAR = re.compile(
    r"(?=\d)(?<![\w/.-])(0?[1-9]|1[0-2])(/)((?:19|20)\d\d)(?![\w/])(?![.-]\d)"
)
# A year alone, only where a preposition makes it one ("en 2018", "depuis 2019",
# "since 2019"): never a code ("pT2/2019", "TNM 2017", "AJCC 8e édition"), a dose, a lab
# value or an age. Group 1 is the year.
BARE_YEAR = re.compile(
    r"(?=[edis])\b(?:en|depuis|d[èe]s|in|since)\s+(?:(?:l'ann[ée]e|fin|d[ée]but|mi-?|courant)\s+)?"
    r"((?:19|20)\d\d)(?![\w/]|[.,-]\d)"
    r"(?!\s*(?:mg|µg|g|mL|ml|dL|UI|U|Gy|cGy|mmol|µmol|kg|cm|mm|ans|years?)\b|\s*%)",
    re.I,
)
ISO_MONTH_YEAR = re.compile(
    r"(?=[12])(?<![\w/.-])((?:19|20)\d\d)-(0[1-9]|1[0-2])(?![\w/])(?![.-]\d)"
)

# Context words before a date, nearest wins. Each role is a place in a stay's chronology.
# Every pattern opens with a look-ahead on its words' first letters (see the date patterns).
ROLE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        # Only "né(e) le", "DDN", "date de naissance" (and English equivalents) date a birth:
        # a bare "ne" is the negation ("ne fume pas"), and the word must touch the date
        # (see `_BIRTH_GAP`), else "Né le …, VENU LE [DATE]" made the visit a birth date.
        "birth",
        re.compile(
            r"(?=[ndb])(?:\bn[ée]e?s?(?:\s*\(e\))?\s+le\b|\bDDN\b|date de naissance"
            r"|\bborn(?:\s+on)?\b|date of birth|\bDOB\b)",
            re.I,
        ),
    ),
    (
        # A visit or consultation: a day of the report's own period, never a birth.
        "visit",
        re.compile(
            r"(?=[vcs])(?:\bvenue?s?(?:\s*\(e\))?\s+(?:en\s+consultation\s+)?le\b"
            r"|(?<![\w-])vue?s?(?:\s*\(e\))?\s+(?:en\s+consultation\s+)?le\b"
            r"|\bconsultation\s+du\b|\bconsult[ée]e?s?\s+le\b|\bvisit(?:ed)?\b|\bseen\s+on\b)",
            re.I,
        ),
    ),
    (
        "admission",
        re.compile(
            r"(?=[eahs])(?:\bentr[ée]e?s?\b|\badmise?s?\b|\badmission\b|\bhospitalis[ée]e?s?\b"
            r"|\bs[ée]jour\b|\badmitted\b)",
            re.I,
        ),
    ),
    (
        "discharge",
        re.compile(r"(?=[sdr])(?:\bsortie?s?\b|\bdischarged?\b|\bretour à domicile\b)", re.I),
    ),
    (
        "followup",
        re.compile(
            r"(?=[rscpf])(?:\brevue?s?\b|\brevoir\b|\brevenir\b|\breconsulter\b|\brendez-vous\b"
            r"|\bRDV\b|\bsuivi\b|\bcontr[ôo]le\b|\breconvoqu[ée]e?"
            r"|\bprochaine?\b|\bfollow-up\b|\bseen again\b|\breview(?:ed)?\b)",
            re.I,
        ),
    ),
    (
        "rcp",
        re.compile(
            r"(?=[rcmt])(?:\bRCP\b|concertation pluridisciplinaire|\bMDT\b|tumou?r board)", re.I
        ),
    ),
    (
        "letter",
        re.compile(
            r"(?=[fcdl])(?:\bfait le\b|\bcourrier du\b|\bdict[ée]e?\b|\bletter dated\b)", re.I
        ),
    ),
    (
        "history",
        re.compile(
            r"(?=[dbap\dl])(?:\bdiagnosti(?:c|qu[ée]e?)\b|\bbiopsie\b|\bd[ée]couvert[e]?\b"
            r"|\bdepuis\b|\bant[ée]c[ée]dents?\b|\bdiagnosed\b|\bbiopsy\b"
            # Earlier treatment lines and the progression that ended them.
            r"|\bprogression\b|\b\d+(?:re|e|ère)\s+ligne\b|\bline\s+\d+\b)",
            re.I,
        ),
    ),
)
# What may stand between a birth word and its date: "né le 03/05/1951", "DDN : [DDN]".
_BIRTH_GAP = re.compile(r"[\s:.,()-]{0,4}")
# A date written first on its own line ("Paris, le 12/03/2022") dates the letter.
_LETTER_HEAD = re.compile(r"(?:^|\n)[ \t]*(?:[A-ZÀ-Ý][\w' -]*,\s*)?le\s*$", re.I)
# "du 03/02 au 10/02": the second date of a stay's span is its end.
_SPAN_END = re.compile(r"(?=[df])(?:\bdu\s+\S+\s+au\s*$|\bfrom\s+\S+(?:\s+\S+)?\s+to\s*$)", re.I)

AGE = re.compile(
    r"(?=[\da])(?:(?<![\d,.])(\d{1,3})\s*ans\b|(?<![\d,.])(\d{1,3})[- ]year[- ]old\b"
    r"|\baged\s+(\d{1,3})\b|(?<![\d,.])(\d{1,3})\s+years\s+old\b)",
    re.I,
)
# "depuis 5 ans", "il y a 3 ans", "à 10 ans", "30 ans de tabagisme": durations, not ages.
_NOT_AN_AGE_BEFORE = re.compile(
    r"\b(?:depuis|pendant|durant|y a|dans|après|apres|avant|sur|tous les|pour|for|since|over"
    r"|at|à|a|de|d'|paquets?|PA)\s*$",
    re.I,
)
_NOT_AN_AGE_AFTER = re.compile(r"^\s*(?:de |d'|plus tôt|auparavant|ago|before|earlier)", re.I)
_AGE_INTRO = re.compile(
    r"(?:âg[ée]e?|agee?|aged?)\s+de\s*$|\b(?:patiente?|homme|femme)\s+de\s*$", re.I
)
# Speed (issue 21): a scan by `re` costs ~10 ns per character of the text even when the
# pattern's leading look-ahead rejects almost every position, and an import scanned each
# report with several patterns that open with a number. Those patterns refuse a digit just
# before their first one, so each of their matches starts a run of digits: one scan finds
# the runs (a report of 2,500 characters has a few dozen) and the pattern itself is tried
# at each (`finditer_at`). `pattern.match(text, start)` sees the text before `start`, so
# look-behinds and `\b` decide as in a scan. tests/review/imports/test_scan_prefilters.py
# holds each use to the pattern's own `finditer`.
_DIGIT_RUN = re.compile(r"\d+")
# AGE's one branch that opens with a word: "aged 61".
_AGED = re.compile("aged", re.I)


# Byte -> "0" for an ASCII digit, " " for any other byte.
_DIGIT_MARKS = bytes(ord("0") if byte in b"0123456789" else ord(" ") for byte in range(256))


@lru_cache(maxsize=16)
def digit_runs(text: str) -> tuple[tuple[int, int], ...]:
    """Each run of digits in `text` as (start, end), in order. Kept for the last texts: an
    import asks for one report's runs when it shifts its dates, finds them and its ages, the
    house style (review.blinding.house_style) when it rewrites its dates and decimals."""
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        return tuple(map(re.Match.span, _DIGIT_RUN.finditer(text)))
    # Below U+0100 the only digits `\d` knows are 0-9, and one byte is one character: the
    # runs are found by C-level translate and find, ~8x faster than the scan by `re`.
    marks = data.translate(_DIGIT_MARKS)
    runs = []
    start = marks.find(b"0")
    while start != -1:
        end = marks.find(b" ", start)
        end = len(marks) if end == -1 else end
        runs.append((start, end))
        start = marks.find(b"0", end)
    return tuple(runs)


@lru_cache(maxsize=16)
def digit_run_starts(text: str) -> tuple[int, ...]:
    """Where each run of digits in `text` starts, in order (kept as `digit_runs` is: each
    report's are asked for by four scans)."""
    return tuple(start for start, _end in digit_runs(text))


def finditer_at(pattern: re.Pattern[str], text: str, starts: Sequence[int]) -> list[re.Match[str]]:
    """`list(pattern.finditer(text))`, the pattern tried only at `starts` (in order): right
    when every match of the pattern starts at one of them."""
    found: list[re.Match[str]] = []
    end = 0
    for start in starts:
        if start < end:
            continue  # inside the previous match, which a scan would have skipped
        match = pattern.match(text, start)
        if match is not None:
            found.append(match)
            end = match.end()
    return found


def sub_at(
    pattern: re.Pattern[str],
    replacement: Callable[[re.Match[str]], str],
    text: str,
    starts: Sequence[int],
) -> str:
    """`pattern.sub(replacement, text)`, the pattern tried only at `starts` (see
    `finditer_at`)."""
    return substituted(text, finditer_at(pattern, text, starts), replacement)


def substituted(
    text: str, matches: list[re.Match[str]], replacement: Callable[[re.Match[str]], str]
) -> str:
    """`text` with each of `matches` (in order, none overlapping) replaced as `re.sub`
    replaces it: by `replacement(match)`."""
    pieces: list[str] = []
    cursor = 0
    for match in matches:
        pieces.append(text[cursor : match.start()])
        pieces.append(replacement(match))
        cursor = match.end()
    if not pieces:
        return text
    pieces.append(text[cursor:])
    return "".join(pieces)


@dataclass(frozen=True)
class DateMention:
    """A date the report states: where, what day (month-only dates: their 15th), and its
    role in the stay (birth, admission, discharge, followup, rcp, letter, history, other)."""

    start: int
    end: int
    text: str
    day: dt.date
    precision: str  # "day", "month" or "year" (a year alone: its 1 July)
    role: str


@dataclass(frozen=True)
class AgeMention:
    start: int
    age: int


@dataclass(frozen=True)
class Timeline:
    dates: tuple[DateMention, ...]
    ages: tuple[AgeMention, ...]

    def of_role(self, *roles: str) -> list[DateMention]:
        return [mention for mention in self.dates if mention.role in roles]

    @property
    def birth(self) -> dt.date | None:
        births = self.of_role("birth")
        return births[0].day if births else None

    @property
    def age(self) -> int | None:
        return self.ages[0].age if self.ages else None

    @property
    def stay_start(self) -> dt.date | None:
        """The admission, else the earliest date of the stay itself (not history, not birth)."""
        admissions = self.of_role("admission")
        if admissions:
            return min(m.day for m in admissions)
        during = self.of_role("other", "visit", "rcp", "discharge", "letter", "followup")
        return min((m.day for m in during), default=None)


def role_before(text: str, start: int) -> str:
    """The role the words just before `start` give a date (nearest keyword within 45
    characters on the same line), "letter" for a dateline, else "other"."""
    line_start = text.rfind("\n", 0, start) + 1
    window = text[max(line_start, start - 45) : start]
    # Only a line that reaches the date in at most five words can be a dateline ("Bourges, le
    # 12/03/2022"): its head (from the line break before it) is what the dateline rule reads.
    head = text[max(0, line_start - 1) : start] if text.count(" ", line_start, start) <= 4 else None
    if head is not None and len(head) > _HEAD_CACHED_UP_TO:
        return _role_of_context.__wrapped__(window, head)
    return _role_of_context(window, head)


# A report names a date's role with the same few words again and again ("hospitalisé du",
# "né le", "Date d'entrée :"), in each report of an export and twice per report (the
# surrogates' timeline, then the coherence check's): ~25 µs of regular expressions per date,
# ~0.5 ms per report of a French export. Memoised on the exact context, so the answer is the
# same function of the same characters; long dateline heads (rare) are not kept.
_HEAD_CACHED_UP_TO = 120


@lru_cache(maxsize=16384)
def _role_of_context(window: str, head: str | None) -> str:
    if _SPAN_END.search(window):
        return "discharge"
    # "Bourges, le 12/03/2022" at the start of a line: the letter's date.
    # `head` holds a line break only at its start: `match` finds what a `search` would, without
    # trying each position of a long line.
    if head is not None and _LETTER_HEAD.match(head):
        return "letter"
    best: tuple[int, str] | None = None
    for role, pattern in ROLE_WORDS:
        for match in pattern.finditer(window):
            if role == "birth" and not _BIRTH_GAP.fullmatch(window[match.end() :]):
                continue  # "né le 03/05/1951, venu le [DATE]": the birth word is spent
            if best is None or match.end() > best[0]:
                best = (match.end(), role)
    return best[1] if best else "other"


def _two_digit_year(year: str) -> int:
    full = int(year) if len(year) == 4 else 2000 + int(year)
    # A two-digit year past next year is last century's (a birth date, say).
    if len(year) == 2 and full > dt.date.today().year + 1:
        full -= 100
    return full


def _month_number(name: str, language: str) -> int:
    lowered = name.lower()
    lowered = UNACCENTED_MONTHS.get(lowered, lowered)
    if lowered in MONTHS["fr"]:
        return MONTHS["fr"].index(lowered) + 1
    return [m.lower() for m in MONTHS["en"]].index(lowered) + 1


def _parsed(match: re.Match[str], pattern: re.Pattern[str], language: str) -> tuple[dt.date, str]:
    """The day a date match stands for and its precision; ValueError if it is no date."""
    if pattern is NUMERIC_DATE:
        a, b = int(match.group(1)), int(match.group(3))
        day, month = (b, a) if language == "en" else (a, b)
        return dt.date(_two_digit_year(match.group(4)), month, day), "day"
    if pattern is ISO_DATE:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3))), "day"
    if pattern is FR_TEXT_DATE:
        month = _month_number(match.group(3), "fr")
        if match.group(1) is None:
            return dt.date(int(match.group(4)), month, 15), "month"
        return dt.date(int(match.group(4)), month, int(match.group(1))), "day"
    if pattern is EN_TEXT_DATE:
        month = _month_number(match.group(1), "en")
        if match.group(2) is None:
            return dt.date(int(match.group(3)), month, 15), "month"
        return dt.date(int(match.group(3)), month, int(match.group(2))), "day"
    if pattern is BARE_YEAR:
        return dt.date(int(match.group(1)), 7, 1), "year"
    if pattern is NUMERIC_MONTH_YEAR:
        return dt.date(int(match.group(3)), int(match.group(1)), 15), "month"
    return dt.date(int(match.group(1)), int(match.group(2)), 15), "month"


DATE_PATTERNS = (
    ISO_DATE,
    NUMERIC_DATE,
    ISO_MONTH_YEAR,
    NUMERIC_MONTH_YEAR,
    FR_TEXT_DATE,
    EN_TEXT_DATE,
    BARE_YEAR,
)
# The patterns that spell their year "19xx" or "20xx": none can match a text without "19" or
# "20" (digits have no other case), and `in` finds out 100x faster than a scan of each.
YEAR_PATTERNS = (ISO_MONTH_YEAR, NUMERIC_MONTH_YEAR, FR_TEXT_DATE, EN_TEXT_DATE, BARE_YEAR)
# Of these, a date in words writes a space before its year: " 19xx" or " 20xx".
TEXT_DATE_PATTERNS = (FR_TEXT_DATE, EN_TEXT_DATE)
_FULL_DATE_PATTERNS = tuple(pattern for pattern in DATE_PATTERNS if pattern not in YEAR_PATTERNS)
_NUMERIC_PATTERNS = tuple(p for p in DATE_PATTERNS if p not in TEXT_DATE_PATTERNS)
# The date patterns whose every match starts a run of digits (see `finditer_at`).
_NUMBER_FIRST_PATTERNS = frozenset({ISO_DATE, NUMERIC_DATE, ISO_MONTH_YEAR, NUMERIC_MONTH_YEAR})
# A date in words ends with a year of four digits after a space ("1er mars 2021", "March 5,
# 2021"), and what comes before its year is at most a day, "er", the longest month name and
# three spaces or commas: each is looked for in the characters before such a year only
# (`year_anchored_find`) rather than by a scan of the whole text (~40 µs a report, each time).
_TEXT_DATE_LEAD = 2 + 2 + max(len(name) for names in MONTHS.values() for name in names) + 3


def _years_after_space(text: str) -> list[tuple[int, int]]:
    """Each run of four digits opening with 19 or 20 after white space, as (start, end)."""
    return [
        (start, end)
        for start, end in digit_runs(text)
        if end - start == 4
        and start > 0
        and text[start - 1].isspace()
        and text[start : start + 2] in ("19", "20")
    ]


def _lead_start(text: str, year_start: int, characters: int) -> int:
    """Where the last `characters` characters other than white space before `year_start`
    begin: a match that ends with this year starts there or after."""
    position = year_start
    while position > 0 and characters > 0:
        position -= 1
        if not text[position].isspace():
            characters -= 1
    return position


def year_anchored_find(pattern: re.Pattern[str], text: str, lead: int) -> list[re.Match[str]]:
    """`list(pattern.finditer(text))` for a pattern whose every match ends with a year
    ("19xx" or "20xx") after white space and writes at most `lead` characters other than
    white space before it: each is searched from there to the character after the year
    (which a closing `\\b` reads), not by a scan of the whole text."""
    found: list[re.Match[str]] = []
    cursor = 0
    for start, end in _years_after_space(text):
        if end <= cursor:
            continue
        match = pattern.search(text, max(cursor, _lead_start(text, start, lead)), end + 1)
        if match is not None:
            found.append(match)
            cursor = match.end()
    return found


def text_dates_find(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """`list(pattern.finditer(text))` for FR_TEXT_DATE or EN_TEXT_DATE."""
    return year_anchored_find(pattern, text, _TEXT_DATE_LEAD)


def text_dates_sub(
    pattern: re.Pattern[str], replacement: Callable[[re.Match[str]], str], text: str
) -> str:
    """`pattern.sub(replacement, text)` for FR_TEXT_DATE or EN_TEXT_DATE (see
    `text_dates_find`)."""
    return substituted(text, text_dates_find(pattern, text), replacement)


@lru_cache(maxsize=16)
def lower_case(text: str) -> str:
    """`text.lower()`, kept for the last texts as `digit_runs` is: an import's prefilters
    look for their marks in a report's lower case four times (the placeholder rules before
    and after the surrogates, the ages, the coherence check's wording)."""
    return text.lower()


@lru_cache(maxsize=16)  # asked three times of each imported report
def year_written(text: str) -> bool:
    """False when no `YEAR_PATTERNS` pattern can match `text`."""
    return "19" in text or "20" in text


def text_date_written(text: str) -> bool:
    """False when no `TEXT_DATE_PATTERNS` pattern can match `text`."""
    return " 19" in text or " 20" in text


def _date_patterns(text: str) -> tuple[re.Pattern[str], ...]:
    """`DATE_PATTERNS` less those that cannot match `text`, in the same order."""
    if not year_written(text):
        return _FULL_DATE_PATTERNS
    return DATE_PATTERNS if text_date_written(text) else _NUMERIC_PATTERNS


def dates_find(text: str, *, language: str) -> list[DateMention]:
    """Every date in `text`, each span once (full dates take precedence over month-years)."""
    found: list[DateMention] = []
    starts = digit_run_starts(text)
    for pattern in _date_patterns(text):
        if pattern in _NUMBER_FIRST_PATTERNS:
            matches = finditer_at(pattern, text, starts)
        elif pattern in TEXT_DATE_PATTERNS:
            matches = text_dates_find(pattern, text)
        else:
            matches = list(pattern.finditer(text))
        for match in matches:
            start, end = match.span(1) if pattern is BARE_YEAR else match.span()
            if any(start < m.end and m.start < end for m in found):
                continue
            if pattern is NUMERIC_DATE and not numeric_date_plausible(match):
                continue
            try:
                day, precision = _parsed(match, pattern, language)
            except ValueError:
                continue
            role = role_before(text, start)
            if precision == "year" and role in ("followup", "rcp", "letter"):
                role = "future"  # "à revoir en 2025": after the stay, too coarse to check
            elif precision == "year" and role != "birth":
                # A year alone is too coarse to date the stay: it tells the history.
                role = "history"
            found.append(DateMention(start, end, text[start:end], day, precision, role))
    found.sort(key=lambda m: m.start)
    return found


def ages_find(text: str) -> list[AgeMention]:
    """Ages the report states ("66 ans", "âgée de 66 ans", "a 66-year-old"); durations such as
    "depuis 5 ans" or "30 ans de tabagisme" are not ages."""
    ages = []
    # AGE opens with a number or with "aged"; "aged" is in the text's lower case wherever
    # `_AGED` matches (no other character folds to a, g, e or d: checked over all of
    # Unicode by the prefilter tests).
    starts: Sequence[int] = digit_run_starts(text)
    if "aged" in lower_case(text):
        starts = sorted((*starts, *(match.start() for match in _AGED.finditer(text))))
    for match in finditer_at(AGE, text, starts):
        mention = age_mention(text, match)
        if mention is not None:
            ages.append(mention)
    return ages


def age_mention(text: str, match: re.Match[str]) -> AgeMention | None:
    """The age a match of AGE states, or None for a duration or an implausible age."""
    value = int(next(group for group in match.groups() if group is not None))
    before = text[max(0, match.start() - 20) : match.start()]
    after = text[match.end() : match.end() + 15]
    if not 15 <= value <= 110:
        return None
    if _NOT_AN_AGE_BEFORE.search(before) and not _AGE_INTRO.search(before):
        return None
    if _NOT_AN_AGE_AFTER.search(after):
        return None
    return AgeMention(start=match.start(), age=value)


def timeline_build(text: str, *, language: str) -> Timeline:
    return Timeline(dates=tuple(dates_find(text, language=language)), ages=tuple(ages_find(text)))
