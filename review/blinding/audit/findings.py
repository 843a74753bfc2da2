"""The audit's checks, each turning what was collected into findings.

(a) tokens, numbers and identifiers on report pages that go with the source; (b) report
codes and queue positions that carry information about the source; the panel (a reviewer
who can coordinate sees every source); and the surface cues as warnings.
"""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import fisher_exact

from review.blinding.audit.collect import Payload
from review.blinding.audit.tokens import ReportPage
from review.blinding.surface import WARN_P_VALUE, SurfaceCue, rank_biserial
from review.conventions import NO_CONVENTIONS, Conventions
from review.models import CODE_ALPHABET, Assignment, Report, Study
from review.permissions import user_is_coordinator

# Words that name a source, or the machinery behind one, in French and English: on a
# reviewer's payload (outside the report text) they would tell the source outright.
SOURCE_WORDS = (
    "synthetic",
    "synthétique",
    "synthetique",
    "real",
    "réel",
    "réelle",
    "generated",
    "généré",
    "générée",
    "llm",
    "mistral",
    "gpt",
    "batch",
    "imported",
    "importé",
)
# A token or number is a leak when it separates the sources this clearly; positions and
# codes are a warning below WARN_P_VALUE (surface.py) and a leak below LEAK_P_VALUE.
LEAK_P_VALUE = 0.001
LEAK_MIN_DIFFERENCE = 0.5
# A classifier "predicts the source" only at p < 0.01 (one chance in a hundred under the
# null, where 0.05 flagged one audit in twenty on random codes) and by a clear margin over
# chance. A permutation p-value cannot go below 1/(permutations + 1): with fewer than 100
# permutations p < 0.01 is out of reach, so such a run cannot decide there is a leak.
CLASSIFIER_P_VALUE = 0.01
CLASSIFIER_MARGIN = 0.2


def permutations_decisive(permutations: int, threshold: float = CLASSIFIER_P_VALUE) -> bool:
    """Whether `permutations` can give a p-value below `threshold` at all."""
    return permutations > 0 and 1 / (permutations + 1) < threshold


@dataclass
class Finding:
    # "token", "number", "word", "identifier", "position", "code", "classifier", "panel"
    check: str
    severity: str  # "leak" or "warning"
    message: str


def _separates(a: int, n_a: int, b: int, n_b: int) -> bool:
    """Presence on a of n_a real and b of n_b synthetic payloads goes with the source: all
    of one and none of the other, or a large difference that chance does not explain."""
    if n_a < 2 or n_b < 2:
        return False
    difference = abs(a / n_a - b / n_b)
    if difference < LEAK_MIN_DIFFERENCE:
        return False
    return difference == 1.0 or float(fisher_exact([[a, n_a - a], [b, n_b - b]])[1]) < LEAK_P_VALUE


def token_findings(pages: list[ReportPage]) -> list[Finding]:
    findings: list[Finding] = []
    by_source: dict[str, list[ReportPage]] = defaultdict(list)
    for page in pages:
        by_source[page.payload.source or ""].append(page)
    real, synthetic = by_source.get("real", []), by_source.get("synthetic", [])
    if len(real) < 2 or len(synthetic) < 2:
        return findings
    all_tokens = set().union(*(page.tokens for page in pages))
    for token in sorted(all_tokens):
        a = sum(token in page.tokens for page in real)
        b = sum(token in page.tokens for page in synthetic)
        if _separates(a, len(real), b, len(synthetic)):
            fisher_p = float(fisher_exact([[a, len(real) - a], [b, len(synthetic) - b]])[1])
            findings.append(
                Finding(
                    "token",
                    "leak",
                    f"{token!r} is on {a}/{len(real)} real and {b}/{len(synthetic)} synthetic "
                    f"report pages (Fisher p={fisher_p:.2g})",
                )
            )
    keys = set().union(*(page.numbers for page in pages))
    for key in sorted(keys):
        a_values = [page.numbers[key] for page in real if key in page.numbers]
        b_values = [page.numbers[key] for page in synthetic if key in page.numbers]
        p_value, effect = rank_biserial(a_values, b_values)
        if (
            p_value is not None
            and p_value < LEAK_P_VALUE
            and abs(effect or 0) >= LEAK_MIN_DIFFERENCE
        ):
            findings.append(
                Finding(
                    "number",
                    "leak",
                    f"the number in {key!r} differs by source (Mann-Whitney p={p_value:.2g}, "
                    f"rank-biserial r={effect:.2f})",
                )
            )
    return findings


