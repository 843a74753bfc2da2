"""Coherent surrogates: each report's timeline frames its birth date, its dates, its people."""

import datetime as dt
import re
from pathlib import Path

import pytest

from review.coherence import report_coherence_check
from review.imports.parsing import ImportLimits, ImportOptions, parse_upload
from review.imports.placeholders import report_sex, surrogates_apply
from review.surrogates import SurrogateGenerator, age_on, real_places
from review.timeline import ages_find, dates_find, timeline_build

EXPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "exports"
FR_PLACES = set(real_places()["fr"])


def _records(name: str) -> list[str]:
    parsed = parse_upload(
        (EXPORTS / name).read_bytes(),
        file_name=name,
        options=ImportOptions(),
        limits=ImportLimits.from_settings(),
    )
    assert parsed.problems == []
    return [record.text for record in parsed.records]


def _day(value: str) -> dt.date:
    for fmt in ("%d/%m/%Y", "%d.%m.%y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise AssertionError(value)


def test_timeline_reads_every_date_form_with_its_role():
    text = (
        "Né le 03.05.51, 66 ans. Entrée le 14 mars 2022, sortie le 18/03/2022. "
        "Diagnostic en janvier 2022. RCP du 16/03/22. Revu le 2 mai 2022."
    )
    found = [(m.text, m.day, m.precision, m.role) for m in dates_find(text, language="fr")]
    assert found == [
        ("03.05.51", dt.date(1951, 5, 3), "day", "birth"),
        ("14 mars 2022", dt.date(2022, 3, 14), "day", "admission"),
        ("18/03/2022", dt.date(2022, 3, 18), "day", "discharge"),
        ("janvier 2022", dt.date(2022, 1, 15), "month", "history"),
        ("16/03/22", dt.date(2022, 3, 16), "day", "rcp"),
        ("2 mai 2022", dt.date(2022, 5, 2), "day", "followup"),
    ]
    timeline = timeline_build(text, language="fr")
    assert timeline.birth == dt.date(1951, 5, 3)
    assert timeline.age == 66
    assert timeline.stay_start == dt.date(2022, 3, 14)


def test_durations_are_not_ages():
    text = "Tabagisme sevré depuis 10 ans, 30 ans de tabagisme. Patiente de 71 ans, âgée de 71 ans."
    assert [age.age for age in ages_find(text)] == [71, 71]


def test_birth_date_agrees_with_stated_age_at_the_stay():
    text = "Monsieur [NOM], né le [DDN], 66 ans, entré le 12/03/2024. Sortie le 15/03/2024."
    for seed in range(30):
        result = surrogates_apply(text, language="fr", seed=seed)
        birth = re.search(r"né le (\d\d/\d\d/\d{4})", result.text).group(1)
        admission = re.search(r"entré le (\d\d/\d\d/\d{4})", result.text).group(1)
        assert age_on(_day(birth), _day(admission)) == 66
        assert report_coherence_check(text=result.text, language="fr") == []


def test_generator_birth_date_for_an_age_covers_exactly_that_year_of_life():
    generator = SurrogateGenerator(language="fr", seed=4)
    reference = dt.date(2024, 3, 12)
    births = {generator.birth_date(reference=reference, age=66) for _ in range(400)}
    assert min(births) >= dt.date(1957, 3, 13)
    assert max(births) <= dt.date(1958, 3, 12)
    assert {age_on(birth, reference) for birth in births} == {66}


def test_placeholder_dates_keep_the_chronology_of_the_stay():
    text = (
        "Madame [NOM], 67 ans, entrée le [DATE] et sortie le [DATE]. "
        "RCP du [DATE]. Revue le [DATE] en consultation."
    )
    for seed in range(30):
        result = surrogates_apply(text, language="fr", seed=seed)
        dates = [_day(d) for d in re.findall(r"\d\d/\d\d/\d{4}", result.text)]
        admission, discharge, rcp, followup = dates
        assert admission < discharge < followup
        assert admission <= rcp <= discharge
        assert 2 <= (discharge - admission).days <= 10
        assert 14 <= (followup - discharge).days <= 56


def test_placeholder_dates_anchor_to_the_reports_own_written_dates():
    # No four-digit numeric date: the written-out month-year still anchors the stay.
    text = "Hospitalisé en mars 2022. Le [DATE], scanner. Courrier du [DATE]."
    for seed in range(20):
        result = surrogates_apply(text, language="fr", seed=seed)
        shifted = result.date_offset_days
        landed = dt.date(2022, 3, 15) + dt.timedelta(days=shifted)
        month = dt.date(landed.year, landed.month, 15)  # as the shifted text reads it
        for value in re.findall(r"\d\d/\d\d/\d{4}", result.text):
            assert 0 <= (_day(value) - month).days <= 13


def test_real_dates_in_dotted_two_digit_form_anchor_follow_up_after_discharge():
    text = "Entrée le 22.05.23, sortie le 29.05.23. Revu le [DATE].\nBourges, le [DATE]"
    result = surrogates_apply(text, language="fr", seed=1)
    entry, exit_, followup, letter = re.findall(r"\d\d[./]\d\d[./]\d{2,4}", result.text)
    assert (_day(exit_) - _day(entry)).days == 7
    assert 14 <= (_day(followup) - _day(exit_)).days <= 56
    assert 0 <= (_day(letter) - _day(exit_)).days <= 3


def test_mask_pairs_are_one_person_and_never_the_same_surname_twice():
    text = "MONSIEUR *** ***, 66 ANS. Monsieur *** revu. Copie au Dr *** ***. Vu par ***."
    for seed in range(30):
        result = surrogates_apply(text, language="fr", seed=seed, shift_dates=False)
        patient = re.match(r"MONSIEUR (\S+) (\S+),", result.text)
        first, last = patient.groups()
        assert first != last
        assert f"Monsieur {last} revu" in result.text
        doctor = re.search(r"Dr (\S+) ([^.]+)\.", result.text)
        assert doctor.group(2) != last
        assert doctor.group(1) != doctor.group(2)
        assert report_coherence_check(text=result.text, language="fr") == []
    kinds = [entry["kind"] for entry in result.replacements]
    assert kinds == ["name", "name", "name", "name"]


def test_mask_after_date_words_becomes_a_coherent_date():
    text = "Madame XXX XXX, née le XXX, 72 ans, entrée le 03/01/2022. Revue le XXX."
    result = surrogates_apply(text, language="fr", seed=3)
    birth, admission, followup = (_day(v) for v in re.findall(r"\d\d/\d\d/\d{4}", result.text))
    assert age_on(birth, admission) == 72
    assert followup > admission
    assert [entry["kind"] for entry in result.replacements][1:] == [
        "name",
        "birth_date",
        "date",
    ]


def test_names_agree_with_the_patients_sex():
    text = "Madame [PRENOM] [NOM], née le [DDN]. Patiente hospitalisée."
    generator = SurrogateGenerator(language="fr", seed=0)
    female_names = set(generator.faker.provider("faker.providers.person").first_names_female)
    for seed in range(20):
        result = surrogates_apply(text, language="fr", seed=seed)
        first = next(e["surrogate"] for e in result.replacements if e["kind"] == "first_name")
        assert first in female_names
    assert report_sex("Monsieur X, né le 01/01/1950, hospitalisé.") == "M"
    assert report_sex("Compte rendu.") is None


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("CENTRE HOSPITALIER <HOPITAL>", r"CENTRE HOSPITALIER D?E?'? ?([A-ZÉÈÎÂ' -]+)$"),
        ("Centre hospitalier de <HOPITAL>", r"Centre hospitalier de ([\w' -]+)$"),
        ("CHU de <HOPITAL>", r"CHU de ([\w' -]+)$"),
    ],
)
def test_institution_words_before_the_token_get_a_real_town(before, expected):
    titled = {place.upper(): place for place in FR_PLACES}
    for seed in range(15):
        text = surrogates_apply(before, language="fr", seed=seed, shift_dates=False).text
        town = re.match(expected, text).group(1)
        assert town in FR_PLACES or town in titled
        assert "hospitalier de centre" not in text.lower()


