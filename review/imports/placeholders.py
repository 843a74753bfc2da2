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

from review.surrogates import SurrogateGenerator, years_before
from review.timeline import (
    BARE_YEAR,
    EN_TEXT_DATE,
    FR_TEXT_DATE,
    ISO_DATE,
    ISO_MONTH_YEAR,
    MONTHS,
    NUMERIC_DATE,
    NUMERIC_MONTH_YEAR,
    Timeline,
    digit_run_starts,
    lower_case,
    role_before,
    sub_at,
    text_date_written,
    text_dates_sub,
    timeline_build,
    year_written,
)

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
    # The look-aheads only speed up the scan (see review.timeline): they change no match.
    ("name", r"(?=\*)(?<![*\w])\*{3,}(?![*\w])"),
    ("name", r"(?=X)\bX{3,}\b"),
)
# What a match of each default pattern must contain, one of: a report without any is not
# scanned with it (most reports have no placeholder, and `in` is 100x faster than a scan).
# Tokens open with "[" or "<"; the masks are three asterisks, or three x in any case (the
# patterns are case-insensitive, and only "x" and "X" match "X" so): "xxx" in the text's
# lower case, where only "x" and "X" give an "x" (one scan, not one per spelling).
_TOKEN_NEEDS = ("[", "<")
_MASK_NEEDS = {DEFAULT_PATTERNS[-2][1]: ("***",)}
_LOWERCASE_MASK_NEEDS = {DEFAULT_PATTERNS[-1][1]: ("xxx",)}

# Anything shaped like a placeholder, configured or not: what the audit counts as leftovers.
GENERIC_PLACEHOLDER = re.compile(
    r"(?=[\[<*X])(?:[\[<][A-ZÀÂÉÈÊÎÔÛÇ][A-ZÀÂÉÈÊÎÔÛÇ _'-]{1,30}(?:[ _-]?\d{1,3})?[\]>]"
    r"|(?<![*\w])\*{3,}(?![*\w])|\bX{3,}\b)"
)
_GENERIC_NEEDS = ("[", "<", "***", "XXX")  # one of them is in every match (case-sensitive)

_FR_TEXT_DATE = FR_TEXT_DATE
_EN_TEXT_DATE = EN_TEXT_DATE
_NUMERIC_DATE = NUMERIC_DATE
_ISO_DATE = ISO_DATE
_NUMERIC_MONTH_YEAR = NUMERIC_MONTH_YEAR
_ISO_MONTH_YEAR = ISO_MONTH_YEAR

# Searched before every placeholder; the look-aheads speed the scans (see review.timeline).
_FEMALE_BEFORE = re.compile(
    r"(?=[mn])\b(mme|madame|mlle|mademoiselle|mrs|ms|miss|née)\.?\s*$", re.I
)
_MALE_BEFORE = re.compile(r"(?=m)\b(m|monsieur|mr)\.?\s*$", re.I)
_TITLE_BEFORE = re.compile(r"(?=[dp])\b(dr|docteur|pr|professeur|doctor|prof)\.?\s*$", re.I)


@dataclass(frozen=True)
class PlaceholderRule:
    kind: str
    pattern: re.Pattern[str]
    # Strings of which every match contains one (the default rules'); empty: always scan.
    needs: tuple[str, ...] = ()
    # Whether they are looked for in the text's lower case.
    needs_lowercase: bool = False

    def may_match(self, text: str) -> bool:
        if not self.needs:
            return True
        haystack = lower_case(text) if self.needs_lowercase else text
        return any(needed in haystack for needed in self.needs)


@dataclass
class SurrogateResult:
    text: str
    replacements: list[dict[str, Any]] = field(default_factory=list)
    date_offset_days: int | None = None
    # The timeline of `text` when it was built already (no placeholder changed the text the
    # surrogates were framed on), so the coherence check need not build it again.
    timeline: Timeline | None = None

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
    PlaceholderRule(
        kind=kind,
        pattern=re.compile(pattern, re.IGNORECASE),
        needs=_LOWERCASE_MASK_NEEDS.get(pattern, _MASK_NEEDS.get(pattern, _TOKEN_NEEDS)),
        needs_lowercase=pattern in _LOWERCASE_MASK_NEEDS,
    )
    for kind, pattern in DEFAULT_PATTERNS
)


