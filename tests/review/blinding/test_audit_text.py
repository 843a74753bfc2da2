"""The audit on the text as reviewers see it: typography, coherence, length and sections."""

import random

import pytest
from django.urls import reverse

from review import services
from review.blinding import house_style
from review.blinding.audit import blinding_audit
from review.blinding.audit.formatting import formatting_separation, typography
from review.blinding.presentation import normalise_text
from review.computations import computations_refresh
from review.models import AuditEvent
from tests.factories import ReportFactory, SyntheticReportFactory

# Codes from a seeded stream: the audit's code checks see the same codes every run.
pytestmark = pytest.mark.usefixtures("seeded_codes")

SYMPTOMS = ("toux", "fièvre", "dyspnée", "asthénie", "douleur", "nausées", "vertiges")


def _text(rng, *, decimal, sections=3):
    words = rng.sample(SYMPTOMS, 3)
    hb = f"{rng.randint(9, 14)}{decimal}{rng.randint(0, 9)}"
    text = (
        f"Motif d'hospitalisation\nBilan de {words[0]} et de {words[1]}.\n\n"
        f"Examens complémentaires\nHémoglobine {hb} g/dL, créatinine {rng.randint(50, 120)} "
        f"µmol/L.\n\nConclusion\nPatient stable, {words[2]} en amélioration."
    )
    # Extra sections written like the others: a difference of structure, not typography.
    extra = (
        f"\n\nÉvolution\nPatient stable, {words[0]} en amélioration."
        f"\n\nSuivi\nBilan de {words[1]} et de {words[2]}."
        f"\n\nTraitement\nPatient stable, {words[2]} en amélioration."
    ) * (sections > 3)
    return text + extra


def _study(coordinator, reviewers, *, real, synthetic, n=12):
    rng = random.Random(7)
    reports = [ReportFactory(text=real(rng)) for _ in range(n)]
    reports += [SyntheticReportFactory(text=synthetic(rng)) for _ in range(n)]
    study = services.study_create(
        name="Relecture", created_by=coordinator, raters_per_report=1, seed=3
    )
    services.study_reports_add(study=study, reports=reports)
    services.study_reviewers_set(study=study, reviewers=reviewers, actor=coordinator)
    return study


def test_typography_masks_words_and_numbers():
    assert typography("Hémoglobine 11,3 g/dL le 03/02/2022, RCP.") == ("C 9,9 w/w w 9/9/9, W.")


def test_planted_decimal_point_is_a_formatting_leak_until_normalised():
    rng = random.Random(1)
    texts = [_text(rng, decimal=",") for _ in range(12)] + [
        _text(rng, decimal=".") for _ in range(12)
    ]
    sources = ["real"] * 12 + ["synthetic"] * 12
    raw = formatting_separation(texts=texts, sources=sources, permutations=100)
    assert (raw.auc, raw.leak) == (1.0, True)
    assert raw.p_value == pytest.approx(1 / 101)
    assert ("9,9", "real") in raw.drivers or (",9", "real") in raw.drivers
    shown = [normalise_text(text, language="fr") for text in texts]
    normalised = formatting_separation(texts=shown, sources=sources, permutations=100)
    assert normalised.auc == 0.5
    assert normalised.leak is False


def test_too_few_permutations_cannot_make_a_formatting_leak():
    rng = random.Random(1)
    texts = [_text(rng, decimal=",") for _ in range(6)] + [
        _text(rng, decimal=".") for _ in range(6)
    ]
    result = formatting_separation(
        texts=texts, sources=["real"] * 6 + ["synthetic"] * 6, permutations=20
    )
    assert result.auc == 1.0
    assert result.decisive is False
    assert result.leak is False


def test_audit_flags_a_decimal_point_the_normaliser_lets_through(
    coordinator, reviewers, monkeypatch
):
    study = _study(
        coordinator,
        reviewers,
        real=lambda rng: _text(rng, decimal=","),
        synthetic=lambda rng: _text(rng, decimal="."),
    )
    # A normaliser without its decimal rule: the planted difference reaches reviewers.
    monkeypatch.setattr(house_style, "decimals_house_style", lambda line, *, language: line)
    result = blinding_audit(study=study, permutations=100)
    [leak] = [f for f in result.leaks if f.check == "formatting"]
    assert leak.message.startswith(
        "the typography of the text tells the source: a classifier on it (words and numbers "
        "masked) separates real from synthetic reports with AUC 1.00 (permutation p=0.0099)"
    )
    assert result.headline == (
        "Reviewers could tell real from synthetic reports: 1 problem to fix before the study "
        "is opened."
    )


def test_audit_passes_the_same_study_with_the_house_style(coordinator, reviewers):
    study = _study(
        coordinator,
        reviewers,
        real=lambda rng: _text(rng, decimal=","),
        synthetic=lambda rng: _text(rng, decimal="."),
    )
    result = blinding_audit(study=study, permutations=100)
    assert [f for f in result.findings if f.check == "formatting"] == []
    assert result.statistics["formatting AUC"] == 0.5
    assert result.passed
    assert (
        "A classifier reading only the typography of the text (words and numbers masked) "
        "ranks a synthetic report above a real one 50% of the time (AUC 0.50: 50% is "
        "guessing, 100% is perfect separation; p=1; a leak from AUC 0.75 with p below 0.01)."
    ) in result.explanations


