"""Context words give a `[DATE]` its place and its form: a visit lands in the report's own
period (never on the birth date), "en"/"depuis" take a month and a year, and years alone move
with the report's date shift without ever passing the stay."""

import datetime as dt
import re

import pytest

from review.coherence import report_coherence_check
from review.imports.placeholders import surrogates_apply
from review.surrogates import age_on
from review.timeline import dates_find, role_before


def _day(value: str) -> dt.date:
    return dt.datetime.strptime(value, "%d/%m/%Y").date()


# --- 1. visits and admissions anchor to the stay; only "né(e) le", DDN, date de naissance
# --- give the birth role.


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("MONSIEUR [NOM], NÉ LE 03/05/1951, 72 ANS. VENU LE [DATE]", "visit"),
        ("Madame [NOM], née le 03/05/1951, venue le [DATE]", "visit"),
        ("Patient né le 03/05/1951, venu(e) le [DATE]", "visit"),
        ("Née le 03/05/1951. Vue le [DATE]", "visit"),
        ("Née le 03/05/1951. Consultation du [DATE]", "visit"),
        ("Né le 03/05/1951, admis le [DATE]", "admission"),
        ("Il ne fume plus, venue le [DATE]", "visit"),
        ("Il ne fume plus depuis le [DATE]", "history"),
        ("Né le [DATE]", "birth"),
        ("Née le : [DATE]", "birth"),
        ("DDN : [DATE]", "birth"),
        ("Date de naissance [DATE]", "birth"),
    ],
)
def test_only_birth_words_touching_the_date_give_the_birth_role(text, role):
    assert role_before(text, text.index("[DATE]")) == role


def test_visit_in_capitals_after_a_real_birth_date_lands_in_the_stay():
    text = "MONSIEUR [NOM], NÉ LE 03/05/1951, 72 ANS. VENU LE [DATE] POUR BILAN."
    result = surrogates_apply(text, language="fr", seed=1)
    assert result.text == (
        "MONSIEUR COLAS, NÉ LE 11/01/1951, 72 ANS. VENU LE 31/10/2023 POUR BILAN."
    )
    for seed in range(30):
        result = surrogates_apply(text, language="fr", seed=seed)
        birth, visit = re.findall(r"\d\d/\d\d/\d{4}", result.text)
        assert visit != birth
        assert age_on(_day(birth), _day(visit)) == 72
        assert report_coherence_check(text=result.text, language="fr") == []


def test_visit_and_admission_words_fall_inside_the_reports_stay():
    text = (
        "Madame [NOM], née le 03/05/1951. Venue le [DATE] en consultation. "
        "Entrée le 12/03/2024, sortie le 15/03/2024."
    )
    result = surrogates_apply(text, language="fr", seed=1)
    assert result.text == (
        "Madame COLAS, née le 11/01/1951. Venue le 21/11/2023 en consultation. "
        "Entrée le 21/11/2023, sortie le 24/11/2023."
    )
    spans = (
        "Consultation du [DATE]. Vu le [DATE], admis le [DATE]. Hospitalisé du [DATE] au [DATE]."
    )
    for seed in range(30):
        for source in (text, spans + " Né le 03/05/1951."):
            result = surrogates_apply(source, language="fr", seed=seed)
            birth = _day(re.search(r"n[ée]e? le (\S+?)\.", result.text, re.I).group(1))
            days = [_day(d) for d in re.findall(r"\d\d/\d\d/\d{4}", result.text)]
            stay = [day for day in days if day != birth]
            assert min(stay) >= max(stay) - dt.timedelta(days=10)
            assert all(day.year >= 2015 for day in stay)
            assert report_coherence_check(text=result.text, language="fr") == []


# --- 2. "en [DATE]", "depuis [DATE]": a month and a year (or a year), in the report's style.


def test_en_and_depuis_take_a_month_and_a_year():
    text = (
        "Adénocarcinome découvert en [DATE], diagnostiqué en [DATE]. "
        "Sous traitement depuis [DATE]. Entrée le 12/03/2024."
    )
    result = surrogates_apply(text, language="fr", seed=1)
    assert result.text == (
        "Adénocarcinome découvert en octobre 2023, diagnostiqué en octobre 2023. "
        "Sous traitement depuis septembre 2023. Entrée le 21/11/2023."
    )
    assert surrogates_apply(
        "DÉCOUVERT EN [DATE]. ENTRÉE LE 12/03/2024.", language="fr", seed=1
    ).text == ("DÉCOUVERT EN OCTOBRE 2023. ENTRÉE LE 21/11/2023.")
    for seed in range(30):
        out = surrogates_apply(text, language="fr", seed=seed).text
        assert not re.search(r"\b(?:en|depuis) \d", out)
        assert report_coherence_check(text=out, language="fr") == []