def placeholders_find(text: str) -> list[str]:
    """Placeholder-shaped tokens left in a text (configured patterns and generic shapes)."""
    rules = _rules_that_may_match(text, placeholder_rules())
    found = [m for rule in rules for m in rule.pattern.finditer(text)]
    if any(needed in text for needed in _GENERIC_NEEDS):
        found += list(GENERIC_PLACEHOLDER.finditer(text))
    return sorted({m.group(0) for m in found if not _is_separator_line(text, m)})


def _rules_that_may_match(text: str, rules: tuple[PlaceholderRule, ...]) -> list[PlaceholderRule]:
    """`rules` less those that cannot match `text`, in order. Thirteen default rules share
    their needs: each set of needs is looked for in the text once."""
    answers: dict[tuple[tuple[str, ...], bool], bool] = {}
    kept = []
    for rule in rules:
        key = (rule.needs, rule.needs_lowercase)
        if key not in answers:
            answers[key] = rule.may_match(text)
        if answers[key]:
            kept.append(rule)
    return kept


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


# Counted over the whole text: the look-aheads make the scans fast (see review.timeline).
_FEMALE_WORDS = re.compile(
    r"(?=[mpnâah])"
    r"\b(?:madame|mme|mlle|mademoiselle|patiente|née|âgée|agee|hospitalisée|adressée|mrs|ms)\b",
    re.I,
)
_MALE_WORDS = re.compile(
    r"(?=[mpnâah])(?:(?<!\w)M\.(?=\s)"
    r"|\b(?:monsieur|patient|né|âgé|hospitalisé|adressé|mr)\b(?!\(e\)))",
    re.I,
)
# Institution words already written before a <HOPITAL> token: only a town is missing.
_INSTITUTION_BEFORE = re.compile(
    r"(?=[chpi])(?:centre\s+hospitalier(?:\s+(?:universitaire|r[ée]gional|intercommunal))?"
    r"|\bCHU|\bCHR|\bCHI|\bCH|h[ôo]pital|clinique|polyclinique|institut|centre\s+de\s+lutte\s+contre\s+le"
    r"\s+cancer|\bCLCC|hospital|infirmary)(?:\s+(?:de|du|d'))?\s*$",
    re.I,
)
# A mask where a date belongs: "le ***", "né le XXX".
_DATE_BEFORE = re.compile(r"(?=[ldao])\b(?:le|du|au|on)\s*$", re.I)
# After "en"/"depuis" French writes a month and a year ("découvert en juin 2024"), never a
# full date ("découvert en 29/06/2024"); English "in"/"since" likewise.
_MONTH_YEAR_BEFORE = re.compile(
    r"(?=[edis])\b(?:en|depuis|d[èe]s|in|since)\s+(?:(?:fin|d[ée]but|mi-?|courant)\s+)?$", re.I
)


def report_sex(text: str) -> str | None:
    """The patient's sex as the report's own words tell it (titles, "née", agreement), or
    None when they do not say: surrogate names then agree with "Madame", "née"."""
    female, male = len(_FEMALE_WORDS.findall(text)), len(_MALE_WORDS.findall(text))
    if female == male:
        return None
    return "F" if female > male else "M"


def _sex_before(before: str) -> str | None:
    return "F" if _FEMALE_BEFORE.search(before) else "M" if _MALE_BEFORE.search(before) else None


def month_year_style(text: str, *, language: str) -> str:
    """How this report writes a date known to its month: "numeric" ("06/2024") when it
    writes them so, "year" when it only ever writes years alone after "en"/"depuis", else
    "text" ("juin 2024")."""
    if not year_written(text):
        return "text"  # none of the patterns below can match
    if NUMERIC_MONTH_YEAR.search(text) or ISO_MONTH_YEAR.search(text):
        return "numeric"
    text_dates = FR_TEXT_DATE if language == "fr" else EN_TEXT_DATE
    if BARE_YEAR.search(text) and not text_dates.search(text):
        return "year"
    return "text"


