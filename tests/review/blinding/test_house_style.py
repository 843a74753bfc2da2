"""One house style for both sources, on the three export shapes real reports arrive in."""

from pathlib import Path

import pytest

from review.blinding.house_style import (
    continues,
    dates_house_style,
    decimals_house_style,
    line_house_style,
    names_house_style,
    quotes_house_style,
)
from review.blinding.presentation import normalise_text
from review.imports.parsing import ImportLimits, ImportOptions, parse_upload

EXPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "exports"
FIXTURES = ["reports_crlf.jsonl", "reports_latin1.csv", "report_cp1252.txt", "report_utf8bom.txt"]


def _records(name: str) -> list[str]:
    parsed = parse_upload(
        (EXPORTS / name).read_bytes(),
        file_name=name,
        options=ImportOptions(),
        limits=ImportLimits.from_settings(),
    )
    assert parsed.problems == []
    return [record.text for record in parsed.records]


# The same stay written by a hospital export (capitals without accents, dotted two-digit
# dates, decimal comma, surname first, guillemets, hard wrap before a capital, bullets)…
REAL = (
    "COMPTE RENDU D'HOSPITALISATION\r\n"
    "MADAME DUPONT MARIE, NEE LE 03.02.51, 71 ANS.\r\n"
    "\r\n"
    "1. ANTECEDENTS\r\n"
    "\u2022 hypertension arterielle ;\r\n"
    "\u2022 diabete de type 2\r\n"
    "\r\n"
    "2. HISTOIRE DE LA MALADIE\r\n"
    "Cancer du sein decouvert en janvier 2022, traite par\r\n"
    "Tamoxifene depuis le 14 fevrier 2022. Hb 11,3 g/dL.\r\n"
    "La patiente dit \u00ab aller mieux \u00bb.\r\n"
    "\r\n"
    "3. CONCLUSION\r\n"
    "Sortie le 18.03.22, revue le 2 mai 2022 par le Dr MARTIN Paul.\r\n"
)
# …and by the generator (Markdown, accents, dd/mm/yyyy, decimal point, first name first,
# straight quotes and typographic apostrophes, one line per sentence, dashes).
SYNTHETIC = (
    "**Compte rendu d\u2019hospitalisation**\n"
    "Madame Marie DUPONT, née le 03/02/1951, 71 ans.\n"
    "\n"
    "## Antécédents\n"
    "- Hypertension artérielle\n"
    "- Diabète de type 2\n"
    "\n"
    "## Histoire de la maladie\n"
    "Cancer du sein découvert en janvier 2022, traité par Tamoxifène depuis le "
    '2022-02-14. Hb 11.3 g/dL.\nLa patiente dit "aller mieux".\n'
    "\n"
    "## Conclusion\n"
    "Sortie le 18/03/2022, revue le 02/05/2022 par le Dr Paul MARTIN.\n"
)
EXPECTED = (
    "Compte rendu d'hospitalisation\n"
    "Madame Marie DUPONT, née le 03/02/1951, 71 ans.\n"
    "\n"
    "Antécédents\n"
    "- Hypertension artérielle\n"
    "- Diabète de type 2\n"
    "\n"
    "Histoire de la maladie\n"
    "Cancer du sein découvert en janvier 2022, traité par Tamoxifène depuis le "
    "14/02/2022. Hb 11,3 g/dL.\n"
    "La patiente dit « aller mieux ».\n"
    "\n"
    "Conclusion\n"
    "Sortie le 18/03/2022, revue le 02/05/2022 par le Dr Paul MARTIN."
)


def test_real_and_synthetic_texts_with_the_same_content_come_out_identical():
    assert normalise_text(REAL, language="fr") == EXPECTED
    assert normalise_text(SYNTHETIC, language="fr") == EXPECTED


@pytest.mark.parametrize("name", FIXTURES)
def test_normaliser_idempotent_on_every_export_shape(name):
    for text in _records(name):
        once = normalise_text(text, language="fr")
        assert normalise_text(once, language="fr") == once


def test_dotted_csv_export_in_house_style():
    [_first, second] = _records("reports_latin1.csv")
    # Masks are replaced by surrogates before the normaliser runs; a fixed name stands in.
    second = second.replace("*** ***", "HAMEL JEANNE")
    assert normalise_text(second, language="fr") == (
        "Madame Jeanne HAMEL, 72 ans.\n"
        "Entrée le 03/01/2022, sortie le 07/01/2022.\n"
        "\n"
        "Traitement de sortie\n"
        "Paracétamol 1 g x 3/j.\n"
        "\n"
        "Conclusion\n"
        "RCP du 05/01/2022 : « chimiothérapie adjuvante »."
    )


