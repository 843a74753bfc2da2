import json

import pytest

from generation import catalogue, frame_format, services
from generation.models import PromptTemplate, PromptTemplateInUse, SamplingFrame
from review.exceptions import InvalidInput


def test_prompt_template_immutable_once_used(launch):
    batch = launch(count=1)
    prompt = PromptTemplate.objects.get(pk=batch.prompt_id)
    prompt.user_template += " changed"
    with pytest.raises(PromptTemplateInUse):
        prompt.save()
    new = catalogue.prompt_template_new_version(
        base=prompt, system_template="s", user_template="Scénario : $scenario"
    )
    # v2 is the two-pass default seeded by migration 0003.
    assert new.label == "compte-rendu-fr-v3"
    assert services.batch_launch(count=1, backend="offline", enqueue=False).prompt_id == new.pk


def test_prompt_new_version_requires_scenario_placeholder(launch):
    prompt = catalogue.prompt_defaults_ensure()["fr"]
    with pytest.raises(InvalidInput):
        catalogue.prompt_template_new_version(
            base=prompt, system_template="s", user_template="no placeholder"
        )
    # v1 and the two-pass v2, nothing added.
    assert PromptTemplate.objects.filter(name=prompt.name).count() == 2


def _frame_labels() -> list[str]:
    # The default frame is there from the start (data migration 0002); uploads add to it.
    return sorted(frame.label for frame in SamplingFrame.objects.all())


def test_default_frame_and_prompts_seeded_by_migration(db):
    assert _frame_labels() == ["france-incidence-2023@3"]
    assert sorted((p.label, p.passes) for p in PromptTemplate.objects.all()) == [
        ("compte-rendu-fr-v1", "single"),
        ("compte-rendu-fr-v2", "two_pass"),
        ("discharge-report-en-v1", "single"),
        ("discharge-report-en-v2", "two_pass"),
    ]


def test_frame_create_invalid_creates_nothing(db):
    data = frame_format.default_frame_data()
    data["version"] = 2
    data["reasons"]["p"]["surgery"] = 0.9
    with pytest.raises(InvalidInput) as info:
        catalogue.frame_create(text=json.dumps(data))
    assert "reasons.p: Value error, probabilities sum to 1.6000, not 1" in info.value.message
    assert _frame_labels() == ["france-incidence-2023@3"]


def test_frame_create_yaml_and_duplicate_version(db):
    import yaml

    data = frame_format.default_frame_data()
    data["name"] = "my-hospital"
    frame = catalogue.frame_create(text=yaml.safe_dump(data, allow_unicode=True))
    assert frame.label == "my-hospital@3"
    with pytest.raises(InvalidInput) as info:
        catalogue.frame_create(text=json.dumps(data))
    assert info.value.code == "frame_exists"
    assert _frame_labels() == ["france-incidence-2023@3", "my-hospital@3"]


def test_frame_create_not_json_or_yaml(db):
    with pytest.raises(InvalidInput) as info:
        catalogue.frame_create(text="just: [unclosed")
    assert "neither valid JSON nor YAML" in info.value.message
    assert _frame_labels() == ["france-incidence-2023@3"]