def format_month_year(value: dt.date, *, style: str, language: str, upper: bool) -> str:
    if style == "numeric":
        return f"{value.month:02d}/{value.year}"
    if style == "year":
        return str(value.year)
    month = MONTHS["fr" if language == "fr" else "en"][value.month - 1]
    written = f"{month} {value.year}"
    return written.upper() if upper else written


def _years_after(day: dt.date, years: int) -> dt.date:
    return years_before(day, -years)


def stay_frame(timeline: Timeline, generator: SurrogateGenerator) -> tuple[dt.date, dt.date]:
    """The stay (admission, discharge) the report's own dates imply, drawing only what they
    leave open. Surrogate dates are then placed by role inside or around it."""
    rnd = generator.random
    admissions = [m.day for m in timeline.of_role("admission")]
    discharges = [m.day for m in timeline.of_role("discharge")]
    during = [m.day for m in timeline.of_role("other", "visit", "rcp")]
    later = [m.day for m in timeline.of_role("followup", "letter")]
    history = [m.day for m in timeline.of_role("history")]
    birth, age = timeline.birth, timeline.age
    if admissions:
        start = min(admissions)
    elif discharges:
        start = min(discharges) - dt.timedelta(days=rnd.randint(2, 10))
    elif during:
        start = min(during)
    elif later:
        start = min(later) - dt.timedelta(days=rnd.randint(14, 45))
    elif history:
        start = max(history) + dt.timedelta(days=rnd.randint(7, 30))
    elif birth is not None and age is not None:
        # Only a real birth date and an age: the stay is when the patient had that age.
        start = _years_after(birth, age) + dt.timedelta(days=rnd.randint(0, 300))
    else:
        start = generator.date_anchor()
    if discharges:
        return start, max(discharges)
    end = start + dt.timedelta(days=rnd.randint(2, 10))
    end = max([end, *during])
    if later:
        end = max(start, min(end, min(later)))
    return start, end