def test_month_year_follows_the_reports_own_date_style():
    numeric = "Progression en 01/2024. Découvert en [DATE]. Entrée le 12/03/2024."
    assert surrogates_apply(numeric, language="fr", seed=1).text == (
        "Progression en 09/2023. Découvert en 10/2023. Entrée le 21/11/2023."
    )
    years = "Tabac depuis 2019. Découvert en [DATE]. Entrée le 12/03/2024."
    assert surrogates_apply(years, language="fr", seed=1).text == (
        "Tabac depuis 2018. Découvert en 2023. Entrée le 21/11/2023."
    )
    english = "Diagnosed in [DATE], on treatment since [DATE]. Admitted on 03/12/2024."
    assert surrogates_apply(english, language="en", seed=1).text == (
        "Diagnosed in October 2023, on treatment since October 2023. Admitted on 11/21/2023."
    )


def test_depuis_le_keeps_a_full_date():
    text = "Sous traitement depuis le [DATE]. Entrée le 12/03/2024."
    out = surrogates_apply(text, language="fr", seed=1).text
    assert re.fullmatch(r"Sous traitement depuis le \d\d/\d\d/\d{4}\. Entrée le 21/11/2023\.", out)


# --- 3. years alone move with the stay, codes do not, history never passes the stay.


def test_bare_years_move_with_the_stay_and_codes_stay():
    text = (
        "Diagnostiqué en 2018, tabac depuis 2019. pT2/2019, TNM 2017, AJCC 8e édition, "
        "2000 mg, 66 ans. Entré le 10/01/2019."
    )
    result = surrogates_apply(text, language="fr", seed=1)
    assert result.date_offset_days == -112
    assert result.text == (
        "Diagnostiqué en 2017, tabac depuis 2018. pT2/2019, TNM 2017, AJCC 8e édition, "
        "2000 mg, 66 ans. Entré le 20/09/2018."
    )
    assert [(e["placeholder"], e["surrogate"]) for e in result.replacements] == [
        ("2018", "2017"),
        ("2019", "2018"),
        ("10/01/2019", "20/09/2018"),
    ]
    # A shift that keeps the stay in its year keeps the years.
    summer = "Diagnostiqué en 2018. Entré le 10/06/2019."
    assert surrogates_apply(summer, language="fr", seed=1).text == (
        "Diagnostiqué en 2018. Entré le 18/02/2019."
    )


def test_history_year_never_lands_after_the_stay():
    text = "Diagnostic en 2020. Entré le 10/01/2019."
    assert surrogates_apply(text, language="fr", seed=1).text == (
        "Diagnostic en 2018. Entré le 20/09/2018."
    )
    # A follow-up year is not history: it moves, it is not pulled back.
    later = "Entré le 10/06/2019. Revoir en 2020."
    assert surrogates_apply(later, language="fr", seed=1).text == (
        "Entré le 18/02/2019. Revoir en 2020."
    )
    source = "Découvert en 2019, progression depuis 2019. Entré le 05/01/2019."
    for seed in range(40):
        out = surrogates_apply(source, language="fr", seed=seed).text
        admission = _day(re.search(r"Entré le (\S+)\.", out).group(1))
        years = [int(y) for y in re.findall(r"(?:en|depuis) (\d{4})", out)]
        assert all(year <= admission.year for year in years), out
        assert report_coherence_check(text=out, language="fr") == []


def test_timeline_reads_years_after_a_preposition_only():
    text = (
        "Diagnostiqué en 2018, tabac depuis 2019, pT2/2019, TNM 2017, en 2000 mg, "
        "à revoir en 2025. Entré le 10/01/2019."
    )
    found = [(m.text, m.precision, m.role) for m in dates_find(text, language="fr")]
    assert found == [
        ("2018", "year", "history"),
        ("2019", "year", "history"),
        ("2025", "year", "future"),
        ("10/01/2019", "day", "admission"),
    ]


def test_checker_flags_history_after_admission_at_its_own_precision():
    problems = report_coherence_check(
        text=(
            "Entré le 12/03/2024. Diagnostiqué en 2025, découvert en avril 2024, "
            "biopsie le 20/03/2024. Tabac depuis 2024, progression en mars 2024."
        ),
        language="fr",
    )
    assert [(p.code, p.detail) for p in problems] == [
        ("date_order", "history 2025 after admission 2024-03-12"),
        ("date_order", "history avril 2024 after admission 2024-03-12"),
        ("date_order", "history 20/03/2024 after admission 2024-03-12"),
    ]