def identifier_findings(
    pages: list[ReportPage], reports: dict[int, Report], study: Study
) -> list[Finding]:
    """Source words anywhere outside the report text; a report's own provenance details
    (model, batch, import file, external id, creation time, database id) on its pages."""
    findings: list[Finding] = []
    word_patterns = {
        word: re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", re.I) for word in SOURCE_WORDS
    }
    models = {str(r.provenance.get("model")) for r in reports.values() if r.provenance.get("model")}
    for model in sorted(models):
        word_patterns[model] = re.compile(re.escape(model), re.I)
    # Counted per kind of payload: a word on every rating page of both sources (say, in
    # the study's name) tells nothing about one report; a word on one source's pages does.
    per_word: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for page in pages:
        totals[(page.payload.kind, page.payload.source or "")] += 1
        for word, pattern in word_patterns.items():
            if pattern.search(page.outside_text):
                per_word[(word, page.payload.kind)][page.payload.source or ""] += 1
    for (word, kind), counts in sorted(per_word.items()):
        real, synthetic = counts.get("real", 0), counts.get("synthetic", 0)
        n_real, n_synthetic = totals[(kind, "real")], totals[(kind, "synthetic")]
        if _separates(real, n_real, synthetic, n_synthetic):
            severity, note = "leak", ""
        else:
            severity, note = "warning", " (alike in both sources: check the study's texts)"
        findings.append(
            Finding(
                "word",
                severity,
                f"{word!r} appears on {real}/{n_real} real and {synthetic}/{n_synthetic} "
                f"synthetic {kind} payloads{note}",
            )
        )
    leaked: dict[str, set[str]] = defaultdict(set)
    for page in pages:
        report = reports.get(page.payload.report_id or 0)
        if report is None:
            continue
        candidates = {
            "batch id": str(report.provenance.get("batch") or ""),
            "external id": report.external_id,
            "import file name": report.report_import.file_name if report.report_import else "",
            "creation time": report.created_at.isoformat(timespec="seconds")[:19],
            "creation minute": report.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "creation timestamp": str(int(report.created_at.timestamp())),
        }
        for label, value in candidates.items():
            if len(value) >= 4 and value in page.outside_text:
                leaked[label].add(report.code)
        pk = str(report.pk)
        in_urls = any(re.search(rf"(?<![\w{{}}]){pk}(?!\w)", url) for url in page.urls)
        in_ids = any(
            (name in ("id", "data-id", "data-pk") or name.endswith("-id"))
            and re.search(rf"\b{pk}\b", value)
            for name, value in page.attributes
        )
        in_json = re.search(rf'"(id|pk|report_id|report)": ?{pk}\b', page.outside_text)
        if in_urls or in_ids or in_json:
            leaked["database id"].add(report.code)
    for label, codes in sorted(leaked.items()):
        findings.append(
            Finding(
                "identifier",
                "leak",
                f"the report's {label} is visible to reviewers on the pages of {len(codes)} "
                f"report(s), e.g. {sorted(codes)[0]}",
            )
        )
    return findings


# --- (b) codes and positions -----------------------------------------------------------------


def _code_value(code: str) -> int:
    value = 0
    for char in code.split("-")[-1]:
        value = value * len(CODE_ALPHABET) + max(CODE_ALPHABET.find(char), 0)
    return value


def order_findings(study: Study, *, permutations: int, statistics: dict[str, Any]) -> list[Finding]:
    rows = list(
        Assignment.objects.filter(study=study).values_list(
            "reviewer_id", "position", "code", "report_id", "report__code", "report__source"
        )
    )
    findings: list[Finding] = []
    if not rows:
        return findings
    lengths: dict[int, int] = defaultdict(int)
    for reviewer_id, *_rest in rows:
        lengths[reviewer_id] += 1
    tests: dict[str, list[tuple[float, str]]] = {
        "queue position": [
            ((position - 1) / max(lengths[reviewer] - 1, 1), source)
            for reviewer, position, _c, _r, _rc, source in rows
        ],
        "assignment code": [(_code_value(code), source) for _r, _p, code, *_x, source in rows],
        "report code": list(
            {report: (_code_value(rcode), source) for *_x, report, rcode, source in rows}.values()
        ),
    }
    for name, pairs in tests.items():
        real = [value for value, source in pairs if source == "real"]
        synthetic = [value for value, source in pairs if source == "synthetic"]
        p_value, effect = rank_biserial(real, synthetic)
        statistics[f"{name} p"] = p_value
        statistics[f"{name} r"] = effect
        if p_value is None:
            continue
        if p_value < WARN_P_VALUE:
            findings.append(
                Finding(
                    "position" if name == "queue position" else "code",
                    "leak" if p_value < LEAK_P_VALUE else "warning",
                    f"{name}s differ by source (Mann-Whitney p={p_value:.2g}, "
                    f"rank-biserial r={effect:.2f})",
                )
            )
    findings.extend(_classifier_findings(rows, lengths, permutations, statistics))
    return findings