class _ReportSurrogates:
    """The surrogates of one report, drawn against its timeline and remembered by token."""

    def __init__(
        self, generator: SurrogateGenerator, *, timeline: Timeline, patient_sex: str | None
    ) -> None:
        self.gen = generator
        self.timeline = timeline
        self.by_token: dict[tuple[str, str], str] = {}
        self.people: dict[str, tuple[str, str, str]] = {}
        self.patient_sex = patient_sex
        self.start, self.end = stay_frame(timeline, generator)
        self.birth: dt.date | None = timeline.birth
        followups = [m.day for m in timeline.of_role("followup")]
        self.last_followup = max([self.end, *followups])
        self.last_other = self.start
        self.fresh = 0

    def _suffix(self, token: str) -> str:
        digits = re.search(r"(\d{1,3})[\]>]$", token)
        return digits.group(1) if digits else ""

    def _person(self, key: str, *, sex: str | None) -> tuple[str, str, str]:
        if key not in self.people:
            sex = sex or self.gen.random.choice("FM")
            first = self.gen.first_name(sex=sex)
            self.people[key] = (first, self.gen.last_name(avoid=first), sex)
        return self.people[key]

    def _new_person(self, *, sex: str | None) -> tuple[str, str, str]:
        self.fresh += 1
        return self._person(f"other{self.fresh}", sex=sex)

    def _patient(self, *, sex: str | None, suffix: str = "") -> tuple[str, str, str]:
        if not suffix and self.patient_sex is None and sex is not None:
            self.patient_sex = sex
        return self._person(f"patient{suffix}", sex=sex or self.patient_sex)

    def _birth_date(self) -> dt.date:
        if self.birth is None:
            self.birth = self.gen.birth_date(reference=self.start, age=self.timeline.age)
        return self.birth

    def _date(self, role: str) -> dt.date:
        rnd = self.gen.random
        if role == "birth":
            return self._birth_date()
        if role == "admission":
            return self.start
        if role == "discharge":
            return self.end
        if role == "followup":
            self.last_followup += dt.timedelta(days=rnd.randint(14, 56))
            return self.last_followup
        if role == "letter":
            return self.end + dt.timedelta(days=rnd.randint(0, 3))
        if role == "history":
            return self.start - dt.timedelta(days=rnd.randint(7, 120))
        # rcp and unlabelled dates: inside the stay, in reading order.
        self.last_other = self.gen.date_between(max(self.start, self.last_other), self.end)
        return self.last_other

    def name_group(self, *, count: int, before: str, upper: bool) -> str:
        """A run of masks ("*** ***") is one person: first name then surname, never the same
        surname twice. A title before it decides who: "Dr" a physician, "Madame"/"Monsieur"
        the patient when the sex agrees, anyone else a new person."""
        sex = _sex_before(before)
        if _TITLE_BEFORE.search(before):
            first, last, _sex = self._new_person(sex=None)
        elif sex is not None and (self.patient_sex in (None, sex)):
            first, last, _sex = self._patient(sex=sex)
        else:
            first, last, _sex = self._new_person(sex=sex)
        # French reports write a family name in capitals; the first name keeps its case
        # unless the whole line is written in capitals.
        first = first.upper() if upper else first
        return last.upper() if count == 1 else f"{first} {last.upper()}"

    def surrogate(
        self, *, kind: str, token: str, before: str, role: str, month_style: str = ""
    ) -> str:
        key = (kind, token.upper())
        suffix = self._suffix(token)
        # An unnumbered [DATE] stands for a different date at each occurrence (tools mask
        # every date with the same token); a numbered one is one date throughout.
        remembered = kind != "date" or bool(suffix)
        if remembered and key in self.by_token:
            return self.by_token[key]
        sex = _sex_before(before)
        gen = self.gen
        if kind in ("last_name", "first_name", "full_name"):
            first, last, _sex = self._patient(sex=sex, suffix=suffix)
            value = {"last_name": last, "first_name": first, "full_name": f"{first} {last}"}[kind]
            if kind == "last_name" and token.isupper():
                value = value.upper()  # French reports write the family name in capitals
        elif kind == "physician":
            first, last, _sex = self._person(f"physician{suffix}", sex=sex)
            value = f"{first} {last}" if _TITLE_BEFORE.search(before) else f"Dr {first} {last}"
        elif kind == "date" and month_style:
            value = format_month_year(
                self._date(role),
                style=month_style,
                language=gen.language,
                upper=before.isupper(),
            )
        elif kind == "date":
            value = gen.format_date(self._date(role))
        elif kind == "birth_date":
            value = gen.format_date(self._birth_date())
        elif kind == "hospital":
            institution = _INSTITUTION_BEFORE.search(before)
            if institution:
                value = gen.hospital_completion(prefix=institution.group(0))
            else:
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
        if remembered:
            self.by_token[key] = value
        return value


def _month_shift(year: int, month: int, offset: int) -> dt.date:
    """Where a date known only to its month lands: its middle (the 15th), shifted. Within a
    report this keeps month-only dates in step with the full dates shifted by the same offset
    (to within half a month), so the chronology a physician reads stays true."""
    return dt.date(year, month, 15) + dt.timedelta(days=offset)


