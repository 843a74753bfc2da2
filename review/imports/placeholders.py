"""Pseudonymization placeholders in real reports → realistic surrogates.

Hospital de-identification tools leave tokens such as `[NOM]`, `<PATIENT>`, `***`, `XXX`,
`[DATE]` or `<HOPITAL>`. A synthetic report never contains them, so left in place they
would tell a reviewer at a glance which reports are real. On import each one is replaced
by a surrogate of the same kind drawn from `review.surrogates.SurrogateGenerator` (the
generator the synthetic pipeline uses too), consistently within a report: the same token
text always gets the same surrogate, `[NOM]`, `[PRENOM]` and `<PATIENT>` describe one
patient, and real dates are all shifted by one per-report offset so intervals stay true.

Patterns are configurable: `settings.IMPORT_PLACEHOLDERS_FILE` may name a JSON file
`[{"kind": "last_name", "pattern": "\\[NOM\\]"}, …]` (regular expressions, matched case
insensitively) that replaces the defaults below.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from review.surrogates import SurrogateGenerator

KINDS = (
    "last_name",
    "first_name",
    "full_name",
    "physician",
    "name",
    "date",
    "birth_date",
    "hospital",
    "city",
    "phone",
    "address",
    "postcode",
    "email",
    "identifier",
)


def _token(*names: str) -> str:
    # [NOM], <NOM>, [NOM_2], [NOM 2]: a numbered token is a different person or date.
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    return rf"[\[<](?:{alternatives})(?:[ _-]?\d{{1,3}})?[\]>]"


DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("full_name", _token("PATIENTE?", "NOM[ _]PRENOM", "PRENOM[ _]NOM", "NAME", "FULL[ _]?NAME")),
    ("first_name", _token("PR[EÉ]NOM", "FIRST[ _]?NAME", "GIVEN[ _]?NAME")),
    ("last_name", _token("NOM", "NOM[ _]DE[ _]NAISSANCE", "LAST[ _]?NAME", "SURNAME")),
    ("physician", _token("M[EÉ]DECIN", "DOCTEUR", "DR", "DOCTOR", "PHYSICIAN", "PRATICIEN")),
    (
        "birth_date",
        _token("DDN", "DATE[ _]DE[ _]NAISSANCE", "DATE[ _]NAISSANCE", "DOB", "BIRTH[ _]?DATE"),
    ),
    ("date", _token("DATE")),
    (
        "hospital",
        _token("H[OÔ]PITAL", "[EÉ]TABLISSEMENT", "CLINIQUE", "HOSPITAL", "CENTRE", "CHU"),
    ),
    ("city", _token("VILLE", "CITY", "COMMUNE", "TOWN")),
    ("phone", _token("T[EÉ]L", "T[EÉ]L[EÉ]PHONE", "PHONE", "TELEPHONE", "FAX")),
    ("address", _token("ADRESSE", "ADDRESS", "RUE", "STREET")),
    ("postcode", _token("CP", "CODE[ _]POSTAL", "ZIP", "POSTCODE")),
    ("email", _token("E?MAIL", "COURRIEL")),
    ("identifier", _token("IPP", "NIP", "NDA", "ID", "MRN", "N[UO]M[EÉ]RO[ _]DOSSIER")),
    # Bare masks: most French de-identification tools use them for names.
    ("name", r"(?<![*\w])\*{3,}(?![*\w])"),
    ("name", r"\bX{3,}\b"),
)

# Anything shaped like a placeholder, configured or not: what the audit counts as leftovers.
GENERIC_PLACEHOLDER = re.compile(
    r"[\[<][A-ZÀÂÉÈÊÎÔÛÇ][A-ZÀÂÉÈÊÎÔÛÇ _'-]{1,30}(?:[ _-]?\d{1,3})?[\]>]"
    r"|(?<![*\w])\*{3,}(?![*\w])|\bX{3,}\b"
)

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
_FR_MONTHS = "|".join(MONTHS["fr"]) + "|fevrier|aout|decembre"
_EN_MONTHS = "|".join(MONTHS["en"])
_NUMERIC_DATE = re.compile(
    r"(?<![\d/])(?<!\d[.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/])(?![.-]\d)"
)
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
# The day is optional: "3 février 2021" and "février 2021", "March 5, 2021" and "March 2021".
_FR_TEXT_DATE = re.compile(
    rf"\b(?:(\d{{1,2}})(er)? )?({_FR_MONTHS}) ((?:19|20)\d\d)\b", re.IGNORECASE
)
_EN_TEXT_DATE = re.compile(rf"\b({_EN_MONTHS})(?: (\d{{1,2}}),)? ((?:19|20)\d\d)\b", re.IGNORECASE)
# Month and year alone, numeric: "03/2021", "2021-03" (never part of a full date or of a
# code such as "pT2/2019": no letter, digit or separator may touch them).
# A full stop after them ends the sentence; before a digit it would make another number.
_NUMERIC_MONTH_YEAR = re.compile(
    r"(?<![\w/.-])(0?[1-9]|1[0-2])(/)((?:19|20)\d\d)(?![\w/])(?![.-]\d)"
)
_ISO_MONTH_YEAR = re.compile(r"(?<![\w/.-])((?:19|20)\d\d)-(0[1-9]|1[0-2])(?![\w/])(?![.-]\d)")

_FEMALE_BEFORE = re.compile(r"\b(mme|madame|mlle|mademoiselle|mrs|ms|miss|née)\.?\s*$", re.I)
_MALE_BEFORE = re.compile(r"\b(m|monsieur|mr)\.?\s*$", re.I)
_TITLE_BEFORE = re.compile(r"\b(dr|docteur|pr|professeur|doctor|prof)\.?\s*$", re.I)


@dataclass(frozen=True)
class PlaceholderRule:
    kind: str
    pattern: re.Pattern[str]


@dataclass
class SurrogateResult:
    text: str
    replacements: list[dict[str, Any]] = field(default_factory=list)
    date_offset_days: int | None = None

    def provenance(self) -> dict[str, Any]:
        return {"replacements": self.replacements, "date_offset_days": self.date_offset_days}


def rules_from_config(entries: list[dict[str, Any]]) -> list[PlaceholderRule]:
    """Rules from `[{"kind": …, "pattern": …}]`; raises ValueError naming the bad entry."""
    rules = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "kind" not in entry or "pattern" not in entry:
            raise ValueError(f"placeholder rule {number}: needs 'kind' and 'pattern'")
        if entry["kind"] not in KINDS:
            raise ValueError(
                f"placeholder rule {number}: unknown kind {entry['kind']!r} "
                f"(one of {', '.join(KINDS)})"
            )
        try:
            pattern = re.compile(str(entry["pattern"]), re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"placeholder rule {number}: bad pattern: {exc}") from None
        rules.append(PlaceholderRule(kind=entry["kind"], pattern=pattern))
    return rules


@lru_cache(maxsize=4)
def _rules_from_file(path: str) -> tuple[PlaceholderRule, ...]:
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of rules")
    return tuple(rules_from_config(entries))


def placeholder_rules() -> tuple[PlaceholderRule, ...]:
    path = getattr(settings, "IMPORT_PLACEHOLDERS_FILE", "")
    if path:
        return _rules_from_file(str(path))
    return DEFAULT_RULES


DEFAULT_RULES = tuple(
    PlaceholderRule(kind=kind, pattern=re.compile(pattern, re.IGNORECASE))
    for kind, pattern in DEFAULT_PATTERNS
)


def placeholders_find(text: str) -> list[str]:
    """Placeholder-shaped tokens left in a text (configured patterns and generic shapes)."""
    found = [m for rule in placeholder_rules() for m in rule.pattern.finditer(text)]
    found += list(GENERIC_PLACEHOLDER.finditer(text))
    return sorted({m.group(0) for m in found if not _is_separator_line(text, m)})


def _is_separator_line(text: str, match: re.Match[str]) -> bool:
    """A line of nothing but asterisks is a separator, not a masked name."""
    start, end = match.span()
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end != -1 else len(text)]
    return match.group(0).startswith("*") and line.strip() == match.group(0)


def report_seed(text: str) -> int:
    """A per-report seed from its content: preview and commit draw the same surrogates."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:15], 16)


