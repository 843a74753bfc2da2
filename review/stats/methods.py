"""A paper-ready methods paragraph and tables, generated from the figures of a study.

It names exactly the statistics the results page shows (the recommended agreement form of
each domain and scope, the interval methods actually used, the family and level of the
non-inferiority verdicts), in English or French, as Markdown. Both languages are written
here side by side rather than in the gettext catalogue: a methods section is produced in
the language of the paper, whatever the language of the page.
"""

import platform
from collections.abc import Mapping
from importlib import metadata
from typing import Any

LANGUAGES = ("en", "fr")
SOFTWARE = ("numpy", "scipy", "pandas", "scikit-learn", "krippendorff", "matplotlib")

_FORMS = {
    "en": {
        "ICC(1,1)": "ICC(1,1) (one-way random effects, single rating; Shrout & Fleiss 1979), "
        "from the unbalanced one-way analysis of variance of every rating (k0 ratings per "
        "report; Searle 1971), with the approximate F-distribution 95% CI (Donner 1986)",
        "ICC(2,1)": "ICC(2,1) (two-way random effects, absolute agreement, single rating; "
        "McGraw & Wong 1996), from the report, reviewer and residual variance components "
        "estimated on every rating by Henderson's Method III (Searle, Casella & McCulloch "
        "1992)",
    },
    "fr": {
        "ICC(1,1)": "l'ICC(1,1) (effets aléatoires à un facteur, note unique ; Shrout & Fleiss "
        "1979), issu de l'analyse de variance à un facteur non équilibrée de toutes les notes "
        "(k0 notes par compte rendu ; Searle 1971), avec l'IC à 95 % approché par la loi F "
        "(Donner 1986)",
        "ICC(2,1)": "l'ICC(2,1) (effets aléatoires à deux facteurs, accord absolu, note "
        "unique ; McGraw & Wong 1996), issu des composantes de variance compte rendu, "
        "évaluateur et résiduelle estimées sur toutes les notes par la méthode III de "
        "Henderson (Searle, Casella & McCulloch 1992)",
    },
}
_CI = {
    "en": {
        "f_distribution": "its 95% CI from the F distribution (McGraw & Wong 1996)",
        "bootstrap_reports": "its 95% CI from a percentile bootstrap over reports",
    },
    "fr": {
        "f_distribution": "son IC à 95 % par la loi F (McGraw & Wong 1996)",
        "bootstrap_reports": "son IC à 95 % par bootstrap percentile sur les comptes rendus",
    },
}
_BANDS = {
    "en": {"poor": "poor", "moderate": "moderate", "good": "good", "excellent": "excellent"},
    "fr": {"poor": "faible", "moderate": "modéré", "good": "bon", "excellent": "excellent"},
}
_VERDICTS = {
    "en": {},
    "fr": {
        "non-inferior": "non inférieur",
        "inferior": "inférieur",
        "inconclusive": "non conclusif",
        "not applicable": "sans objet",
        "not computable": "non calculable",
    },
}
_SCOPES = {
    "en": {"real": "real", "synthetic": "synthetic", "all": "pooled"},
    "fr": {"real": "réels", "synthetic": "synthétiques", "all": "regroupés"},
}
_TEXT = {
    "en": {
        "title": "Methods",
        "design": "**Design.** {n_reports} reports ({n_real} real, {n_synthetic} synthetic) "
        "were rated blind to their source by {n_reviewers} physicians on a {low}–{high} scale "
        "in {n_domains} domains ({n_ratings} submitted ratings, {per_report} per report on "
        "average).",
        "agreement": "**Agreement.** Agreement was estimated from every rating, separately for "
        "real and synthetic reports and then pooled (the pooled figure mixes the difference "
        "between sources into agreement). The design was read from who rated what: crossed "
        "when the reviewers who rated at least half the reports filled four in five of their "
        "cells, a panel (one-way) otherwise. We report {forms}. Reviewers are taken as a "
        "random sample of possible reviewers, and inference is conditional on the size of this "
        "panel. Intervals are read against the bands of Koo & Li (2016): below 0.5 poor, "
        "0.5–0.75 moderate, 0.75–0.9 good, above 0.9 excellent. No interval is given below 5 "
        "reports rated twice or more. Krippendorff's alpha (interval; Krippendorff 2011) and "
        "Gwet's AC2 with quadratic weights (Gwet 2014) are secondary figures; the same form on "
        "the largest complete reports × reviewers sub-table is a sensitivity analysis only.",
        "comparison": "**Synthetic versus real.** Means count each report once (the mean of "
        "its ratings). In each domain, the difference synthetic − real has a BCa bootstrap "
        "interval over reports, resampled within source ({n_boot} resamples, seed {seed}; "
        "Efron 1987). Synthetic reports were declared non-inferior when the lower bound "
        "exceeded −{margin} point(s). The {family} quality domains form one family: each "
        "verdict reads a {level}% interval (Bonferroni, one-sided 2.5% divided by {family}; "
        "ICH E9 1998). Mann–Whitney U tests on per-report means, Holm-adjusted over the same "
        "domains, and Cliff's delta are secondary.",
        "authorship": "**AI authorship.** Whether reviewers could tell the reports apart was "
        "measured by the ROC AUC of the AI-authorship score, with a bootstrap CI over reports "
        "and the clustered DeLong CI (Obuchowski 1997); no CI below 5 reports per source.",
        "software": "**Software.** synthreports, Python {python}; {packages}.",
        "table_agreement": "Table 1. Agreement: the recommended statistic per domain and scope",
        "table_summary": "Table 2. Mean scores (95% CI) and difference synthetic − real",
        "agreement_header": "| Domain | Reports | Statistic | Value [95% CI] | Band | n × k |",
        "summary_header": "| Domain | Real | Synthetic | Difference [CI] | Verdict |",
        "and": "and",
        "or": "or",
        "for": "for",
        "references": "References",
        "none": "no agreement statistic could be computed",
    },
    "fr": {
        "title": "Méthodes",
        "design": "**Plan.** {n_reports} comptes rendus ({n_real} réels, {n_synthetic} "
        "synthétiques) ont été notés à l'aveugle de leur source par {n_reviewers} médecins sur "
        "une échelle de {low} à {high} dans {n_domains} domaines ({n_ratings} notes soumises, "
        "{per_report} par compte rendu en moyenne).",
        "agreement": "**Accord.** L'accord a été estimé sur toutes les notes, séparément pour "
        "les comptes rendus réels et synthétiques puis regroupés (le chiffre regroupé mêle "
        "l'écart entre sources à l'accord). Le plan a été déduit de qui a noté quoi : croisé "
        "lorsque les évaluateurs ayant noté au moins la moitié des comptes rendus ont rempli "
        "quatre de leurs cases sur cinq, à un facteur (panel) sinon. Nous rapportons {forms}. "
        "Les évaluateurs sont vus comme un échantillon aléatoire d'évaluateurs possibles, et "
        "l'inférence est conditionnelle à la taille de ce panel. Les intervalles sont lus "
        "selon les catégories de Koo & Li (2016) : sous 0,5 faible, 0,5–0,75 modéré, "
        "0,75–0,9 bon, au-delà de 0,9 excellent. Aucun intervalle n'est donné sous 5 comptes "
        "rendus notés au moins deux fois. L'alpha de Krippendorff (intervalle ; Krippendorff "
        "2011) et l'AC2 de Gwet à pondération quadratique (Gwet 2014) sont secondaires ; la "
        "même forme sur le plus grand sous-tableau complet comptes rendus × évaluateurs n'est "
        "qu'une analyse de sensibilité.",
        "comparison": "**Synthétiques contre réels.** Chaque compte rendu compte une fois dans "
        "les moyennes (moyenne de ses notes). Dans chaque domaine, la différence synthétiques "
        "− réels a un intervalle bootstrap BCa sur les comptes rendus, rééchantillonnés au "
        "sein de chaque source ({n_boot} rééchantillons, graine {seed} ; Efron 1987). Les "
        "comptes rendus synthétiques sont déclarés non inférieurs lorsque la borne inférieure "
        "dépasse −{margin} point(s). Les {family} domaines de qualité forment une famille : "
        "chaque verdict lit un intervalle à {level} % (Bonferroni, 2,5 % unilatéral divisé par "
        "{family} ; ICH E9 1998). Les tests de Mann–Whitney sur les moyennes par compte rendu, "
        "ajustés par Holm sur les mêmes domaines, et le delta de Cliff sont secondaires.",
        "authorship": "**Attribution à une IA.** La capacité des évaluateurs à distinguer les "
        "comptes rendus a été mesurée par l'aire sous la courbe ROC du score d'attribution à "
        "une IA, avec un IC bootstrap sur les comptes rendus et l'IC de DeLong en grappes "
        "(Obuchowski 1997) ; pas d'IC sous 5 comptes rendus par source.",
        "software": "**Logiciels.** synthreports, Python {python} ; {packages}.",
        "table_agreement": "Tableau 1. Accord : la statistique retenue par domaine et portée",
        "table_summary": "Tableau 2. Notes moyennes (IC à 95 %) et différence synthétiques − réels",
        "agreement_header": "| Domaine | Comptes rendus | Statistique | Valeur [IC à 95 %] | "
        "Catégorie | n × k |",
        "summary_header": "| Domaine | Réels | Synthétiques | Différence [IC] | Verdict |",
        "and": "et",
        "or": "ou",
        "for": "pour",
        "references": "Références",
        "none": "aucune statistique d'accord n'a pu être calculée",
    },
}
REFERENCES = (
    "Donner A (1986). A review of inference procedures for the intraclass correlation "
    "coefficient in the one-way random effects model. Int Stat Rev 54:67–82.",
    "Efron B (1987). Better bootstrap confidence intervals. J Am Stat Assoc 82:171–185.",
    "Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics.",
    "ICH E9 (1998). Statistical principles for clinical trials.",
    "Koo TK, Li MY (2016). A guideline of selecting and reporting intraclass correlation "
    "coefficients for reliability research. J Chiropr Med 15:155–163.",
    "Krippendorff K (2011). Computing Krippendorff's alpha-reliability.",
    "McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation "
    "coefficients. Psychol Methods 1:30–46.",
    "Obuchowski NA (1997). Nonparametric analysis of clustered ROC curve data. "
    "Biometrics 53:567–578.",
    "Searle SR (1971). Linear Models. Wiley.",
    "Searle SR, Casella G, McCulloch CE (1992). Variance Components. Wiley.",
    "Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater "
    "reliability. Psychol Bull 86:420–428.",
)