class _DateShifter:
    """The `re.sub` callbacks that move each date format by one offset, recording every
    change for the report's provenance. A date that does not exist (31/02), or that the
    offset would move out of the calendar (0001-01-02, 31/12/9999: no stay's date), stays
    as is."""

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
        if sep == "-" and len(year) == 2:
            return match.group(0)  # "1-22-43": a regimen's days, not a date
        day, month = (b, a) if self.month_first else (a, b)
        full_year = int(year) if len(year) == 4 else 2000 + int(year)
        # A two-digit year past next year is last century's (a birth date, say).
        if len(year) == 2 and full_year > dt.date.today().year + 1:
            full_year -= 100
        try:
            value = dt.date(full_year, int(month), int(day)) + dt.timedelta(days=self.offset)
        except (ValueError, OverflowError):
            return match.group(0)
        # Keep the original's zero padding and year width: "3/4/21" stays short.
        d, m = f"{value.day:0{len(day)}d}", f"{value.month:0{len(month)}d}"
        y = f"{value.year:04d}" if len(year) == 4 else f"{value.year % 100:02d}"
        parts = (m, d) if self.month_first else (d, m)
        return self._record(match.group(0), f"{parts[0]}{sep}{parts[1]}{sep}{y}")

    def iso(self, match: re.Match[str]) -> str:
        try:
            value = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            value += dt.timedelta(days=self.offset)
        except (ValueError, OverflowError):
            return match.group(0)
        return self._record(match.group(0), value.isoformat())

    def french(self, match: re.Match[str]) -> str:
        name = match.group(3).lower().replace("fevrier", "février").replace("aout", "août")
        name = name.replace("decembre", "décembre")
        year, month = int(match.group(4)), MONTHS["fr"].index(name) + 1
        if match.group(1) is None:
            value = _month_shift(year, month, self.offset)
            return self._record(match.group(0), f"{MONTHS['fr'][value.month - 1]} {value.year}")
        try:
            value = dt.date(year, month, int(match.group(1))) + dt.timedelta(days=self.offset)
        except (ValueError, OverflowError):
            return match.group(0)
        day = "1er" if value.day == 1 and match.group(2) else str(value.day)
        return self._record(match.group(0), f"{day} {MONTHS['fr'][value.month - 1]} {value.year}")

    def english(self, match: re.Match[str]) -> str:
        names = [m.lower() for m in MONTHS["en"]]
        year, month = int(match.group(3)), names.index(match.group(1).lower()) + 1
        if match.group(2) is None:
            value = _month_shift(year, month, self.offset)
            return self._record(match.group(0), f"{MONTHS['en'][value.month - 1]} {value.year}")
        try:
            value = dt.date(year, month, int(match.group(2))) + dt.timedelta(days=self.offset)
        except (ValueError, OverflowError):
            return match.group(0)
        shifted = f"{MONTHS['en'][value.month - 1]} {value.day}, {value.year}"
        return self._record(match.group(0), shifted)

    def year(self, match: re.Match[str], *, delta: int, latest: int | None) -> str:
        """A year alone ("en 2018", "depuis 2019") moves with the stay: by as many years as
        the offset moves the stay's own start, so "the year of the stay" and "two years
        before" stay true; a history year never lands after the (shifted) stay's year."""
        year = int(match.group(1)) + delta
        if latest is not None and role_before(match.string, match.start(1)) not in (
            "followup",
            "rcp",
            "letter",
        ):
            year = min(year, latest)
        if year == int(match.group(1)):
            return match.group(0)
        cut = match.start(1) - match.start(0)
        shifted = f"{match.group(0)[:cut]}{year}{match.group(0)[cut + 4 :]}"
        self._record(match.group(1), str(year))
        return shifted

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
    Years alone ("en 2018", never a code such as "pT2/2019" or "TNM 2017") move by the
    years the stay's own start moves, and never past it."""
    shifter = _DateShifter(offset=offset, language=language)
    # The stay's start only matters to years alone: most reports have none, and building the
    # timeline is the costliest step of an import.
    years = year_written(text) and BARE_YEAR.search(text)
    stay = timeline_build(text, language=language).stay_start if years else None
    if stay is not None:
        moved = (stay + dt.timedelta(days=offset)).year
        delta, latest = moved - stay.year, moved
        text = BARE_YEAR.sub(lambda m: shifter.year(m, delta=delta, latest=latest), text)
    # Full numeric dates first: what they leave behind is never a month-year pattern (the
    # look-arounds refuse a neighbouring digit or separator), so nothing shifts twice.
    # These four patterns are tried only where a run of digits starts (timeline.finditer_at);
    # the runs of a text are kept, so an unchanged text does not look for them again.
    text = sub_at(_ISO_DATE, shifter.iso, text, digit_run_starts(text))
    text = sub_at(_NUMERIC_DATE, shifter.numeric, text, digit_run_starts(text))
    # Without "19" or "20" none of the four below matches, so none changes the text.
    if year_written(text):
        text = sub_at(_ISO_MONTH_YEAR, shifter.iso_month_year, text, digit_run_starts(text))
        text = sub_at(_NUMERIC_MONTH_YEAR, shifter.numeric_month_year, text, digit_run_starts(text))
    # Likewise without " 19" or " 20" for dates in words (those above never write one).
    if text_date_written(text):
        text = text_dates_sub(_FR_TEXT_DATE, shifter.french, text)
        text = text_dates_sub(_EN_TEXT_DATE, shifter.english, text)
    return text, shifter.changes