class _ReportSurrogates:
    """The surrogates of one report, drawn lazily and remembered by token."""

    def __init__(self, generator: SurrogateGenerator, *, anchor: dt.date | None) -> None:
        self.gen = generator
        self.by_token: dict[tuple[str, str], str] = {}
        self.people: dict[str, tuple[str, str]] = {}
        self.anchor = anchor
        self.last_date: dt.date | None = None

    def _suffix(self, token: str) -> str:
        digits = re.search(r"(\d{1,3})[\]>]$", token)
        return digits.group(1) if digits else ""

    def _person(self, key: str, *, sex: str | None) -> tuple[str, str]:
        if key not in self.people:
            sex = sex or self.gen.random.choice("FM")
            self.people[key] = (self.gen.first_name(sex=sex), self.gen.last_name())
        return self.people[key]

    def _date(self) -> dt.date:
        if self.anchor is None:
            self.anchor = self.gen.date_anchor()
            self.last_date = self.anchor
            return self.anchor
        # Each further distinct date token comes a little later, as a stay's dates do.
        base = self.last_date or self.anchor
        self.last_date = base + dt.timedelta(days=self.gen.random.randint(0, 10))
        return self.last_date

    def surrogate(self, *, kind: str, token: str, before: str) -> str:
        key = (kind, token.upper())
        if key in self.by_token:
            return self.by_token[key]
        suffix = self._suffix(token)
        sex = "F" if _FEMALE_BEFORE.search(before) else "M" if _MALE_BEFORE.search(before) else None
        gen = self.gen
        if kind in ("last_name", "first_name", "full_name"):
            first, last = self._person(f"patient{suffix}", sex=sex)
            value = {"last_name": last, "first_name": first, "full_name": f"{first} {last}"}[kind]
            if kind == "last_name" and token.isupper():
                value = value.upper()  # French reports write the family name in capitals
        elif kind == "physician":
            first, last = self._person(f"physician{suffix}", sex=sex)
            value = f"{first} {last}" if _TITLE_BEFORE.search(before) else f"Dr {first} {last}"
        elif kind == "name":
            value = gen.last_name()
        elif kind == "date":
            value = gen.format_date(self._date())
        elif kind == "birth_date":
            value = gen.format_date(gen.birth_date(reference=self.anchor or gen.date_anchor()))
        elif kind == "hospital":
            value = gen.hospital()
        elif kind == "city":
            value = gen.city()
        elif kind == "phone":
            value = gen.phone()
        elif kind == "address":
            value = gen.address()
        elif kind == "postcode":
            value = gen.postcode()
        elif kind == "email":
            value = gen.email()
        else:
            value = gen.identifier()
        self.by_token[key] = value
        return value


