"""One abbreviation convention per study: "Hb" or "hémoglobine", whichever its real reports use.

Hospital exports abbreviate ("Hb 11,3 g/dL", "HTA", "PNN") where the generator tends to
write words out ("Hémoglobine 11,5 g/dL", "hypertension artérielle"). A study's style
profile counts, for each pair below, which form its real reports use; the house style then
writes every report of the study, real or synthetic, in that form. Only pairs whose
abbreviation means one thing in a French oncology report are listed, so expanding one is as
safe as contracting it ("PA" is both paquets-années and pression artérielle: not listed).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache

from review.conventions.accents import fold

SHORT = "short"
LONG = "long"

# (abbreviation, spelled-out form as a report writes it mid-sentence)
PAIRS_FR: tuple[tuple[str, str], ...] = (
    ("Hb", "hémoglobine"),
    ("PNN", "polynucléaires neutrophiles"),
    ("HTA", "hypertension artérielle"),
    ("BPCO", "bronchopneumopathie chronique obstructive"),
    ("RCP", "réunion de concertation pluridisciplinaire"),
    ("AEG", "altération de l'état général"),
    ("TVP", "thrombose veineuse profonde"),
    ("EP", "embolie pulmonaire"),
    ("IDM", "infarctus du myocarde"),
    ("AVC", "accident vasculaire cérébral"),
    ("HBPM", "héparine de bas poids moléculaire"),
    ("NFS", "numération formule sanguine"),
    ("DFG", "débit de filtration glomérulaire"),
    ("CRP", "protéine C réactive"),
    ("TDM", "tomodensitométrie"),
    ("IRM", "imagerie par résonance magnétique"),
    ("TEP-TDM", "tomographie par émission de positons"),
)
PAIRS = {"fr": PAIRS_FR, "en": ()}


def _letters(word: str) -> str:
    """A regular expression for `word` with or without its accents ("h[eé]moglobine")."""
    out = []
    for ch in word:
        bare = fold(ch)
        out.append(f"[{bare}{ch}]" if bare != ch else ("['\u2019]" if ch == "'" else re.escape(ch)))
    return "".join(out)


@cache
def _patterns(short: str, long: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The abbreviation as written (case matters: "EP" is not "ep"), and the spelled-out
    form in any case, with or without accents, over any run of spaces."""
    short_pattern = re.compile(rf"(?<![\w-]){re.escape(short)}(?![\w-])")
    words = [_letters(word) for word in long.split()]
    long_pattern = re.compile(r"(?<![\w-])" + r"\s+".join(words) + r"(?![\w-])", re.IGNORECASE)
    return short_pattern, long_pattern


def _casefolded(text: str) -> str:
    # Python's case-insensitive matching also takes "ı" (dotless i) and "İ" for "i", which
    # casefold() keeps as "ı" and "i" + a combining dot: made plain "i" here, so that no text
    # the pattern matches lacks the clue (checked over every Unicode character in a test).
    return text.casefold().replace("\u0131", "i").replace("\u0307", "")


@cache
def _long_clue(long: str) -> str:
    """The longest run of ASCII letters of the spelled-out form, case-folded: every text the
    long pattern matches holds it (accented letters match with or without their accent,
    ASCII ones only as themselves, in any case), so a text without it is not scanned."""
    runs = re.findall(r"[a-z]+", long.casefold())
    return max(runs, key=len)


def abbreviation_forms(texts: Iterable[str], *, language: str = "fr") -> dict[str, str]:
    """Abbreviation -> SHORT or LONG: the form `texts` (a study's real reports) use more
    often, for each pair either form of which appears; pairs they never write are left out
    (the house style leaves both forms as they are)."""
    counts: Counter[tuple[str, str]] = Counter()
    corpus = [(text, _casefolded(text)) for text in texts]
    for short, long in PAIRS.get(language, ()):
        short_pattern, long_pattern = _patterns(short, long)
        long_clue = _long_clue(long)
        # Most reports write neither form of most pairs: a substring test (a fraction of a
        # regular-expression scan) leaves out the texts that cannot match, so a study of
        # 2,000 reports opens in a fraction of a second rather than two.
        for text, casefolded in corpus:
            if short in text:
                counts[(short, SHORT)] += len(short_pattern.findall(text))
            if long_clue in casefolded:
                counts[(short, LONG)] += len(long_pattern.findall(text))
    forms = {}
    for short, _long in PAIRS.get(language, ()):
        n_short, n_long = counts[(short, SHORT)], counts[(short, LONG)]
        if n_short or n_long:
            forms[short] = SHORT if n_short >= n_long else LONG
    return forms


def _sentence_start(line: str, index: int) -> bool:
    before = line[:index].rstrip()
    return not before or before[-1] in ".:!?;-\u2022"


def abbreviations_house_style(line: str, forms: Mapping[str, str], *, language: str) -> str:
    """`line` with every listed pair in the form `forms` says; idempotent."""
    if not forms:
        return line
    for short, long in PAIRS.get(language, ()):
        form = forms.get(short)
        if form is None:
            continue
        short_pattern, long_pattern = _patterns(short, long)
        if form == SHORT:
            line = long_pattern.sub(short, line)
            continue

        def expand(match: re.Match[str], long: str = long) -> str:
            if _sentence_start(match.string, match.start()):
                return long[:1].upper() + long[1:]
            return long

        line = short_pattern.sub(expand, line)
    return line
