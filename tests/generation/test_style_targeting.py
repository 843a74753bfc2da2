"""A batch launched with an import's style profile writes like that corpus."""

import json

from generation.backends.base import GenerationRequest
from generation.backends.offline import OfflineBackend
from generation.models import BatchItem
from generation.output import output_parse
from generation.sampler import scenario_sample
from generation.scenario import Scenario
from generation.services import batch_launch
from generation.validation import report_validate
from generation.vocabulary import scenario_summary
from review.blinding.presentation import report_blocks
from review.blinding.style_profile import StyleProfile

PROFILE = StyleProfile(
    reports=12,
    length_quantiles=(300, 400, 500, 700, 900),
    sections=("Antécédents", "Conclusion"),
    heading_style="capitals",
    abbreviations=("RCP",),
)


def _write(scenario):
    result = OfflineBackend().generate(
        GenerationRequest(
            scenario=scenario,
            system_prompt="",
            user_prompt="",
            model="offline",
            temperature=0,
            seed=0,
            language=scenario.language,
        )
    )
    return json.loads(result.content)


def test_scenarios_without_profile_are_unchanged(frame_model):
    plain = scenario_sample(frame=frame_model, seed=3, index=0, language="fr")
    styled = scenario_sample(
        frame=frame_model, seed=3, index=0, language="fr", style_profile=PROFILE
    )
    assert "style" not in plain.to_json()
    assert styled.to_json() == {**plain.to_json(), "style": styled.to_json()["style"]}
    assert styled.style.sections == ["Antécédents", "Conclusion"]
    assert styled.style.heading_style == "capitals"
    assert 300 <= styled.style.target_length <= 900
    assert Scenario.from_json(styled.to_json()) == styled


def test_offline_writer_follows_the_profile(frame_model):
    for index in range(10):
        scenario = scenario_sample(
            frame=frame_model, seed=3, index=index, language="fr", style_profile=PROFILE
        )
        data = _write(scenario)
        headings = [b.text for b in report_blocks(data["narrative"]) if b.kind == "heading"]
        # The profile's sections (with the reason first and the conclusion last) always;
        # others only while the text is under the target.
        assert headings[:2] == ["Compte rendu d'hospitalisation", "Motif d'hospitalisation"]
        assert "Antécédents" in headings and headings[-1] == "Conclusion"
        assert "ANTÉCÉDENTS" in data["narrative"]
        assert "Antécédents\n" not in data["narrative"]
        validated = report_validate(
            output=output_parse(json.dumps(data)), scenario=scenario, language="fr"
        )
        assert validated.flags == []
        assert "caractères ; sections : Motif d'hospitalisation, Antécédents, Conclusion" in (
            scenario_summary(scenario, "fr")
        )


def test_styled_reports_are_shorter_than_unstyled(frame_model):
    styled_lengths, plain_lengths = [], []
    for index in range(10):
        plain = scenario_sample(frame=frame_model, seed=3, index=index, language="fr")
        styled = scenario_sample(
            frame=frame_model, seed=3, index=index, language="fr", style_profile=PROFILE
        )
        plain_lengths.append(len(_write(plain)["narrative"]))
        styled_lengths.append(len(_write(styled)["narrative"]))
    assert all(s < p for s, p in zip(styled_lengths, plain_lengths, strict=True))


def test_batch_launch_records_the_profile(coordinator):
    batch = batch_launch(
        count=2,
        backend="offline",
        seed=5,
        created_by=coordinator,
        enqueue=False,
        style_profile=PROFILE,
    )
    styles = [item.scenario["style"] for item in BatchItem.objects.filter(batch=batch)]
    assert [style["sections"] for style in styles] == [["Antécédents", "Conclusion"]] * 2


def test_launch_page_takes_the_style_of_an_import(
    coordinator_client, coordinator, django_capture_on_commit_callbacks
):
    from pathlib import Path

    from django.urls import reverse

    from generation.models import Batch, SamplingFrame
    from review.imports.parsing import ImportOptions
    from review.imports.services import report_import_commit

    exports = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
    report_import = report_import_commit(
        data=(exports / "reports_latin1.csv").read_bytes(),
        file_name="export.csv",
        options=ImportOptions(),
        created_by=coordinator,
    )
    coordinator_client.get(reverse("generation:batch_launch"))
    with django_capture_on_commit_callbacks(execute=False):
        response = coordinator_client.post(
            reverse("generation:batch_launch"),
            {
                "count": 2,
                "frame": SamplingFrame.objects.get().pk,
                "language": "fr",
                "backend": "offline",
                "seed": 4,
                "style_import": report_import.pk,
            },
        )
    assert response.status_code == 302
    item = Batch.objects.get().items.order_by("index").first()
    assert item.scenario["style"]["heading_style"] == "capitals"
    assert item.scenario["style"]["sections"] == [
        "Antécédents",
        "Traitement de sortie",
        "Histoire de la maladie",
        "Conclusion",
    ]
