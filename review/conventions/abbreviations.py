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


def abbreviation_forms(texts: Iterable[str], *, language: str = "fr") -> dict[str, str]:
    """Abbreviation -> SHORT or LONG: the form `texts` (a study's real reports) use more
    often, for each pair either form of which appears; pairs they never write are left out
    (the house style leaves both forms as they are)."""
    counts: Counter[tuple[str, str]] = Counter()
    corpus = list(texts)
    for short, long in PAIRS.get(language, ()):
        short_pattern, long_pattern = _patterns(short, long)
        for text in corpus:
            counts[(short, SHORT)] += len(short_pattern.findall(text))
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