def _classifier_findings(
    rows: list[tuple], lengths: dict[int, int], permutations: int, statistics: dict[str, Any]
) -> list[Finding]:
    """Can code characters and mean queue position predict a report's source? One row per
    report, so a report seen by several reviewers never sits in both training and test."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, permutation_test_score

    per_report: dict[int, dict[str, Any]] = {}
    for reviewer, position, _code, report, report_code, source in rows:
        entry = per_report.setdefault(
            report, {"code": report_code.split("-")[-1], "source": source, "positions": []}
        )
        entry["positions"].append((position - 1) / max(lengths[reviewer] - 1, 1))
    labels = np.array([entry["source"] == "synthetic" for entry in per_report.values()], dtype=int)
    smallest = int(min(labels.sum(), len(labels) - labels.sum()))
    if permutations <= 0:
        statistics["classifier"] = "skipped"
        return []
    if smallest < 5:
        statistics["classifier"] = "skipped: fewer than 5 reports of one source"
        return []
    width = max(len(entry["code"]) for entry in per_report.values())
    features = np.zeros((len(per_report), width * len(CODE_ALPHABET) + 1))
    for row, entry in enumerate(per_report.values()):
        for index, char in enumerate(entry["code"]):
            features[row, index * len(CODE_ALPHABET) + max(CODE_ALPHABET.find(char), 0)] = 1
        features[row, -1] = float(np.mean(entry["positions"]))
    folds = StratifiedKFold(n_splits=min(5, smallest), shuffle=True, random_state=0)
    score, _permuted, p_value = permutation_test_score(
        LogisticRegression(solver="liblinear", max_iter=1000),
        features,
        labels,
        cv=folds,
        n_permutations=permutations,
        random_state=0,
    )
    chance = max(labels.mean(), 1 - labels.mean())
    statistics["classifier accuracy"] = float(score)
    statistics["classifier chance"] = float(chance)
    statistics["classifier p"] = float(p_value)
    statistics["classifier permutations"] = permutations
    if not permutations_decisive(permutations):
        return []
    if p_value < CLASSIFIER_P_VALUE and score >= chance + CLASSIFIER_MARGIN:
        return [
            Finding(
                "classifier",
                "leak",
                f"a classifier on report codes and queue positions predicts the source with "
                f"accuracy {score:.2f} against chance {chance:.2f} (permutation p={p_value:.2g})",
            )
        ]
    return []


def panel_findings(study: Study) -> list[Finding]:
    """Reviewers of the panel who can also coordinate. The coordinator pages show every
    report's source (the report list, the study's results), so whatever the rating pages
    hide, such a reviewer's ratings are not blind."""
    return [
        Finding(
            "panel",
            "leak",
            f"{seat.pseudonym} ({seat.reviewer.get_username()}) can also coordinate: the "
            "coordinator pages show every report's source, so their ratings are not blind; "
            "take them off the panel or withdraw their coordinator role",
        )
        for seat in study.panel.select_related("reviewer").order_by("id")
        if user_is_coordinator(seat.reviewer)
    ]


def page_level_findings(payloads: Iterable[Payload]) -> list[Finding]:
    """Home page and queue listing: not tied to one report, but must not name sources."""
    findings = []
    for payload in payloads:
        for word in ("synthetic", "synthétique", "mistral", "generated", "généré"):
            if re.search(rf"(?<![\w-]){word}(?![\w-])", payload.body, re.I):
                findings.append(
                    Finding(
                        "word",
                        "warning",
                        f"{word!r} appears on the {payload.kind} page of {payload.reviewer} "
                        "(check the study name and description)",
                    )
                )
    return findings


