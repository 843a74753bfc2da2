import datetime as dt
import json
import re

import pytest

from review.imports.placeholders import (
    placeholders_find,
    rules_from_config,
    surrogates_apply,
)
from review.surrogates import SurrogateGenerator

REPORT = (
    "Compte rendu d'hospitalisation - [HOPITAL]\n"
    "Mme [PRENOM] [NOM], née le [DDN], domiciliée à [VILLE], tél. [TEL].\n"
    "Hospitalisée du 03/02/2021 au 10/02/2021 dans le service du Dr [MEDECIN].\n"
    "Entrée le 3 février 2021. Revue le [DATE].\n"
    "Mme [NOM] est adressée au [MEDECIN_2]. Copie à ***.\n"
    "***\n"
    "Sortie le [DATE]."
)


def test_every_placeholder_replaced_and_recorded():
    result = surrogates_apply(REPORT, language="fr")
    assert placeholders_find(REPORT) == [
        "***",
        "[DATE]",
        "[DDN]",
        "[HOPITAL]",
        "[MEDECIN]",
        "[MEDECIN_2]",
        "[NOM]",
        "[PRENOM]",
        "[TEL]",
        "[VILLE]",
    ]
    # The separator line of asterisks is kept: it is not a masked name.
    assert placeholders_find(result.text) == []
    assert "\n***\n" in result.text
    kinds = {entry["placeholder"]: entry["kind"] for entry in result.replacements}
    assert kinds == {
        "03/02/2021": "real_date",
        "10/02/2021": "real_date",
        "3 février 2021": "real_date",
        "[HOPITAL]": "hospital",
        "[PRENOM]": "first_name",
        "[NOM]": "last_name",
        "[DDN]": "birth_date",
        "[VILLE]": "city",
        "[TEL]": "phone",
        "[MEDECIN]": "physician",
        "[DATE]": "date",
        "[MEDECIN_2]": "physician",
        "***": "name",
    }


def test_same_token_same_surrogate_within_report():
    result = surrogates_apply(REPORT, language="fr")
    surrogate = {entry["placeholder"]: entry["surrogate"] for entry in result.replacements}
    last_name = surrogate["[NOM]"]
    assert last_name == last_name.upper()
    assert result.text.count(f"Mme {surrogate['[PRENOM]']} {last_name}") == 1
    assert result.text.count(f"Mme {last_name} est adressée") == 1
    assert result.text.count(surrogate["[DATE]"]) >= 2
    # "Dr [MEDECIN]" does not become "Dr Dr …"; a bare [MEDECIN_2] gets its title.
    assert f"Dr {surrogate['[MEDECIN]']}." in result.text
    assert not surrogate["[MEDECIN]"].startswith("Dr ")
    assert surrogate["[MEDECIN_2]"].startswith("Dr ")
    assert surrogate["[MEDECIN_2]"] != f"Dr {surrogate['[MEDECIN]']}"


def test_real_dates_shifted_by_one_offset_so_intervals_stay_true():
    result = surrogates_apply(REPORT, language="fr")
    offset = result.date_offset_days
    assert offset is not None and offset != 0 and abs(offset) <= 180
    shifted = re.search(r"du (\d\d/\d\d/\d{4}) au (\d\d/\d\d/\d{4})", result.text)
    start, end = (dt.datetime.strptime(value, "%d/%m/%Y").date() for value in shifted.groups())
    assert start == dt.date(2021, 2, 3) + dt.timedelta(days=offset)
    assert (end - start).days == 7
    assert all(
        entry["offset"] == offset for entry in result.replacements if entry["kind"] == "real_date"
    )
    # [DATE] placeholders land in the same stay, by role: "Revue le" is a follow-up after
    # the discharge, "Sortie le" the discharge itself.
    follow_up, exit_day = (
        dt.datetime.strptime(e["surrogate"], "%d/%m/%Y").date()
        for e in result.replacements
        if e["placeholder"] == "[DATE]"
    )
    assert exit_day == end
    assert 14 <= (follow_up - end).days <= 56


