"""What a study adds to its language's house style, learned from its own corpus.

The house style (`review.blinding.house_style`) is one per language; a study adds the
accented spellings its reports use (`accents`) and the abbreviation form its real reports
prefer (`abbreviations`). Both are applied to every report of the study, whatever its
source. They are fixed when the study opens (`Study.house_style`, written by
`review.services.study_open`): what reviewers read does not change under them; a draft
study's are computed from its current composition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from review.conventions.abbreviations import abbreviation_forms
from review.conventions.accents import corpus_accents

if TYPE_CHECKING:
    from review.models import Study

# Report.Source.REAL; the house style is imported before the models are loaded.
REAL = "real"


@dataclass(frozen=True)
class Conventions:
    accents: Mapping[str, str] = field(default_factory=dict)  # folded word -> accented
    abbreviations: Mapping[str, str] = field(default_factory=dict)  # "Hb" -> short / long

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Conventions:
        data = data or {}
        return cls(
            accents=dict(data.get("accents") or {}),
            abbreviations=dict(data.get("abbreviations") or {}),
        )

    def to_json(self) -> dict[str, Any]:
        return {"accents": dict(self.accents), "abbreviations": dict(self.abbreviations)}


NO_CONVENTIONS = Conventions()


def conventions_build(*, reports: list[tuple[str, str, str]]) -> Conventions:
    """From (text, language, source) rows: accents from every report (the generator spells
    the clinical vocabulary out with its accents), abbreviation forms from the real ones
    (the corpus the study compares against), per the study's language (its first report's)."""
    french = [text for text, language, _source in reports if language == "fr"]
    real = [text for text, _language, source in reports if source == REAL]
    language = reports[0][1] if reports else "fr"
    return Conventions(
        accents=corpus_accents(french),
        abbreviations=abbreviation_forms(real, language=language),
    )


def study_conventions(*, study: Study) -> Conventions:
    """The study's conventions: as fixed at its opening, or from its current reports."""
    if study.house_style:
        return Conventions.from_json(study.house_style)
    return conventions_build(reports=list(study.reports.values_list("text", "language", "source")))