def test_hospitals_and_cities_are_real_french_places():
    generator = SurrogateGenerator(language="fr", seed=11)
    for _ in range(200):
        assert generator.city() in FR_PLACES
        hospital = generator.hospital()
        assert "Bourg" not in hospital.replace("Bourg-en-Bresse", "").replace("Bourges", "")
        assert " de A" not in hospital and " de É" not in hospital  # elided: d'Amiens


@pytest.mark.parametrize(
    "name",
    ["reports_crlf.jsonl", "reports_latin1.csv", "report_cp1252.txt", "report_utf8bom.txt"],
)
def test_fixture_exports_come_out_coherent(name):
    for text in _records(name):
        for seed in range(10):
            result = surrogates_apply(text, language="fr", seed=seed)
            assert report_coherence_check(text=result.text, language="fr") == []
            assert "***" not in result.text and "XXX" not in result.text
            assert "[" not in result.text and "<" not in result.text


def test_coherence_checker_names_each_problem():
    problems = report_coherence_check(
        text=(
            "Monsieur Salmon Salmon, né le 03/05/1979, 66 ans, entré le 12/03/2024, "
            "sortie le 15/03/2024. Revu le 01/03/2024. Patient(e) né(e)."
        ),
        language="fr",
    )
    assert [(p.code, p.detail) for p in problems] == [
        ("age_mismatch", "stated age 66 but born 1979-05-03: 44 on 2024-03-12"),
        ("date_order", "followup 2024-03-01 before admission 2024-03-12"),
        ("date_order", "followup 2024-03-01 before discharge 2024-03-15"),
        ("repeated_name", "Monsieur Salmon Salmon"),
        ("agreement", "Patient(e)"),
        ("agreement", "né(e)"),
    ]