def _spans(text: str, rules: tuple[PlaceholderRule, ...]) -> list[tuple[int, int, str, int]]:
    """Placeholder spans in text order as (start, end, kind, mask count); earlier rules win an
    overlap (a full-name token is not also read as its parts) and masks separated by one space
    merge into one group ("*** ***" is one person's first name and surname)."""
    spans: list[tuple[int, int, str]] = []
    for rule in _rules_that_may_match(text, rules):
        for match in rule.pattern.finditer(text):
            start, end = match.span()
            if _is_separator_line(text, match):
                continue
            if any(start < e and s < end for s, e, _k in spans):
                continue
            spans.append((start, end, rule.kind))
    spans.sort()
    grouped: list[tuple[int, int, str, int]] = []
    for start, end, kind in spans:
        if grouped:
            p_start, p_end, p_kind, count = grouped[-1]
            if kind == p_kind == "name" and text[p_end:start] == " ":
                grouped[-1] = (p_start, end, kind, count + 1)
                continue
        grouped.append((start, end, kind, 1))
    return grouped


def surrogates_apply(
    text: str,
    *,
    language: str,
    generator: SurrogateGenerator | None = None,
    seed: int | None = None,
    shift_dates: bool | None = None,
    rules: tuple[PlaceholderRule, ...] | None = None,
) -> SurrogateResult:
    """Replace placeholders in one report by coherent surrogates; shift its real dates.

    Real dates move first (one offset per report, so intervals stay true); then the report's
    timeline (every date in any written form with its role, every stated age) frames the
    surrogates: a birth date agrees with the stated age at the stay, an admission, discharge
    or follow-up date keeps its place in the chronology, names agree with the patient's sex.
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
    timeline = timeline_build(text, language=language)
    rules = placeholder_rules() if rules is None else rules
    spans = _spans(text, rules)
    # The patient's sex and the month-year style serve only the placeholders: most reports
    # have none, and each costs scans of the whole text.
    state = _ReportSurrogates(
        generator, timeline=timeline, patient_sex=report_sex(text) if spans else None
    )
    style = month_year_style(text, language=language) if spans else ""
    pieces: list[str] = []
    cursor = 0
    for start, end, kind, count in spans:
        token = text[start:end]
        line_start = text.rfind("\n", 0, start) + 1
        before = text[max(line_start, start - 60) : start]
        role = role_before(text, start)
        if kind == "name" and role == "birth":
            kind = "birth_date"  # "né le XXX": the mask hides a date
        elif kind == "name" and _DATE_BEFORE.search(before) and not _TITLE_BEFORE.search(before):
            kind = "date"
        if kind == "name":
            line_end = text.find("\n", end)
            line = text[line_start : line_end if line_end != -1 else len(text)]
            letters = re.sub(r"[^A-Za-zÀ-ÿ]", "", line.replace(token, ""))
            upper = len(letters) > 3 and letters == letters.upper()
            value = state.name_group(count=count, before=before, upper=upper)
        else:
            month_style = ""
            if kind == "date" and _MONTH_YEAR_BEFORE.search(before):
                month_style = style
            value = state.surrogate(
                kind=kind, token=token, before=before, role=role, month_style=month_style
            )
        pieces.append(text[cursor:start])
        pieces.append(value)
        cursor = end
        # A token repeated in the text is listed once in the provenance.
        entry = {"placeholder": token, "kind": kind, "surrogate": value, "offset": offset}
        if entry not in replacements:
            replacements.append(entry)
    pieces.append(text[cursor:])
    return SurrogateResult(
        text="".join(pieces),
        replacements=replacements,
        date_offset_days=offset,
        timeline=None if spans else timeline,  # no placeholder: `text` is the one it was built on
    )
