"""Surface cues by source: computed from what reviewers will see, warned about on the study
page, recomputed when the study's reports change."""

import statistics

from django.urls import reverse

from review import services
from review.blinding.surface import surface_cues
from review.computations import computations_refresh
from tests.factories import ReportFactory, SyntheticReportFactory


def test_surface_cues_warn_when_sources_differ(coordinator):
    real_texts = [f"Rapport réel numéro {i:02d}." for i in range(6)]
    synthetic_texts = [
        f"Motif d'hospitalisation : bilan {i}.\n\nConclusion : "
        + "évolution favorable sous traitement, sortie à domicile. " * 3
        for i in range(6)
    ]
    study = services.study_create(name="Draft", created_by=coordinator, seed=1)
    reports = [ReportFactory(text=t) for t in real_texts[:5]]
    reports.append(ReportFactory(text=real_texts[5] + " Vu par [MEDECIN]."))
    reports += [SyntheticReportFactory(text=t) for t in synthetic_texts]
    services.study_reports_add(study=study, reports=reports)
    cues = {cue.name: cue for cue in surface_cues(study=study)}
    assert cues["length"].real_median == statistics.median(len(t) for t in real_texts)
    assert cues["length"].warn is True
    assert cues["length"].ratio > 5
    assert (cues["sections"].real_median, cues["sections"].synthetic_median) == (0.0, 2.0)
    assert cues["sections"].warn is True
    assert cues["placeholders"].warn is True
    assert cues["placeholders"].note == "1 report(s) still contain placeholders"


def test_surface_cues_on_draft_study_page_for_coordinator(coordinator_client, coordinator):
    study = services.study_create(name="Draft", created_by=coordinator, seed=1)
    services.study_reports_add(
        study=study,
        reports=[ReportFactory(text="Court."), SyntheticReportFactory(text="Long. " * 40)],
    )
    # Computed in the background (issue 21): first a note, then the stored cues.
    url = reverse("review:study_detail", args=[study.pk])
    assert "Being computed in the background" in coordinator_client.get(url).text
    computations_refresh(study=study, kinds=["surface"])
    page = coordinator_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Surface cues by source" in html
    assert "Real and synthetic reports differ visibly" in html
    assert reverse("review:blinding_audit", args=[study.pk]) in html


def test_surface_cues_recomputed_when_the_study_reports_change(coordinator_client, coordinator):
    study = services.study_create(name="Draft", created_by=coordinator, seed=1)
    services.study_reports_add(
        study=study, reports=[ReportFactory(text="Court."), SyntheticReportFactory(text="Court.")]
    )
    url = reverse("review:study_detail", args=[study.pk])
    computations_refresh(study=study, kinds=["surface"])
    assert "Real and synthetic reports differ visibly" not in coordinator_client.get(url).text
    services.study_reports_add(
        study=study,
        reports=[SyntheticReportFactory(text="Long. " * 40) for _ in range(2)],
    )
    # The stored cues are stale now: shown as such until the background refresh has run.
    assert "The reports changed since" in coordinator_client.get(url).text
    assert computations_refresh(study=study, kinds=["surface"]) == ["surface"]
    assert "Real and synthetic reports differ visibly" in coordinator_client.get(url).text
