"""Words in a study's name or description that would tell reviewers about the sources.

Reviewers see the study's name on their home page and in every page title, and may see its
description. "Real vs LLM reports, round 2" tells them half the queue is generated, which
is enough to change how they read. The coordinator is warned (not refused: the words may be
intended for a pilot).
"""

import re

# The audit's source words and the ones studies tend to be named with.
STUDY_SOURCE_WORDS = (
    *("synthetic", "synthétique", "synthétiques", "synthetique", "synthetiques"),
    *("real", "réel", "réels", "réelle", "réelles", "reel", "reels", "vrai", "vrais"),
    *("generated", "généré", "générés", "générée", "générées", "genere", "generes"),
    *("llm", "mistral", "gpt", "chatgpt", "ia", "ai", "artificial", "artificiel", "artificielle"),
    *("human", "humain", "humains", "fake", "batch", "imported", "importé", "importés", "lot"),
)
_PATTERN = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(word) for word in STUDY_SOURCE_WORDS) + r")(?![\w-])",
    re.IGNORECASE,
)


def study_source_words(*, name: str, description: str) -> list[str]:
    """The source words found, lower-cased, each once, in order of appearance."""
    found: list[str] = []
    for match in _PATTERN.finditer(f"{name}\n{description}"):
        word = match.group(1).lower()
        if word not in found:
            found.append(word)
    return found