def _month_shift(year: int, month: int, offset: int) -> dt.date:
    """Where a date known only to its month lands: its middle (the 15th), shifted. Within a
    report this keeps month-only dates in step with the full dates shifted by the same offset
    (to within half a month), so the chronology a physician reads stays true."""
    return dt.date(year, month, 15) + dt.timedelta(days=offset)


class _DateShifter:
    """The `re.sub` callbacks that move each date format by one offset, recording every
    change for the report's provenance. A date that does not exist (31/02) stays as is."""

    def __init__(self, *, offset: int, language: str) -> None:
        self.offset = offset
        self.month_first = language == "en"
        self.changes: list[dict[str, Any]] = []

    def _record(self, original: str, shifted: str) -> str:
        self.changes.append(
            {
                "placeholder": original,
                "kind": "real_date",
                "surrogate": shifted,
                "offset": self.offset,
            }
        )
        return shifted

    def numeric(self, match: re.Match[str]) -> str:
        a, sep, b, year = match.group(1), match.group(2), match.group(3), match.group(4)
        day, month = (b, a) if self.month_first else (a, b)
        full_year = int(year) if len(year) == 4 else 2000 + int(year)
        # A two-digit year past next year is last century's (a birth date, say).
        if len(year) == 2 and full_year > dt.date.today().year + 1:
            full_year -= 100
        try:
            value = dt.date(full_year, int(month), int(day)) + dt.timedelta(days=self.offset)
        except ValueError:
            return match.group(0)
        # Keep the original's zero padding and year width: "3/4/21" stays short.
        d, m = f"{value.day:0{len(day)}d}", f"{value.month:0{len(month)}d}"
        y = f"{value.year:04d}" if len(year) == 4 else f"{value.year % 100:02d}"
        parts = (m, d) if self.month_first else (d, m)
        return self._record(match.group(0), f"{parts[0]}{sep}{parts[1]}{sep}{y}")

    def iso(self, match: re.Match[str]) -> str:
        try:
            value = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return match.group(0)
        return self._record(match.group(0), (value + dt.timedelta(days=self.offset)).isoformat())

    def french(self, match: re.Match[str]) -> str:
        name = match.group(3).lower().replace("fevrier", "février").replace("aout", "août")
        name = name.replace("decembre", "décembre")
        year, month = int(match.group(4)), MONTHS["fr"].index(name) + 1
        if match.group(1) is None:
            value = _month_shift(year, month, self.offset)
            return self._record(match.group(0), f"{MONTHS['fr'][value.month - 1]} {value.year}")
        try:
            value = dt.date(year, month, int(match.group(1)))
        except ValueError:
            return match.group(0)
        value += dt.timedelta(days=self.offset)
        day = "1er" if value.day == 1 and match.group(2) else str(value.day)
        return self._record(match.group(0), f"{day} {MONTHS['fr'][value.month - 1]} {value.year}")

    def english(self, match: re.Match[str]) -> str:
        names = [m.lower() for m in MONTHS["en"]]
        year, month = int(match.group(3)), names.index(match.group(1).lower()) + 1
        if match.group(2) is None:
            value = _month_shift(year, month, self.offset)
            return self._record(match.group(0), f"{MONTHS['en'][value.month - 1]} {value.year}")
        try:
            value = dt.date(year, month, int(match.group(2)))
        except ValueError:
            return match.group(0)
        value += dt.timedelta(days=self.offset)
        shifted = f"{MONTHS['en'][value.month - 1]} {value.day}, {value.year}"
        return self._record(match.group(0), shifted)

    def numeric_month_year(self, match: re.Match[str]) -> str:
        month, sep, year = match.group(1), match.group(2), match.group(3)
        value = _month_shift(int(year), int(month), self.offset)
        return self._record(match.group(0), f"{value.month:0{len(month)}d}{sep}{value.year}")

    def iso_month_year(self, match: re.Match[str]) -> str:
        value = _month_shift(int(match.group(1)), int(match.group(2)), self.offset)
        return self._record(match.group(0), f"{value.year}-{value.month:02d}")