def _number(value: Any, language: str, digits: int = 2) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if language == "fr" else text


def _interval(row: Mapping[str, Any], low: str, high: str, language: str) -> str:
    if row.get(low) is None:
        return ""
    return f" [{_number(row[low], language)}, {_number(row[high], language)}]"


def recommended_rows(figures: Mapping[str, Any]) -> list[dict]:
    """The agreement rows the page shows first: one per domain and scope."""
    return [row for row in figures["agreement"] if row.get("recommended")]


def _forms_sentence(figures: Mapping[str, Any], labels: Mapping[str, str], language: str) -> str:
    """Each recommended form, with its interval method and the domains it is shown for."""
    words = _TEXT[language]
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    for row in recommended_rows(figures):
        if row.get("value") is None:
            continue
        domains, methods = grouped.setdefault(row["statistic"], ([], []))
        label = labels.get(row["domain"], row["domain"])
        if label not in domains:
            domains.append(label)
        method = row.get("ci_method") or ""
        if method and method not in methods:
            methods.append(method)
    if not grouped:
        return words["none"]
    parts = []
    for statistic, (domains, methods) in grouped.items():
        text = _FORMS[language].get(statistic, statistic)
        if methods:
            text += ", " + f" {words['or']} ".join(_CI[language][m] for m in sorted(methods))
        parts.append(f"{text} ({words['for']} {', '.join(domains)})")
    return f"; {words['and']} ".join(parts)


