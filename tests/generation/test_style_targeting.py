"""A batch launched with an import's style profile writes like that corpus."""

import json
from pathlib import Path

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


def test_launch_page_takes_the_style_of_a_studys_real_reports(
    coordinator_client, coordinator, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from generation.models import Batch, SamplingFrame
    from review import services
    from tests.factories import ReportFactory, SyntheticReportFactory

    real = (
        "ANTECEDENTS\nHTA.\n\nBIOLOGIE\nHb 11,3 g/dL le 22.05.23.\n\nCONCLUSION\nRCP du 25.05.23."
    )
    study = services.study_create(name="Relecture", created_by=coordinator)
    services.study_reports_add(
        study=study,
        reports=[ReportFactory(text=real), ReportFactory(text=real), SyntheticReportFactory()],
    )
    coordinator_client.get(reverse("generation:batch_launch"))
    with django_capture_on_commit_callbacks(execute=False):
        response = coordinator_client.post(
            reverse("generation:batch_launch"),
            {
                "count": 1,
                "frame": SamplingFrame.objects.get().pk,
                "language": "fr",
                "backend": "offline",
                "seed": 4,
                "style_study": study.pk,
            },
        )
    assert response.status_code == 302
    item = Batch.objects.get().items.get()
    style = item.scenario["style"]
    assert (style["heading_style"], style["sections"]) == (
        "capitals",
        ["Antécédents", "Biologie", "Conclusion"],
    )
    assert style["abbreviation_forms"] == {"Hb": "short", "HTA": "short", "RCP": "short"}
    assert style["date_style"] == "dotted"
    summary = scenario_summary(Scenario.from_json(item.scenario), "fr")
    assert "abréviations : Hb, HTA, RCP ; dates pointées (14.03.22)" in summary


def test_offline_writer_abbreviates_as_the_real_reports_do(frame_model):
    long_profile = StyleProfile(
        reports=2,
        length_quantiles=(5000,) * 5,
        sections=("Examens complémentaires",),
        heading_style="title",
        abbreviations=("Hb",),
        abbreviation_forms={"Hb": "short", "PNN": "short"},
    )
    scenario = scenario_sample(
        frame=frame_model, seed=3, index=0, language="fr", style_profile=long_profile
    )
    plain = _write(scenario_sample(frame=frame_model, seed=3, index=0, language="fr"))
    data = _write(scenario)
    assert (
        "hémoglobine" in plain["narrative"] and "polynucléaires neutrophiles" in plain["narrative"]
    )
    assert "Hb " in data["narrative"] and "PNN " in data["narrative"]
    assert "hémoglobine" not in data["narrative"] and "polynucléaires" not in data["narrative"]
    assert all(
        segment in data["narrative"]
        for annotation in data["annotations"]
        for segment in annotation["segments"]
    )


def test_launch_form_refuses_both_an_import_and_a_study(coordinator_client, coordinator):
    from django.urls import reverse

    from generation.models import SamplingFrame
    from review import services
    from review.imports.parsing import ImportOptions
    from review.imports.services import report_import_commit
    from tests.factories import ReportFactory

    exports = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
    report_import = report_import_commit(
        data=(exports / "reports_latin1.csv").read_bytes(),
        file_name="export.csv",
        options=ImportOptions(),
        created_by=coordinator,
    )
    study = services.study_create(name="Relecture", created_by=coordinator)
    services.study_reports_add(study=study, reports=[ReportFactory()])
    response = coordinator_client.post(
        reverse("generation:batch_launch"),
        {
            "count": 1,
            "frame": SamplingFrame.objects.get().pk,
            "language": "fr",
            "backend": "offline",
            "style_import": report_import.pk,
            "style_study": study.pk,
        },
    )
    assert response.status_code == 400
    assert "Choose the real reports of an import or of a study, not both." in response.text
