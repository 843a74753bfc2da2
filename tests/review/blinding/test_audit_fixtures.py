"""The issue's own measurement, re-run: the four export fixtures (six real reports, through
the real import: coherent surrogates) beside fifteen offline synthetic reports, in one
study. Before the house style a leave-one-out logistic regression on surface features
separated them perfectly (AUC 1.00) by decimal separators, date styles, apostrophes and
name order; as rendered now none of those is left, yet the classifier still separates the
sources (AUC 1.00) by what their lengths bring: the six real reports are a few lines each.

    pytest tests/review/blinding/test_audit_fixtures.py -s   # prints the figures
"""

import re
from pathlib import Path

import numpy as np
import pytest

from generation.services import batch_launch, batch_run_in_process
from review import services
from review.blinding.audit import blinding_audit
from review.blinding.audit.formatting import formatting_separation
from review.blinding.presentation import normalise_text
from review.blinding.style_profile import style_profile_from_study
from review.conventions import study_conventions
from review.imports.parsing import ImportOptions
from review.imports.services import report_import_commit
from review.models import Report

# Codes from a seeded stream: the audit's code checks see the same codes every run.
pytestmark = pytest.mark.usefixtures("seeded_codes")

EXPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "exports"
FIXTURES = ["reports_crlf.jsonl", "reports_latin1.csv", "report_cp1252.txt", "report_utf8bom.txt"]


def _fixture_study(coordinator, reviewers, *, styled: bool):
    real = []
    for name in FIXTURES:
        report_import = report_import_commit(
            data=(EXPORTS / name).read_bytes(),
            file_name=name,
            options=ImportOptions(),
            created_by=coordinator,
        )
        real.extend(Report.objects.filter(report_import=report_import))
    study = services.study_create(name="Fixture study", created_by=coordinator, seed=15)
    services.study_reports_add(study=study, reports=real)
    batch = batch_launch(
        count=15,
        backend="offline",
        seed=15,
        created_by=coordinator,
        enqueue=False,
        # Generation targeting the study: written like its real reports.
        style_profile=style_profile_from_study(study=study) if styled else None,
    )
    batch_run_in_process(batch=batch)
    synthetic = Report.objects.filter(source="synthetic", provenance__batch=str(batch.pk))
    services.study_reports_add(study=study, reports=synthetic)
    services.study_reviewers_set(study=study, reviewers=reviewers)
    return study


def _loo_auc(texts, sources):
    """The issue's measurement: leave-one-out logistic regression on the typography."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import LeaveOneOut, cross_val_predict
    from sklearn.pipeline import make_pipeline

    from review.blinding.audit.formatting import typographic_ngrams, typography

    labels = np.array([source == "synthetic" for source in sources], dtype=int)
    model = make_pipeline(
        TfidfVectorizer(
            analyzer=typographic_ngrams, use_idf=False, binary=True, norm=None, lowercase=False
        ),
        LogisticRegression(solver="liblinear", C=1.0, max_iter=1000),
    )
    shapes = [typography(text) for text in texts]
    scores = cross_val_predict(model, shapes, labels, cv=LeaveOneOut(), method="decision_function")
    return float(roc_auc_score(labels, scores))


@pytest.mark.parametrize("styled", [False, True], ids=["plain-batch", "batch-styled-by-study"])
def test_fixture_set_formatting_auc(coordinator, reviewers, styled):
    study = _fixture_study(coordinator, reviewers, styled=styled)
    rows = list(study.reports.values_list("text", "language", "source"))
    assert [sum(s == source for _t, _l, s in rows) for source in ("real", "synthetic")] == [6, 15]
    sources = [source for _t, _l, source in rows]
    conventions = study_conventions(study=study)
    raw = [text for text, _l, _s in rows]
    rendered = [normalise_text(t, language=lang, conventions=conventions) for t, lang, _s in rows]

    raw_loo, rendered_loo = _loo_auc(raw, sources), _loo_auc(rendered, sources)
    raw_cv = formatting_separation(texts=raw, sources=sources, permutations=100)
    result = blinding_audit(study=study, permutations=100)
    auc = result.statistics["formatting AUC"]
    print(
        f"\n[{'styled' if styled else 'plain'}] raw text: LOO AUC {raw_loo:.2f}, 5-fold AUC "
        f"{raw_cv.auc:.2f} (p={raw_cv.p_value:.3f}); as rendered: LOO AUC {rendered_loo:.2f}, "
        f"audit AUC {auc:.2f} (p={result.statistics['formatting p']:.3f}); "
        f"findings: {[(f.check, f.severity, f.message) for f in result.findings]}"
    )
    # The raw exports are told apart by their typography (decimal point or comma, dotted
    # dates, apostrophes).
    assert raw_cv.auc == 1.0 and raw_loo == 1.0
    # As rendered, none of the cues is left in either source…
    for text in rendered:
        assert not re.search(r"\d\.\d|\d\.\d\d\.\d|\u2019|[A-Z]{2,} [A-Z][a-z]+,", text)
    # …but six short real reports (median 318 characters) beside fifteen written ones still
    # differ in what their length brings (field labels, parentheses, sentences per line).
    assert result.statistics["formatting AUC"] == 1.0
    leaks = {finding.message.split(":")[0] for finding in result.leaks}
    if styled:
        # Written for the study (its style profile: sections, trimmed to its lengths), the
        # separation is no longer beyond chance (p = 2/101); the length still tells.
        assert result.statistics["formatting p"] == pytest.approx(2 / 101)
        assert leaks == {"length"}
    else:
        assert not any(re.search(r"9\.9|9,9|\u2019", ngram) for ngram in raw_drivers(result))
        assert leaks == {"length", "sections", "the typography of the text tells the source"}


def raw_drivers(result):
    [finding] = [f for f in result.findings if f.check == "formatting"]
    return re.findall(r"'([^']*)' \((?:real|synthetic)\)", finding.message)