def _versions() -> str:
    found = []
    for name in SOFTWARE:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def methods_markdown(
    figures: Mapping[str, Any],
    *,
    labels: Mapping[str, str],
    title: str,
    language: str = "en",
) -> str:
    """The methods paragraph and its two tables, in `language` ("en" or "fr")."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    words = _TEXT[language]
    comparison = figures["comparison"]
    first = comparison[0] if comparison else {}
    family = [row for row in comparison if row.get("adjustment")]
    level = family[0]["ci_level"] if family else 0.95
    n_reports = figures["n_reports"]
    lines = [f"# {title}\n\n## {words['title']}\n\n"]
    lines.append(
        words["design"].format(
            n_reports=n_reports,
            n_real=first.get("n_reports_real", 0),
            n_synthetic=first.get("n_reports_synthetic", 0),
            n_reviewers=figures["n_reviewers"],
            low=figures["scale"]["min"],
            high=figures["scale"]["max"],
            n_domains=len(figures["domains"]),
            n_ratings=figures["n_ratings"],
            per_report=_number(
                figures["n_ratings"] / (n_reports * max(len(figures["domains"]), 1))
                if n_reports
                else None,
                language,
                1,
            ),
        )
        + "\n\n"
    )
    lines.append(words["agreement"].format(forms=_forms_sentence(figures, labels, language)))
    lines.append("\n\n")
    lines.append(
        words["comparison"].format(
            n_boot=figures["bootstrap_resamples"],
            seed=figures["seed"],
            margin=_number(figures["margin"], language, 1),
            family=len(family),
            level=_number(100 * level, language, 2).rstrip("0").rstrip(",."),
        )
    )
    lines.append("\n\n" + words["authorship"] + "\n\n")
    lines.append(
        words["software"].format(python=platform.python_version(), packages=_versions()) + "\n\n"
    )
    lines.append(f"### {words['table_agreement']}\n\n{words['agreement_header']}\n")
    lines.append("|---|---|---|---|---|---|\n")
    for row in recommended_rows(figures):
        band = "–".join(_BANDS[language][b] for b in (row.get("band") or "").split("-") if b)
        lines.append(
            f"| {labels.get(row['domain'], row['domain'])} | {_SCOPES[language][row['scope']]} "
            f"| {row['statistic']} | {_number(row.get('value'), language)}"
            f"{_interval(row, 'ci_low', 'ci_high', language)} | {band or '–'} "
            f"| {row['n_reports']} × {row['n_reviewers']} |\n"
        )
    lines.append(f"\n### {words['table_summary']}\n\n{words['summary_header']}\n")
    lines.append("|---|---|---|---|---|\n")
    for row in comparison:
        verdict = _VERDICTS[language].get(row["verdict"], row["verdict"])
        lines.append(
            f"| {labels.get(row['domain'], row['domain'])} "
            f"| {_number(row.get('mean_real'), language)}"
            f"{_interval(row, 'mean_real_ci_low', 'mean_real_ci_high', language)} "
            f"| {_number(row.get('mean_synthetic'), language)}"
            f"{_interval(row, 'mean_synthetic_ci_low', 'mean_synthetic_ci_high', language)} "
            f"| {_number(row.get('difference'), language)}"
            f"{_interval(row, 'ci_low', 'ci_high', language)} | {verdict} |\n"
        )
    lines.append(f"\n### {words['references']}\n\n")
    lines.extend(f"- {reference}\n" for reference in REFERENCES)
    return "".join(lines)
