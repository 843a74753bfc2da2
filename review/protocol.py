"""The reference protocol's six rating domains (Kempf et al., ESMO RWD&DO 2025, 415P).

Labels and anchors exist in English and French; a new study copies them into its own
`Domain` rows, where coordinators may edit them while the study is a draft.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DomainSpec:
    # `key` is the stable identifier (statistics, CSV exports and the API use it); the
    # English texts become the Domain's own columns and the *_fr ones its translations,
    # picked by the reviewer's language, so a French panel reads the protocol in French.
    key: str
    label: str
    help_text: str
    anchor_low: str
    anchor_high: str
    label_fr: str
    help_text_fr: str
    anchor_low_fr: str
    anchor_high_fr: str


# In the abstract's order, which is also the order of the rating page and the exports.
# Anchors describe the two ends only: the protocol's 1-10 scale has no intermediate
# descriptors, and a study may choose another range.
DEFAULT_DOMAINS: tuple[DomainSpec, ...] = (
    DomainSpec(
        key="language_quality",
        label="Language quality",
        help_text="Grammar, spelling, vocabulary and style of the medical writing.",
        anchor_low="Many errors, hard to read",
        anchor_high="Flawless, idiomatic medical writing",
        label_fr="Qualité de la langue",
        help_text_fr="Grammaire, orthographe, vocabulaire et style de la rédaction médicale.",
        anchor_low_fr="Nombreuses erreurs, difficile à lire",
        anchor_high_fr="Rédaction médicale irréprochable",
    ),
    DomainSpec(
        key="medical_consistency",
        label="Medical consistency",
        help_text="Are diagnosis, stage, treatments and course clinically coherent?",
        anchor_low="Major clinical contradictions",
        anchor_high="Fully coherent with practice and guidelines",
        label_fr="Cohérence médicale",
        help_text_fr=(
            "Diagnostic, stade, traitements et évolution sont-ils cliniquement cohérents ?"
        ),
        anchor_low_fr="Contradictions cliniques majeures",
        anchor_high_fr="Totalement cohérent avec la pratique et les recommandations",
    ),
    DomainSpec(
        key="completeness",
        label="Completeness",
        help_text="Does the report contain what a hospitalization report should contain?",
        anchor_low="Essential sections missing",
        anchor_high="Everything expected is present",
        label_fr="Complétude",
        help_text_fr=(
            "Le compte rendu contient-il ce qu'un compte rendu d'hospitalisation doit contenir ?"
        ),
        anchor_low_fr="Sections essentielles absentes",
        anchor_high_fr="Tout ce qui est attendu est présent",
    ),
    DomainSpec(
        key="conciseness",
        label="Conciseness",
        help_text="Is the information given without redundancy or padding?",
        anchor_low="Verbose, repetitive",
        anchor_high="Concise, nothing superfluous",
        label_fr="Concision",
        help_text_fr="L'information est-elle donnée sans redondance ni remplissage ?",
        anchor_low_fr="Verbeux, répétitif",
        anchor_high_fr="Concis, rien de superflu",
    ),
    DomainSpec(
        key="overall_impression",
        label="Overall impression",
        help_text="Your overall judgement of the report as a clinical document.",
        anchor_low="Unusable",
        anchor_high="Excellent",
        label_fr="Impression générale",
        help_text_fr="Votre jugement global sur le compte rendu en tant que document clinique.",
        anchor_low_fr="Inutilisable",
        anchor_high_fr="Excellent",
    ),
    # Rated like the others but analysed apart: it is the reviewer's guess at the source,
    # so the results read it as a classifier (ROC, AUC; review/stats/authorship.py) rather
    # than as a quality score. Higher means "AI" whatever the report's real source.
    DomainSpec(
        key="ai_authorship",
        label="Likelihood of AI authorship",
        help_text=(
            "How likely is it that this report was written by an AI rather than a physician?"
        ),
        anchor_low="Certainly written by a physician",
        anchor_high="Certainly written by an AI",
        label_fr="Probabilité de rédaction par une IA",
        help_text_fr=(
            "Quelle est la probabilité que ce compte rendu ait été rédigé par une IA "
            "plutôt que par un médecin ?"
        ),
        anchor_low_fr="Certainement rédigé par un médecin",
        anchor_high_fr="Certainement rédigé par une IA",
    ),
)

# Spelled again in review/stats/frame.py (AUTHORSHIP_DOMAIN): the statistics engine is
# kept free of the app's modules. The two must stay equal.
AI_AUTHORSHIP_KEY = "ai_authorship"