def _shift_dates(text: str, *, offset: int, language: str) -> tuple[str, list[dict[str, Any]]]:
    """Shift every date in `text` by `offset` days, keeping each date's own format: full
    dates exactly, dates given as a month and a year through the middle of their month.
    Years alone are left as they are (too coarse to move by a few months)."""
    shifter = _DateShifter(offset=offset, language=language)
    # Full numeric dates first: what they leave behind is never a month-year pattern (the
    # look-arounds refuse a neighbouring digit or separator), so nothing shifts twice.
    text = _ISO_DATE.sub(shifter.iso, text)
    text = _NUMERIC_DATE.sub(shifter.numeric, text)
    text = _ISO_MONTH_YEAR.sub(shifter.iso_month_year, text)
    text = _NUMERIC_MONTH_YEAR.sub(shifter.numeric_month_year, text)
    text = _FR_TEXT_DATE.sub(shifter.french, text)
    text = _EN_TEXT_DATE.sub(shifter.english, text)
    return text, shifter.changes


def _first_date(changes: list[dict[str, Any]], language: str) -> dt.date | None:
    for change in changes:
        match = _NUMERIC_DATE.fullmatch(change["surrogate"])
        if match and len(match.group(4)) == 4:
            a, b = int(match.group(1)), int(match.group(3))
            day, month = (b, a) if language == "en" else (a, b)
            try:
                return dt.date(int(match.group(4)), month, day)
            except ValueError:
                continue
        iso = _ISO_DATE.fullmatch(change["surrogate"])
        if iso:
            return dt.date.fromisoformat(change["surrogate"])
    return None


def surrogates_apply(
    text: str,
    *,
    language: str,
    generator: SurrogateGenerator | None = None,
    seed: int | None = None,
    shift_dates: bool | None = None,
    rules: tuple[PlaceholderRule, ...] | None = None,
) -> SurrogateResult:
    """Replace placeholders in one report by consistent surrogates; shift its real dates.

    Deterministic for a given text, language and rule set (the seed defaults to a hash of
    the text), so the preview shows exactly what the commit will store.
    """
    generator = generator or SurrogateGenerator(language=language)
    generator.reseed(report_seed(text) if seed is None else seed)
    if shift_dates is None:
        shift_dates = bool(getattr(settings, "IMPORT_SHIFT_REAL_DATES", True))
    replacements: list[dict[str, Any]] = []
    offset = None
    # Real dates move before placeholders are replaced, so surrogate dates never move twice.
    if shift_dates:
        max_days = int(getattr(settings, "IMPORT_DATE_SHIFT_MAX_DAYS", 180))
        candidate = generator.date_shift_days(max_days=max_days)
        text, changes = _shift_dates(text, offset=candidate, language=language)
        if changes:
            offset = candidate
            replacements.extend(changes)
    # Surrogate dates start near the report's own (shifted) dates, keeping the stay coherent.
    anchor = _first_date(replacements, language)
    state = _ReportSurrogates(generator, anchor=anchor)

    rules = placeholder_rules() if rules is None else rules
    spans: list[tuple[int, int, str]] = []
    # Earlier rules win an overlap: a full-name token is not also read as its parts.
    for rule in rules:
        for match in rule.pattern.finditer(text):
            start, end = match.span()
            if _is_separator_line(text, match):
                continue
            if any(start < e and s < end for s, e, _k in spans):
                continue
            spans.append((start, end, rule.kind))
    spans.sort()
    pieces: list[str] = []
    cursor = 0
    for start, end, kind in spans:
        token = text[start:end]
        before = text[max(0, start - 14) : start]
        value = state.surrogate(kind=kind, token=token, before=before)
        pieces.append(text[cursor:start])
        pieces.append(value)
        cursor = end
        # A token repeated in the text is listed once in the provenance.
        entry = {"placeholder": token, "kind": kind, "surrogate": value, "offset": offset}
        if entry not in replacements:
            replacements.append(entry)
    pieces.append(text[cursor:])
    return SurrogateResult(text="".join(pieces), replacements=replacements, date_offset_days=offset)
