import pytest
from django.db import IntegrityError

from generation import pipeline
from generation.models import BatchItem
from review.models import Report
from tests.generation.conftest import process_all


def test_process_offline_batch_writes_reports_with_provenance(launch):
    batch = launch(count=3)
    assert process_all(batch) == ["done", "done", "done"]
    batch.refresh_from_db()
    assert batch.status == "finished" and batch.finished_at is not None
    item = batch.items.get(index=1)
    report = item.report
    assert report.source == "synthetic" and report.language == "fr"
    p = report.provenance
    assert (
        p["kind"] == "generation" and p["batch"] == str(batch.pk) and p["batch_name"] == batch.name
    )
    assert (p["backend"], p["prompt_version"], p["frame"], p["seed"], p["temperature"]) == (
        "offline",
        "compte-rendu-fr-v2",
        "france-incidence-2023@3",
        7,
        0.7,
    )
    assert p["scenario"] == item.scenario
    assert p["guideline"] == "oncology-fr@2" == batch.guideline.label
    assert p["scenario"]["guideline"] == "oncology-fr@2"
    assert p["flags"] == [] and p["tokens_in"] == 0 and p["tokens_out"] == 0
    assert isinstance(p["latency_ms"], int)
    # Study composition finds them by batch and flags.
    from review.services import reports_pick_for_study

    picked = reports_pick_for_study(
        include_real=False,
        synthetic_count=3,
        synthetic_batch=str(batch.pk),
        exclude_flagged=True,
        seed=1,
    )
    assert sorted(r.pk for r in picked) == sorted(batch.items.values_list("report_id", flat=True))
    # Indexed for the coordinators' search in the transaction that stored them.
    from review.models import ReportSearch

    assert sorted(ReportSearch.objects.values_list("report_id", flat=True)) == sorted(
        batch.items.values_list("report_id", flat=True)
    )


def test_process_twice_writes_one_report(launch):
    batch = launch(count=1)
    item = batch.items.get()
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="a") == "done"
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="a") == "not_claimed"
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="b") == "not_claimed"
    assert Report.objects.count() == 1


def test_running_item_cannot_be_claimed_by_another_token(launch):
    batch = launch(count=1)
    item = batch.items.get()
    BatchItem.objects.filter(pk=item.pk).update(status="running", claim_token="first")
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="second") == "not_claimed"
    # The same task id (a redelivered message) may take its own item back.
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="first") == "done"
    assert Report.objects.count() == 1


def test_item_report_link_is_unique(launch):
    batch = launch(count=2)
    process_all(batch)
    first, second = batch.items.order_by("index")
    second.report = first.report
    with pytest.raises(IntegrityError):
        second.save()


def test_process_missing_item_returns_quietly(db):
    assert pipeline.batch_item_process(item_id=987654, claim_token="x") == "missing"
