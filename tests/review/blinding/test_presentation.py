"""The one normaliser, on real-looking and LLM-looking inputs, with exact outputs."""

import pytest

from review.blinding.presentation import Block, normalise_text, report_blocks, section_count

REAL = (
    "COMPTE RENDU D'HOSPITALISATION\r\n"
    "\r\n"
    "MOTIF D'HOSPITALISATION :\r\n"
    "Bilan d'une altération de l'état général chez un patient de 67 ans\r\n"
    "suivi pour un adénocarcinome pulmonaire.\r\n"
    "\r\n"
    "ANTÉCÉDENTS :\r\n"
    "- HTA\r\n"
    "- Diabète de type 2\r\n"
    "  traité par metformine\r\n"
    "\r\n"
    "Examens biologiques :\r\n"
    "CRP\u00a0: 12 mg/L\r\n"
    "\r\n"
    "Conclusion : évolution favorable.\r\n"
    "\r\n\r\n\r\n"
)
LLM = (
    "Voici le compte rendu d\u2019hospitalisation demandé :\n"
    "\n"
    "```markdown\n"
    "# Compte rendu d'hospitalisation\n"
    "\n"
    "## Motif d'hospitalisation\n"
    "\n"
    "**Bilan** d'une altération de l'état général chez un patient de 67 ans suivi pour "
    "un *adénocarcinome pulmonaire*.\n"
    "\n"
    "**Antécédents :**\n"
    "\n"
    "* HTA\n"
    "* Diabète de type 2 traité par metformine\n"
    "\n"
    "### Examens biologiques\n"
    "CRP : 12 mg/L\n"
    "\n"
    "---\n"
    "\n"
    "**Conclusion :** évolution favorable.\n"
    "```\n"
    "\n"
    "N\u2019hésitez pas à me demander si vous souhaitez des modifications.\n"
)
EXPECTED = (
    "Compte rendu d'hospitalisation\n"
    "\n"
    "Motif d'hospitalisation\n"
    "Bilan d'une altération de l'état général chez un patient de 67 ans suivi pour un "
    "adénocarcinome pulmonaire.\n"
    "\n"
    "Antécédents\n"
    "- HTA\n"
    "- Diabète de type 2 traité par metformine\n"
    "\n"
    "Examens biologiques\n"
    "CRP : 12 mg/L\n"
    "\n"
    "Conclusion\n"
    "Évolution favorable."
)


def test_real_looking_report_normalised_exactly():
    assert normalise_text(REAL) == EXPECTED


def test_llm_looking_report_normalised_exactly():
    assert normalise_text(LLM) == EXPECTED


def test_both_sources_give_identical_blocks():
    assert report_blocks(REAL) == report_blocks(LLM)
    assert report_blocks(REAL)[:3] == [
        Block(kind="heading", text="Compte rendu d'hospitalisation"),
        Block(kind="heading", text="Motif d'hospitalisation"),
        Block(
            kind="paragraph",
            text="Bilan d'une altération de l'état général chez un patient de 67 ans suivi "
            "pour un adénocarcinome pulmonaire.",
        ),
    ]
    assert section_count(REAL) == section_count(LLM) == 5


def test_normalise_is_idempotent():
    assert normalise_text(normalise_text(REAL)) == normalise_text(REAL)
    assert normalise_text(normalise_text(LLM)) == normalise_text(LLM)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Here is the discharge summary:\n\nPlan\nFollow up in clinic.",
            "Plan\nFollow up in clinic.",
        ),
        ("Bien sûr ! Voici un exemple de compte rendu.\nTexte.", "Texte."),
        ("Texte.\n\nI hope this helps! Let me know if you need changes.", "Texte."),
        ("Texte.\n\n*Note : ce compte rendu est entièrement fictif.*", "Texte."),
        ("Texte.\n\nRemarque : toutes les données sont fictives.", "Texte."),
        ("Texte.\n\nCe compte rendu a été généré à des fins de démonstration.", "Texte."),
    ],
)
def test_model_chatter_removed(text, expected):
    assert normalise_text(text) == expected


def test_physician_closing_kept():
    # A real letter's courtesy line is writing, not chatter.
    text = "Conclusion : stable.\n\nJe reste à votre disposition pour tout renseignement."
    assert normalise_text(text) == (
        "Conclusion\nStable.\nJe reste à votre disposition pour tout renseignement."
    )


def test_lead_in_sentence_not_a_heading_and_bullets_unified():
    text = "Le patient présente :\n\u2022 une toux\n\u2013 une dyspnée\n1) une fièvre"
    assert report_blocks(text) == [
        Block(kind="paragraph", text="Le patient présente :"),
        # One list style: every item capitalised, whichever marker and case the source used.
        Block(kind="list", items=["Une toux", "Une dyspnée", "Une fièvre"]),
    ]


def test_numbered_and_bold_headings_styled_the_same():
    assert normalise_text("1. MOTIF D'HOSPITALISATION\nBilan.") == "Motif d'hospitalisation\nBilan."
    assert normalise_text("**Motif d\u2019hospitalisation**\nBilan.") == (
        "Motif d'hospitalisation\nBilan."
    )
    assert normalise_text("### Projet thérapeutique\nRCP.") == "Projet thérapeutique\nRCP."


def test_field_lines_keep_their_breaks():
    text = "Poids : 62 kg\nTaille : 170 cm\nPA : 130/80 mmHg"
    assert normalise_text(text) == text


def test_inline_markdown_stripped():
    text = "Voir `CRP` et [le protocole](https://example.org/p) ; __important__ et _ici_."
    assert normalise_text(text) == "Voir CRP et le protocole ; important et ici."
