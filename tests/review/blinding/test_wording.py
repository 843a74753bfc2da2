"""A coordinator is warned when a study's name or description names the sources."""

from django.contrib.messages import get_messages
from django.urls import reverse

from review.blinding.wording import study_source_words
from tests.factories import ReportFactory, SyntheticReportFactory


def test_source_words_found_once_each_in_order():
    assert study_source_words(
        name="Réels vs IA (LLM), round 2", description="Compare real and LLM reports."
    ) == ["réels", "ia", "llm", "real"]
    assert study_source_words(name="Oncologie thoracique 2024", description="Relecture.") == []
    # Whole words only: "realisation", "aide", "lotion" are not source words.
    assert study_source_words(name="Réalisation", description="aide, lotion, really") == []


def _create(client, reviewers, *, name, description=""):
    ReportFactory.create_batch(2)
    SyntheticReportFactory.create_batch(2)
    return client.post(
        reverse("review:study_create"),
        {
            "name": name,
            "description": description,
            "raters_per_report": 1,
            "scale_min": 1,
            "scale_max": 10,
            "noninferiority_margin": 1.0,
            "include_real": "on",
            "synthetic_count": 2,
            "reviewers": [r.pk for r in reviewers],
        },
    )


def test_study_created_with_source_words_warns_the_coordinator(coordinator_client, reviewers):
    response = _create(
        coordinator_client, reviewers, name="Real vs synthetic", description="Mistral batch 3"
    )
    assert response.status_code == 302
    warnings = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert warnings == [
        "Reviewers see the study's name and description, and these words may tell them where "
        "reports come from: real, synthetic, mistral, batch. Consider renaming the study "
        "before opening it."
    ]


def test_study_with_neutral_name_no_warning(coordinator_client, reviewers):
    response = _create(coordinator_client, reviewers, name="Relecture CRH 2024")
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]