def test_regimen_days_are_not_dates():
    text = "Cisplatine J1-22-43, né le 03/05/1951, entré le 12/03/2024."
    assert [m.text for m in dates_find(text, language="en")] == ["03/05/1951", "12/03/2024"]
    result = surrogates_apply(text, language="fr", seed=1)
    assert "J1-22-43" in result.text


def test_capitals_still_match_after_the_first_character_look_aheads():
    # The patterns open with a look-ahead on lower-case first letters; IGNORECASE covers it.
    text = "ENTRÉE LE 3 MARS 2021. DIAGNOSTIC DEPUIS 2019. SEEN ON MARCH 5, 2021. AGED 70."
    found = [(m.text, m.day, m.precision, m.role) for m in dates_find(text, language="fr")]
    assert found == [
        ("3 MARS 2021", dt.date(2021, 3, 3), "day", "admission"),
        ("2019", dt.date(2019, 7, 1), "year", "history"),
        ("MARCH 5, 2021", dt.date(2021, 3, 5), "day", "visit"),
    ]
    assert [(a.start, a.age) for a in ages_find(text)] == [(text.index("AGED"), 70)]


def test_surrogates_hand_over_the_timeline_only_of_an_unchanged_text():
    plain = "Monsieur Martin, né le 03/05/1979, 66 ans, entré le 12/03/2024."
    result = surrogates_apply(plain, language="fr", seed=1, shift_dates=False)
    assert result.text == plain
    assert result.timeline == timeline_build(plain, language="fr")
    # Shifted dates change the text before the surrogates: the timeline is the shifted one.
    shifted = surrogates_apply(plain, language="fr", seed=1, shift_dates=True)
    assert shifted.text != plain
    assert shifted.timeline == timeline_build(shifted.text, language="fr")
    # A replaced placeholder changes the text after it: nothing to hand over.
    masked = surrogates_apply("Monsieur [NOM], entré le 12/03/2024.", language="fr", seed=1)
    assert masked.timeline is None


def test_coherence_check_reads_the_timeline_it_is_given():
    timeline = timeline_build("né le 03/05/1979, 66 ans, entré le 12/03/2024", language="fr")
    problems = report_coherence_check(text="Patient(e).", language="fr", timeline=timeline)
    assert [(p.code, p.detail) for p in problems] == [
        ("age_mismatch", "stated age 66 but born 1979-05-03: 44 on 2024-03-12"),
        ("agreement", "Patient(e)"),
    ]
