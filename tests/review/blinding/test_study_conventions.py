"""A study's own house style: its real corpus's abbreviation forms and its corpus's accents,
applied to every report of the study, fixed when it opens."""

import random

import pytest

from review import selectors, services
from review.blinding.audit import blinding_audit
from review.blinding.presentation import normalise_text
from review.blinding.style_profile import style_profile_from_study
from review.conventions import Conventions, study_conventions
from review.conventions.abbreviations import abbreviation_forms, abbreviations_house_style
from review.conventions.accents import corpus_accents
from review.models import Assignment
from tests.factories import ReportFactory, SyntheticReportFactory

# Codes from a seeded stream: the audit's code checks see the same codes every run.
pytestmark = pytest.mark.usefixtures("seeded_codes")

REAL = (
    "MONSIEUR DURAND PAUL, 66 ANS. ENTREE LE 22.05.23.\n"
    "ANTECEDENTS\n- HTA\n- BPCO\n"
    "BIOLOGIE\nHb 11,3 g/dL, PNN 2,1 G/L. Carcinome epidermoide pulmonaire.\n"
    "CONCLUSION\nRCP du 25.05.23."
)
SYNTHETIC = (
    "Monsieur Jean MARTIN, 70 ans. Entrée le 14/03/2024.\n"
    "## Antécédents\n- Hypertension artérielle\n- Bronchopneumopathie chronique obstructive\n"
    "## Biologie\nHémoglobine 12.5 g/dL, polynucléaires neutrophiles 3.2 G/L. "
    "Carcinome épidermoïde pulmonaire.\n"
    "## Conclusion\nRéunion de concertation pluridisciplinaire du 16/03/2024."
)


def test_abbreviation_forms_count_either_spelling_with_or_without_accents():
    assert abbreviation_forms([REAL]) == {"Hb": "short", "PNN": "short", "HTA": "short",
                                          "BPCO": "short", "RCP": "short"}  # fmt: skip
    assert abbreviation_forms(["HYPERTENSION ARTERIELLE, HTA", "hypertension artérielle"]) == {
        "HTA": "long"
    }
    assert abbreviation_forms([REAL], language="en") == {}


def test_abbreviations_in_the_form_the_real_corpus_prefers_both_ways_and_idempotent():
    short = {"Hb": "short", "HTA": "short"}
    line = "Hémoglobine 12,5 g/dL ; hypertension artérielle traitée."
    assert abbreviations_house_style(line, short, language="fr") == "Hb 12,5 g/dL ; HTA traitée."
    long = {"Hb": "long", "HTA": "long"}
    assert abbreviations_house_style("HTA. Hb 11,3 g/dL, HTA.", long, language="fr") == (
        "Hypertension artérielle. Hémoglobine 11,3 g/dL, hypertension artérielle."
    )
    for forms in (short, long):
        once = abbreviations_house_style(line, forms, language="fr")
        assert abbreviations_house_style(once, forms, language="fr") == once
    # "EP" is the abbreviation, "ep" in a word is not.
    assert abbreviations_house_style("Step, EP.", {"EP": "long"}, language="fr") == (
        "Step, embolie pulmonaire."
    )


def test_corpus_accents_learn_what_the_dictionary_lacks_and_not_words_of_their_own():
    learned = corpus_accents([SYNTHETIC, "Dégarélix, entré entre deux cures."])
    assert learned == {"degarelix": "dégarélix", "polynucleaires": "polynucléaires"}
    assert "entre" not in learned  # "entre" is a word: "entré" is not learned over it


def test_both_sources_render_in_the_real_corpus_conventions():
    conventions = Conventions(
        accents=corpus_accents([REAL, SYNTHETIC]),
        abbreviations=abbreviation_forms([REAL]),
    )
    real = normalise_text(REAL, language="fr", conventions=conventions)
    synthetic = normalise_text(SYNTHETIC, language="fr", conventions=conventions)
    assert real == (
        "Monsieur Paul DURAND, 66 ans. Entrée le 22/05/2023.\n\n"
        "Antécédents\n- HTA\n- BPCO\n\n"
        "Biologie\nHb 11,3 g/dL, PNN 2,1 G/L. Carcinome épidermoïde pulmonaire.\n\n"
        "Conclusion\nRCP du 25/05/2023."
    )
    assert synthetic == (
        "Monsieur Jean MARTIN, 70 ans. Entrée le 14/03/2024.\n\n"
        "Antécédents\n- HTA\n- BPCO\n\n"
        "Biologie\nHb 12,5 g/dL, PNN 3,2 G/L. Carcinome épidermoïde pulmonaire.\n\n"
        "Conclusion\nRCP du 16/03/2024."
    )
    assert normalise_text(synthetic, language="fr", conventions=conventions) == synthetic


def _study(coordinator, reviewers, n=6):
    reports = [ReportFactory(text=REAL) for _ in range(n)]
    reports += [SyntheticReportFactory(text=SYNTHETIC) for _ in range(n)]
    study = services.study_create(name="Relecture", created_by=coordinator, raters_per_report=1)
    services.study_reports_add(study=study, reports=reports)
    services.study_reviewers_set(study=study, reviewers=reviewers, actor=coordinator)
    return study


def test_opening_fixes_the_conventions_and_the_rating_page_uses_them(coordinator, reviewers):
    study = _study(coordinator, reviewers)
    draft = study_conventions(study=study)
    assert draft.abbreviations == {
        "Hb": "short", "PNN": "short", "HTA": "short", "BPCO": "short", "RCP": "short"
    }  # fmt: skip
    study = services.study_open(study=study, actor=coordinator)
    study.refresh_from_db()
    assert study.house_style == draft.to_json()
    assignment = Assignment.objects.filter(study=study, report__source="synthetic").first()
    blinded = selectors.reviewer_assignment(reviewer=assignment.reviewer, code=assignment.code)
    assert "Hb 12,5 g/dL, PNN 3,2 G/L" in blinded.text
    assert "Hémoglobine" not in blinded.text and "Réunion de concertation" not in blinded.text


def test_audit_reads_the_text_in_the_study_conventions(coordinator, reviewers):
    """A planted difference the language's house style leaves (abbreviations) is a
    formatting leak without the study's conventions and none with them."""
    rng = random.Random(5)

    def text(short: bool) -> str:
        value = f"{rng.randint(8, 15)},{rng.randint(0, 9)}"
        lab = f"Hb {value} g/dL" if short else f"hémoglobine {value} g/dL"
        return f"Bilan du jour : {lab}, état stable.\nSortie le lendemain."

    reports = [ReportFactory(text=text(True)) for _ in range(12)]
    reports += [SyntheticReportFactory(text=text(False)) for _ in range(12)]
    study = services.study_create(name="Relecture", created_by=coordinator, raters_per_report=1)
    services.study_reports_add(study=study, reports=reports)
    services.study_reviewers_set(study=study, reviewers=reviewers, actor=coordinator)
    plain = [normalise_text(r.text) for r in reports]
    assert plain[0].startswith("Bilan du jour : Hb") and "hémoglobine" in plain[-1]
    result = blinding_audit(study=study, permutations=100)
    assert result.statistics["formatting AUC"] == 0.5
    assert "formatting" not in {finding.check for finding in result.findings}


def test_style_profile_of_a_study_reads_its_real_reports(coordinator, reviewers):
    study = _study(coordinator, reviewers)
    profile = style_profile_from_study(study=study)
    assert profile.reports == 6
    assert profile.abbreviation_forms["Hb"] == "short"
    assert profile.decimal_separator == "comma"
    assert profile.date_styles == ("dotted",)
    assert profile.heading_style == "capitals"
