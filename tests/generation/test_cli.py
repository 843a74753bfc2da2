import pytest
from django.core.management import CommandError, call_command

from generation.models import Batch
from review.models import Report


def test_generate_reports_wait_in_process(db, capsys):
    call_command("generate_reports", "--count", "3", "--seed", "5", "--language", "en", "--wait")
    out = capsys.readouterr().out
    batch = Batch.objects.get()
    assert (batch.count, batch.seed, batch.language, batch.status) == (3, 5, "en", "finished")
    assert Report.objects.filter(source="synthetic").count() == 3
    assert "Done: 3 (flagged: 0)" in out and "Failed: 0" in out and "Cost: EUR 0.0000" in out
    assert "3/3 done 3" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "between 1 and 5000"),
        (["--count", "2", "--frame", "unknown"], "Unknown frame 'unknown'"),
        (["--count", "2", "--backend", "mistral"], "MISTRAL_API_KEY"),
        (["--count", "2", "--max-revisions", "7"], "between 0 and 2"),
        (["--count", "2", "--mode", "batch_api"], "no Batch API"),
    ],
)
def test_generate_reports_bad_input(db, settings, args, message):
    settings.MISTRAL_API_KEY = ""
    settings.MISTRAL_SERVER_URL = ""
    with pytest.raises(CommandError) as info:
        call_command("generate_reports", *args)
    assert message in str(info.value)
    assert Batch.objects.count() == 0


def test_generation_sweep_command(db, capsys):
    call_command("generation_sweep", "--older-than", "0")
    assert "Requeued 0 running and re-sent 0 pending items." in capsys.readouterr().out


def test_generate_reports_two_pass_with_a_judge_model(db, mistral_settings, capsys):
    call_command(
        "generate_reports",
        "--count",
        "1",
        "--backend",
        "mistral",
        "--judge-model",
        "mistral-small-latest",
        "--max-revisions",
        "1",
        "--wait",
        "--in-process",
    )
    batch = Batch.objects.get()
    assert (batch.judge_model, batch.max_revisions, batch.critique) == (
        "mistral-small-latest",
        1,
        True,
    )
    item = batch.items.get()
    assert [p["kind"] for p in item.passes] == ["writer", "extraction", "judge"]
    assert item.verdict == "conform"
