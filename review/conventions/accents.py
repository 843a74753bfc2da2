"""Which French words an export wrote without their accents, and how they are spelled.

Hospital exports drop accents ("ANTECEDENTS", "Diabete", "Entree le 03.01.22") where the
generator keeps them: left as is, an unaccented word tells the source. A word is given its
accents from three layers, most trusted first:

1. the project's clinical word list (`review/data/accents_fr.txt`, drug and disease names a
   general dictionary lacks);
2. the accented words of the study's own corpus (both sources: the generator writes its
   clinical vocabulary with accents, so "epidermoide" in a real report meets "épidermoïde"
   in a synthetic one), stored with the study's house style;
3. the French frequency dictionary packaged with pyspellchecker (about 140,000 words).

An unaccented spelling that is itself a French word ("entre" beside "entré", "des" beside
"dès", "a" beside "à") is left alone whenever the dictionary finds it at least as common as
the accented one (a fifth as common for the dictionary's own layer): restoring is only for
words that are nearly always written with their accents.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

CLINICAL_WORDS = Path(__file__).parent.parent / "data" / "accents_fr.txt"
# The dictionary's accented spelling must be this many times as common as the unaccented
# one: "côté" (96,947) over "cote" (2,235) is restored, "marché" (40,148) over "marche"
# (72,757) is not.
DICTIONARY_RATIO = 5
# Below this many occurrences a dictionary spelling is noise (subtitles' typos).
DICTIONARY_MIN_COUNT = 5
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿœŒæÆ][A-Za-zÀ-ÖØ-öø-ÿœŒæÆ-]*[A-Za-zÀ-ÖØ-öø-ÿœŒæÆ]")


def fold(text: str) -> str:
    """Lower case without accents, straight apostrophes: "ANTECEDENTS" ~ "Antécédents"."""
    if text.isascii():
        return text.lower()  # the same result, without decomposing: most words are ASCII
    decomposed = unicodedata.normalize("NFD", text.lower().replace("\u2019", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def dictionary_counts() -> dict[str, int]:
    """Word -> frequency of pyspellchecker's French dictionary (lower case)."""
    data = resources.files("spellchecker").joinpath("resources", "fr.json.gz").read_bytes()
    counts: dict[str, int] = json.loads(gzip.decompress(data))
    return counts


def _is_common_unaccented(bare: str, accented: str, *, ratio: float) -> bool:
    """Whether the unaccented spelling is a word in its own right, too common beside the
    accented one to be an export's dropped accents."""
    counts = dictionary_counts()
    unaccented = counts.get(bare, 0)
    return unaccented > 0 and unaccented * ratio > counts.get(accented, 0)


@lru_cache(maxsize=1)
def dictionary_lexicon() -> dict[str, str]:
    """Folded word -> its usual accented spelling, from the packaged dictionary."""
    best: dict[str, tuple[int, str]] = {}
    for word, count in dictionary_counts().items():
        # Two-letter words are left out: "ça" for "CA" (CA 19-9) does more harm than good.
        if count < DICTIONARY_MIN_COUNT or len(word) < 3 or word.isascii():
            continue
        key = fold(word)
        if not key.isascii() or (key in best and best[key][0] >= count):
            continue  # "œ" and other letters without an ASCII fold are not restored
        best[key] = (count, word)
    return {
        key: word
        for key, (_count, word) in best.items()
        if not _is_common_unaccented(key, word, ratio=DICTIONARY_RATIO)
    }


@lru_cache(maxsize=1)
def clinical_lexicon() -> dict[str, str]:
    """Folded word -> accented spelling, from the project's clinical word list; a word the
    dictionary finds more common unaccented ("entre" for "entré") is left out."""
    words = [
        line.strip()
        for line in CLINICAL_WORDS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return {
        fold(word): word
        for word in words
        if fold(word) != word and not _is_common_unaccented(fold(word), word, ratio=1)
    }


def corpus_accents(texts: Iterable[str]) -> dict[str, str]:
    """Folded word -> accented spelling, learned from a corpus (a study's reports): each
    accented word seen, in its most frequent spelling, unless the unaccented spelling is a
    common word of its own or the corpus writes it more often without accents. Only what the
    clinical list and the dictionary do not already know is kept (it is stored per study)."""
    seen: Counter[str] = Counter()
    for text in texts:
        seen.update(word.lower() for word in _WORD.findall(unicodedata.normalize("NFC", text)))
    best: dict[str, tuple[int, str]] = {}
    for word, count in seen.items():
        key = fold(word)
        if word == key or not key.isascii():
            continue
        if key not in best or best[key][0] < count:
            best[key] = (count, word)
    known = {**dictionary_lexicon(), **clinical_lexicon()}
    return {
        key: word
        for key, (count, word) in sorted(best.items())
        if known.get(key) != word
        and seen.get(key, 0) <= count
        and not _is_common_unaccented(key, word, ratio=1)
    }


def accented(bare: str, extra: Mapping[str, str] | None = None) -> str | None:
    """The accented spelling of a folded word: the clinical list first, then the study's
    corpus (`extra`), then the dictionary; None when the word keeps its spelling."""
    clinical = clinical_lexicon().get(bare)
    if clinical is not None:
        return clinical
    if extra:
        learned = extra.get(bare)
        if learned is not None:
            return learned
    return dictionary_lexicon().get(bare)