def test_sections_separating_the_sources_are_a_leak_until_accepted(coordinator, reviewers):
    study = _study(
        coordinator,
        reviewers,
        real=lambda rng: _text(rng, decimal=","),
        synthetic=lambda rng: _text(rng, decimal=",", sections=6),
    )
    result = blinding_audit(study=study, permutations=0)
    messages = [f.message for f in result.leaks if f.check == "surface"]
    assert messages == [
        "length: median 175 (real) vs 314 (synthetic), rank-biserial r=-1.00, Mann-Whitney "
        "p=3.5e-05: reviewers can tell the sources apart by it; make the reports alike or "
        "accept the difference with a reason",
        "sections: median 3 (real) vs 6 (synthetic), rank-biserial r=-1.00, Mann-Whitney "
        "p=1.9e-06: reviewers can tell the sources apart by it; make the reports alike or "
        "accept the difference with a reason",
    ]
    services.blinding_surface_accept(
        study=study,
        cue="sections",
        reason="The reference study found synthetic reports longer; we measure it.",
        actor=coordinator,
    )
    after = blinding_audit(study=study, permutations=0)
    assert [f.message.split(":")[0] for f in after.leaks if f.check == "surface"] == ["length"]
    [accepted] = [f.message for f in after.warnings if f.check == "surface"]
    event = AuditEvent.objects.get(action="blinding.surface_accepted")
    assert accepted.endswith(
        f"; accepted by {coordinator.username} on {event.created_at:%Y-%m-%d}: The reference "
        "study found synthetic reports longer; we measure it."
    )


def test_acceptance_needs_a_known_cue_and_a_reason(coordinator, reviewers):
    from review.exceptions import InvalidInput

    study = services.study_create(name="S", created_by=coordinator)
    with pytest.raises(InvalidInput, match="Give the reason"):
        services.blinding_surface_accept(
            study=study, cue="length", reason=" ok ", actor=coordinator
        )
    with pytest.raises(InvalidInput, match="Only length, sections differences"):
        services.blinding_surface_accept(
            study=study, cue="placeholders", reason="a long enough reason", actor=coordinator
        )
    assert AuditEvent.objects.filter(action="blinding.surface_accepted").count() == 0


def test_incoherent_real_reports_are_a_leak(coordinator, reviewers):
    incoherent = "Monsieur Salmon Salmon, né le 03/05/1979, 66 ans, entré le 12/03/2024."
    coherent = "Monsieur Jean MARTIN, né le 03/05/1958, 65 ans, entré le 12/03/2024."
    study = _study(
        coordinator,
        reviewers,
        real=lambda rng: incoherent,
        synthetic=lambda rng: coherent,
        n=8,
    )
    result = blinding_audit(study=study, permutations=0)
    [leak] = [f for f in result.leaks if f.check == "coherence"]
    assert leak.message == (
        "incoherent reports: 8/8 real, 0/8 synthetic (Fisher p=0.00016; e.g. age_mismatch: "
        "stated age 66 but born 1979-05-03: 44 on 2024-03-12)"
    )
    assert (
        "Reports whose dates, ages or names do not hold together: 8/8 real, 0/8 synthetic."
        in result.explanations
    )


def test_audit_page_headline_explanations_and_acceptance(
    coordinator_client, coordinator, reviewers
):
    study = _study(
        coordinator,
        reviewers,
        real=lambda rng: _text(rng, decimal=","),
        synthetic=lambda rng: _text(rng, decimal=",", sections=6),
        n=6,
    )
    url = reverse("review:blinding_audit", args=[study.pk])
    computations_refresh(study=study, kinds=["leak_audit"])
    page = coordinator_client.get(url).content.decode()
    # Length and sections, not typography: the extra sections are content.
    assert "Reviewers could tell real from synthetic reports: 2 problems to fix" in page
    assert "Queue positions: real and synthetic reports" in page
    refused = coordinator_client.post(url, {"cue": "sections", "reason": "ok"})
    assert refused.status_code == 400
    assert "Give the reason for accepting this difference" in refused.content.decode()
    accepted = coordinator_client.post(
        url, {"cue": "sections", "reason": "Longer synthetic reports are our finding."}
    )
    assert accepted.status_code == 302
    assert AuditEvent.objects.get(action="blinding.surface_accepted").details == {
        "cue": "sections",
        "reason": "Longer synthetic reports are our finding.",
    }
    # The decision makes the stored audit stale; the background refresh takes it in.
    assert computations_refresh(study=study, kinds=["leak_audit"]) == ["leak_audit"]
    page = coordinator_client.get(url).content.decode()
    assert "1 problem to fix" in page
    assert "Longer synthetic reports are our finding." in page
