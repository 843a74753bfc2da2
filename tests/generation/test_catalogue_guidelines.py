"""Coordinators download the clinical knowledge base and upload a revised version; a bad
upload gives clear errors and changes nothing."""

import pytest
import yaml
from django.urls import reverse

from generation import catalogue
from generation.clinical import knowledge
from generation.models import GuidelineVersion
from review.exceptions import InvalidInput
from review.models import AuditEvent


def _revised(mutate) -> str:
    data = yaml.safe_load(knowledge.default_knowledge_text())
    data["version"] = 3
    mutate(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _plan(data, plan_id):
    return next(p for p in data["plans"] if p["id"] == plan_id)


def test_default_version_is_seeded(db):
    guideline = catalogue.guideline_default_ensure()
    assert guideline.label == "oncology-fr@2"
    assert GuidelineVersion.objects.count() == 1
    assert catalogue.guideline_knowledge(guideline=guideline).label == "oncology-fr@2"


def test_revised_version_is_saved_and_becomes_the_latest(db, coordinator):
    catalogue.guideline_default_ensure()
    text = _revised(lambda d: _plan(d, "kidney-partial")["requires"].update({"age_max": 85}))
    saved = catalogue.guideline_create(text=text, created_by=coordinator)
    assert saved.label == "oncology-fr@3"
    assert catalogue.guideline_latest() == saved
    kb = catalogue.guideline_knowledge(guideline=saved)
    assert kb.plan("kidney-partial").requires.age_max == 85
    assert AuditEvent.objects.filter(action="generation.guideline_created").count() == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: _plan(d, "nsclc-iv-egfr")["steps"][0].update({"drugs": ["osimertinibe"]}),
            "plan nsclc-iv-egfr.steps[0]: unknown drug 'osimertinibe' "
            "(not in the controlled list 'drugs')",
        ),
        (
            lambda d: _plan(d, "nsclc-iv-egfr")["requires"]["biomarkers"].update(
                {"KRAS": ["G12C"]}
            ),
            "plan nsclc-iv-egfr.requires.biomarkers: unknown biomarker 'KRAS'",
        ),
        (
            lambda d: _plan(d, "nsclc-iv-egfr").pop("requires"),
            "plan nsclc-iv-egfr: Value error, the plan states no eligibility",
        ),
    ],
    ids=["wrong-drug", "unknown-biomarker", "no-eligibility"],
)
def test_bad_upload_is_refused_with_a_clear_error_and_changes_nothing(db, mutate, message):
    catalogue.guideline_default_ensure()
    with pytest.raises(InvalidInput) as info:
        catalogue.guideline_create(text=_revised(mutate))
    assert info.value.code == "guideline_invalid"
    assert message in info.value.message
    assert list(GuidelineVersion.objects.values_list("version", flat=True)) == [2]


def test_same_version_is_refused(db):
    catalogue.guideline_default_ensure()
    with pytest.raises(InvalidInput) as info:
        catalogue.guideline_create(text=knowledge.default_knowledge_text())
    assert info.value.code == "guideline_exists"


def test_page_download_and_upload(coordinator_client):
    page = coordinator_client.get(reverse("generation:guideline_list"))
    assert page.status_code == 200
    guideline = GuidelineVersion.objects.get()
    download = coordinator_client.get(reverse("generation:guideline_download", args=[guideline.pk]))
    assert download["Content-Type"] == "application/yaml; charset=utf-8"
    assert download.content.decode() == knowledge.default_knowledge_text()
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = _revised(lambda d: _plan(d, "nsclc-iv-egfr")["steps"][0].update({"drugs": ["x"]}))
    response = coordinator_client.post(
        reverse("generation:guideline_list"),
        {"file": SimpleUploadedFile("kb.yaml", bad.encode())},
    )
    assert response.status_code == 400
    assert "unknown drug &#x27;x&#x27;" in response.content.decode()
    assert GuidelineVersion.objects.count() == 1
    good = _revised(lambda d: None)
    response = coordinator_client.post(
        reverse("generation:guideline_list"),
        {"file": SimpleUploadedFile("kb.yaml", good.encode())},
    )
    assert response.status_code == 302
    assert GuidelineVersion.objects.count() == 2