def surface_finding(cue: SurfaceCue) -> Finding:
    """A surface cue that differs by source, as an audit warning (not a leak: it is the
    writing, which the software does not control)."""
    if cue.name == "placeholders":
        return Finding("surface", "warning", f"leftover placeholders: {cue.note}")
    test = (
        f"; Mann-Whitney p={cue.p_value:.2g}, r={cue.effect:.2f}"
        if cue.p_value is not None and cue.effect is not None
        else ""
    )
    return Finding(
        "surface",
        "warning",
        f"{cue.name}: median {cue.real_median:g} (real) vs {cue.synthetic_median:g} (synthetic), "
        f"ratio {cue.ratio:.2f}{test}",
    )


# --- (c) the text as rendered: typography, coherence, length and sections --------------------


def formatting_findings(
    reports: list[tuple[str, str, str]],
    *,
    permutations: int,
    statistics: dict[str, Any],
    conventions: Conventions = NO_CONVENTIONS,
) -> list[Finding]:
    """Typography of the rendered texts (words masked, in the study's house style): a leak
    when a cross-validated classifier tells the sources apart (AUC >= 0.75, p < 0.01)."""
    from review.blinding.audit.formatting import (
        FORMATTING_AUC,
        FORMATTING_P_VALUE,
        formatting_separation,
    )
    from review.blinding.presentation import normalise_text

    separation = formatting_separation(
        texts=[
            normalise_text(text, language=language, conventions=conventions)
            for text, language, _s in reports
        ],
        sources=[source for _t, _l, source in reports],
        permutations=permutations,
    )
    if separation.skipped:
        statistics["formatting"] = f"skipped: {separation.skipped}"
        return []
    statistics["formatting AUC"] = separation.auc
    statistics["formatting p"] = separation.p_value
    statistics["formatting permutations"] = separation.permutations
    drivers = ", ".join(f"{ngram!r} ({marks})" for ngram, marks in separation.drivers)
    auc = separation.auc or 0.0
    p_text = f"permutation p={separation.p_value:.2g}" if separation.p_value is not None else ""
    if separation.leak:
        return [
            Finding(
                "formatting",
                "leak",
                f"the typography of the text tells the source: a classifier on it (words and "
                f"numbers masked) separates real from synthetic reports with AUC {auc:.2f} "
                f"({p_text}); it relies most on {drivers}",
            )
        ]
    if auc >= FORMATTING_AUC and not separation.decisive:
        return [
            Finding(
                "formatting",
                "warning",
                f"a classifier on the typography reaches AUC {auc:.2f}, but "
                f"{separation.permutations} permutations cannot show p < {FORMATTING_P_VALUE}: "
                "run the audit with at least 100 permutations",
            )
        ]
    return []


def coherence_findings(
    reports: list[tuple[str, str, str]], *, statistics: dict[str, Any]
) -> list[Finding]:
    from review.blinding.audit.coherence import coherence_counts, coherence_decision

    counts = coherence_counts(reports)
    for source, (incoherent, total, _example) in sorted(counts.items()):
        statistics[f"incoherent {source}"] = f"{incoherent}/{total}"
    severity, message, p_value = coherence_decision(counts)
    if severity is None:
        return []
    statistics["incoherent p"] = p_value
    return [Finding("coherence", severity, message)]


def surface_findings(cues: list[SurfaceCue], *, acceptances: dict[str, str]) -> list[Finding]:
    """Length and sections that separate the sources are a leak (reviewers can tell) unless
    a coordinator accepted the difference, with a reason kept in the audit trail; other
    surface cues (placeholders, weaker differences) are warnings."""
    findings = []
    for cue in cues:
        if cue.separates:
            accepted = acceptances.get(cue.name)
            if accepted:
                findings.append(
                    Finding("surface", "warning", f"{_surface_text(cue)}; accepted {accepted}")
                )
            else:
                findings.append(
                    Finding(
                        "surface",
                        "leak",
                        f"{_surface_text(cue)}: reviewers can tell the sources apart by it; "
                        "make the reports alike or accept the difference with a reason",
                    )
                )
        elif cue.warn:
            findings.append(surface_finding(cue))
    return findings


def _surface_text(cue: SurfaceCue) -> str:
    return (
        f"{cue.name}: median {cue.real_median:g} (real) vs {cue.synthetic_median:g} "
        f"(synthetic), rank-biserial r={cue.effect:.2f}, Mann-Whitney p={cue.p_value:.2g}"
    )