def test_windows_1252_text_export_in_house_style():
    [text] = _records("report_cp1252.txt")
    assert normalise_text(text, language="fr") == (
        "Compte rendu d'hospitalisation\n"
        "Madame XXX XXX, née le 03/02/1951, est entrée le 14/03/2022.\n"
        "\n"
        "Antécédents\n"
        "- Hypertension artérielle\n"
        "- Diabète de type 2\n"
        "\n"
        "Histoire de la maladie\n"
        "Cancer du sein diagnostiqué en janvier 2022, traité par Tamoxifène depuis "
        "février 2022.\n"
        "\n"
        "Conclusion\n"
        "Sortie le 18/03/2022. Revue le 02/05/2022 par le Dr XXX."
    )


def test_utf8_bom_export_roman_headings_and_lowercase_wrap():
    [text] = _records("report_utf8bom.txt")
    assert normalise_text(text, language="fr") == (
        "Compte rendu d'hospitalisation\n"
        "Monsieur XXX XXX, 61 ans, hospitalisé en mars 2022.\n"
        "\n"
        "Antécédents\n"
        "- Tabagisme 30 PA\n"
        "- BPCO\n"
        "\n"
        "Examens complémentaires\n"
        "Hémoglobine 12,4 g/dL, CRP 15,2 mg/L.\n"
        "Scanner thoracique du 02/03/2022 : masse lobaire supérieure droite.\n"
        "\n"
        "Conclusion\n"
        "RCP du 09/03/2022. Revu le 30/03/2022."
    )


@pytest.mark.parametrize(
    ("line", "fr", "en"),
    [
        ("Hb 11.5 g/dL", "Hb 11,5 g/dL", "Hb 11.5 g/dL"),
        ("Hb 11,5 g/dL", "Hb 11,5 g/dL", "Hb 11.5 g/dL"),
        ("version 1.2.3 et 1,000,000", "version 1.2.3 et 1,000,000", "version 1.2.3 et 1,000,000"),
    ],
)
def test_decimal_separator_per_language(line, fr, en):
    assert decimals_house_style(line, language="fr") == fr
    assert decimals_house_style(line, language="en") == en


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("le 22.05.23", "le 22/05/2023"),
        ("le 3/4/21", "le 03/04/2021"),
        ("le 2021-04-03", "le 03/04/2021"),
        ("le 1er mars 2022", "le 01/03/2022"),
        ("le mardi 14 MARS 2022", "le 14/03/2022"),
        ("le 14 fevrier 2022", "le 14/02/2022"),
        ("en 03/2022", "en mars 2022"),
        ("en FEVRIER 2022", "en février 2022"),
        ("né le 03.05.51", "né le 03/05/1951"),
        ("le 31.02.22 reste", "le 31.02.22 reste"),
        ("le 14/03/2022", "le 14/03/2022"),
    ],
)
def test_one_french_date_style(line, expected):
    assert dates_house_style(line, language="fr") == expected


def test_one_english_date_style():
    assert dates_house_style(
        "on March 5, 2021, 5th March 2021, 2021-03-05 and 03/05/2021", language="en"
    ) == ("on 03/05/2021, 03/05/2021, 03/05/2021 and 03/05/2021")


def test_quotes_and_apostrophes():
    line = 'l\u2019état, \u201cbien\u201d, "mieux" et \u00abstable\u00bb'
    assert quotes_house_style(line, language="fr") == "l'état, « bien », « mieux » et « stable »"
    assert quotes_house_style(line, language="en") == 'l\'état, "bien", "mieux" et "stable"'


def test_one_name_order():
    assert names_house_style("Madame DUPONT Marie et le Dr MARTIN Paul") == (
        "Madame Marie DUPONT et le Dr Paul MARTIN"
    )
    assert names_house_style("Monsieur Jean Dupont") == "Monsieur Jean DUPONT"
    assert names_house_style("Monsieur Dupont Jean") == "Monsieur Jean DUPONT"
    # Not a first name after the surname: left alone.
    assert names_house_style("Dr MARTIN Service d'oncologie") == "Dr MARTIN Service d'oncologie"


def test_capitals_line_in_sentence_case_with_accents_restored():
    assert line_house_style(
        "MONSIEUR LUCAS BARRE, NE LE 20.08.56, 66 ANS, RCP.", language="fr"
    ) == ("Monsieur Lucas BARRE, né le 20/08/1956, 66 ans, RCP.")
    assert line_house_style("Il ne le prend pas.", language="fr") == "Il ne le prend pas."


@pytest.mark.parametrize(
    ("previous", "line", "joined"),
    [
        ("traité par", "Tamoxifène depuis mars.", True),
        ("Scanner", "thoracique du 2 mars.", True),
        ("Poids : 62 kg", "Taille : 170 cm", False),
        ("Bonne tolérance.", "Sortie le 3 mars.", False),
        ("Madame Marie DUPONT, 71 ans", "Hospitalisée pour bilan.", False),
        ("Patient hospitalisé pour une altération de l'état général avec", "Asthénie.", True),
    ],
)
def test_hard_wrapped_lines_joined_also_before_a_capital(previous, line, joined):
    assert continues(previous, line) is joined