def test_surrogates_reproducible_for_preview_and_commit():
    first = surrogates_apply(REPORT, language="fr")
    second = surrogates_apply(REPORT, language="fr", generator=SurrogateGenerator(language="fr"))
    assert first.text == second.text
    assert first.replacements == second.replacements


def test_english_placeholders_and_sex_from_title():
    text = "Mrs <NAME> was admitted to [HOSPITAL] in [CITY]; call [PHONE]. Seen by XXX."
    result = surrogates_apply(text, language="en", shift_dates=False)
    assert placeholders_find(result.text) == []
    assert result.date_offset_days is None
    assert [entry["kind"] for entry in result.replacements] == [
        "full_name",
        "hospital",
        "city",
        "phone",
        "name",
    ]


def test_text_without_placeholders_or_dates_unchanged():
    text = "Patient de 64 ans, adénocarcinome pulmonaire, chimiothérapie en cours."
    result = surrogates_apply(text, language="fr")
    assert result.text == text
    assert result.replacements == []


def test_invalid_dates_left_alone():
    result = surrogates_apply("Le 31/02/2021 et le 45/13/2020.", language="fr")
    assert result.text == "Le 31/02/2021 et le 45/13/2020."


def test_configured_rules_replace_defaults(settings, tmp_path):
    config = tmp_path / "placeholders.json"
    config.write_text(json.dumps([{"kind": "city", "pattern": r"\{\{LIEU\}\}"}]))
    settings.IMPORT_PLACEHOLDERS_FILE = str(config)
    result = surrogates_apply("À {{LIEU}}, [NOM].", language="fr", shift_dates=False)
    assert "{{LIEU}}" not in result.text
    assert "[NOM]" in result.text
    assert [entry["kind"] for entry in result.replacements] == ["city"]


def test_bad_rule_config_names_the_entry():
    with pytest.raises(ValueError, match="placeholder rule 2: unknown kind 'planet'"):
        rules_from_config([{"kind": "city", "pattern": "x"}, {"kind": "planet", "pattern": "y"}])


MONTH_YEAR_REPORT = (
    "Diagnostic en mars 2021 (biopsie du 12/03/2021). Bilan d'extension 03/2021, "
    "scanner 2021-03. Seen in March 2021."
)


def test_month_year_dates_move_with_the_report_through_the_middle_of_their_month():
    result = surrogates_apply(MONTH_YEAR_REPORT, language="fr")
    offset = result.date_offset_days
    assert offset is not None and offset != 0
    landed = dt.date(2021, 3, 15) + dt.timedelta(days=offset)
    biopsy = dt.date(2021, 3, 12) + dt.timedelta(days=offset)
    french_month = [
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
        "septembre", "octobre", "novembre", "décembre",
    ][landed.month - 1]  # fmt: skip
    english_month = [
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ][landed.month - 1]  # fmt: skip
    assert result.text == (
        f"Diagnostic en {french_month} {landed.year} (biopsie du {biopsy:%d/%m/%Y}). "
        f"Bilan d'extension {landed:%m/%Y}, scanner {landed:%Y-%m}. "
        f"Seen in {english_month} {landed.year}."
    )
    shifted = [entry for entry in result.replacements if entry["kind"] == "real_date"]
    assert [entry["placeholder"] for entry in shifted] == [
        "12/03/2021",
        "2021-03",
        "03/2021",
        "mars 2021",
        "March 2021",
    ]
    assert {entry["offset"] for entry in shifted} == {offset}


def test_codes_numbers_and_years_alone_are_not_taken_for_month_year_dates():
    text = "Stade pT2/2019, score 1.2021, saison 2020-2021, traité en 2019. Vu en 13/2021."
    result = surrogates_apply(text, language="fr")
    assert result.text == text
    assert result.replacements == []


def test_leftover_scan_finds_masks_in_any_case_but_not_separator_lines():
    # The mask patterns open with a look-ahead on "X" and "*": the rules' IGNORECASE still
    # finds "xxx", and a line of asterisks stays a separator.
    text = "Vu par xxx, XXXX et *** le 3/4.\n******\n<Ville> [NOM 2]"
    assert placeholders_find(text) == ["***", "<Ville>", "XXXX", "[NOM 2]", "xxx"]
