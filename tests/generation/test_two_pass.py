"""Two passes and the critique, through the real mistralai SDK against the local fake server."""

import json

import pytest

from generation import pipeline, services
from generation.backends import TransientBackendError
from generation.models import BatchItem
from generation.pipeline import OutputRetry
from generation.testing.fake_mistral import OK_NARRATIVE
from review.exceptions import InvalidInput
from review.models import Report
from review.services import reports_pick_for_study

# Seed 3, index 0 of the default frame: breast, invasive ductal, stage II, HR- HER2-,
# surgery → adjuvant EC-paclitaxel → radiotherapy (printed by the scenario tests).
PERIOP = OK_NARRATIVE.replace(
    "Évolution\nSéjour sans complication.",
    "Évolution\nChimiothérapie par FLOT avant la chirurgie, bien tolérée. Après la chirurgie, "
    "reprise du FLOT prévue pour quatre cures.",
)
# Seed 3, index 0 of the default frame (3) and knowledge base (2): a 62-year-old man (born
# 19/10/1962, admitted 17/06/2025) with a metastatic bladder cancer. The plant: he is said to
# be 71.
PLANTED = OK_NARRATIVE.replace("Examen clinique\n", "Examen clinique\nPatient de 71 ans. ")


def _extraction(*annotations):
    return json.dumps({"annotations": list(annotations)}, ensure_ascii=False)


def _annotation(field, value, segment, occurrence=1, **extra):
    return {"field": field, "value": value, "segment": segment, "occurrence": occurrence, **extra}


HOSPITAL = _annotation("hospital", "Centre hospitalier de Test", "Centre hospitalier de Test")


def _verdict(conform, *anomalies):
    return json.dumps({"conform": conform, "anomalies": list(anomalies)}, ensure_ascii=False)


@pytest.fixture
def two_pass_batch(db, mistral_settings):
    def _make(**kwargs):
        kwargs.setdefault("count", 1)
        return services.batch_launch(backend="mistral", seed=3, enqueue=False, **kwargs)

    return _make


def _process(item, token="tok"):
    return pipeline.batch_item_process(item_id=item.pk, claim_token=token)


def _prompt_tokens(request):
    return sum(len(str(m.get("content", ""))) for m in request.body["messages"]) // 4


def test_two_pass_anchors_repeated_phrase_to_each_occurrence(two_pass_batch, fake_mistral):
    fake_mistral.script("narrative", PERIOP)
    extraction = _extraction(
        HOSPITAL,
        _annotation("treatment", "FLOT", "FLOT", 1, modality="chemotherapy", intent="neoadjuvant"),
        _annotation("treatment", "FLOT", "FLOT", 2, modality="chemotherapy", intent="adjuvant"),
        _annotation("weight", "70 kg", "Poids 70 kg"),
    )
    fake_mistral.script("extraction", extraction)
    item = two_pass_batch(critique=False).items.get()
    assert _process(item) == "done"
    item.refresh_from_db()
    report = item.report
    first = PERIOP.index("FLOT")
    second = PERIOP.index("FLOT", first + 1)
    flot = [a for a in report.annotations if a["text"] == "FLOT"]
    assert [(a["start"], a["end"], a["intent"]) for a in flot] == [
        (first, first + 4, "neoadjuvant"),
        (second, second + 4, "adjuvant"),
    ]
    assert report.text == PERIOP.strip()
    # Pass 1 asked for plain text (no response_format), pass 2 for the extraction schema.
    kinds = [(r.kind, r.has_json_schema) for r in fake_mistral.requests]
    assert kinds == [("narrative", False), ("extraction", True)]
    assert "<<<\n" + PERIOP.strip() + "\n>>>" in fake_mistral.requests[1].prompt_text
    writer, extractor = item.passes
    assert (writer["kind"], extractor["kind"]) == ("writer", "extraction")
    assert writer["tokens_in"] == _prompt_tokens(fake_mistral.requests[0])
    assert writer["tokens_out"] == len(PERIOP) // 4
    assert extractor["tokens_out"] == len(extraction) // 4
    assert writer["cost_eur"] == round(
        (writer["tokens_in"] * 2.0 + writer["tokens_out"] * 6.0) / 1e6, 4
    )
    assert item.tokens_in == writer["tokens_in"] + extractor["tokens_in"]
    assert item.tokens_out == writer["tokens_out"] + extractor["tokens_out"]
    assert item.verdict == ""
    p = report.provenance
    assert p["prompt_version"] == "compte-rendu-fr-v2" and p["output_schema_version"] == 2
    assert [x["kind"] for x in p["passes"]] == ["writer", "extraction"]
    assert p["cost_eur"] == round(writer["cost_eur"] + extractor["cost_eur"], 4)


def test_occurrence_beyond_the_text_is_flagged(two_pass_batch, fake_mistral):
    fake_mistral.script("extraction", _extraction(HOSPITAL, _annotation("weight", "70", "70", 3)))
    item = two_pass_batch(critique=False).items.get()
    assert _process(item) == "done"
    item.refresh_from_db()
    assert item.flags == [
        {
            "code": "segment_not_found",
            "detail": "weight: '70' is not in the narrative (occurrence 3, 1 found)",
        }
    ]


def test_planted_inconsistency_flagged_judged_revised_and_every_attempt_stored(
    two_pass_batch, fake_mistral
):
    fake_mistral.script("narrative", PLANTED, OK_NARRATIVE)
    age = _annotation("age", "71", "71 ans")
    fake_mistral.script("extraction", _extraction(HOSPITAL, age), _extraction(HOSPITAL))
    anomaly = {
        "category": "chronology",
        "evidence": "Patient de 71 ans.",
        "explanation": "Né le 19/10/1962 : 62 ans à l'admission.",
        "correction": "Patient de 62 ans.",
    }
    fake_mistral.script("verdict", _verdict(False, anomaly), _verdict(True))
    batch = two_pass_batch(judge_model="mistral-small-latest")
    item = batch.items.get()
    assert _process(item) == "done"
    item.refresh_from_db()
    assert [(p["kind"], p["round"], p["outcome"]) for p in item.passes] == [
        ("writer", 0, "ok"),
        ("extraction", 0, "ok"),
        ("judge", 0, "not_conform"),
        ("revision", 1, "ok"),
        ("extraction", 1, "ok"),
        ("judge", 1, "conform"),
    ]
    # The checker flagged the planted drug before the judge did, and told the judge.
    first_judge = item.passes[2]
    assert first_judge["detail"]["checker"] == ["age_vs_birth_date"]
    assert first_judge["detail"]["anomalies"] == [anomaly]
    assert "age_vs_birth_date: age 71 stated, born 1962-10-19, admitted 2025-06-17" in (
        fake_mistral.requests_of("verdict")[0].prompt_text
    )
    # The judge ran on its own model; the revision was told the anomaly.
    assert [r.model for r in fake_mistral.requests] == [
        "mistral-large-latest",
        "mistral-large-latest",
        "mistral-small-latest",
        "mistral-large-latest",
        "mistral-large-latest",
        "mistral-small-latest",
    ]
    assert "Patient de 62 ans." in fake_mistral.requests[3].prompt_text
    assert item.passes[2]["cost_eur"] == round(
        (item.passes[2]["tokens_in"] * 0.1 + item.passes[2]["tokens_out"] * 0.3) / 1e6, 4
    )
    # Both drafts are kept; the report is the revision, written once.
    assert item.passes[0]["detail"]["narrative"] == PLANTED.strip()
    assert item.passes[3]["detail"]["narrative"] == OK_NARRATIVE.strip()
    assert Report.objects.count() == 1
    assert item.report.text == OK_NARRATIVE.strip()
    assert (item.verdict, item.flags) == ("conform", [])
    p = item.report.provenance
    assert (p["verdict"], p["judge_model"], len(p["passes"])) == (
        "conform",
        "mistral-small-latest",
        6,
    )
    assert p["tokens_out"] == sum(x["tokens_out"] for x in item.passes)


def test_not_conform_after_the_last_revision_is_flagged_and_excludable(
    two_pass_batch, fake_mistral
):
    anomaly = {"category": "tnm", "evidence": "Diagnostic récent", "correction": "Préciser"}
    fake_mistral.script("verdict", _verdict(False, anomaly), _verdict(False, anomaly))
    batch = two_pass_batch(max_revisions=1)
    item = batch.items.get()
    assert _process(item) == "done"
    item.refresh_from_db()
    assert [p["kind"] for p in item.passes] == [
        "writer",
        "extraction",
        "judge",
        "revision",
        "extraction",
        "judge",
    ]
    assert item.verdict == "not_conform"
    assert item.flags == [
        {"code": "judge_not_conform"},
        {
            "code": "judge_anomaly",
            "category": "tnm",
            "detail": "",
            "evidence": "Diagnostic récent",
            "correction": "Préciser",
        },
    ]
    assert item.report.provenance["flags"] == ["judge_anomaly", "judge_not_conform"]
    # Coordinators choose: with "exclude flagged" the not-conform report stays out.
    picked = reports_pick_for_study(
        include_real=False,
        synthetic_count=1,
        synthetic_batch=str(batch.pk),
        exclude_flagged=False,
        seed=1,
    )
    assert [r.pk for r in picked] == [item.report_id]
    with pytest.raises(InvalidInput, match="Only 0 synthetic reports match"):
        reports_pick_for_study(
            include_real=False,
            synthetic_count=1,
            synthetic_batch=str(batch.pk),
            exclude_flagged=True,
            seed=1,
        )


@pytest.mark.parametrize(
    "answer", ["Le compte rendu est conforme.", json.dumps({"verdict": "ok"}), "{"]
)
def test_verdict_that_does_not_parse_is_judge_unavailable_never_conform(
    two_pass_batch, fake_mistral, answer
):
    fake_mistral.script("verdict", answer)
    item = two_pass_batch().items.get()
    assert _process(item) == "done"
    item.refresh_from_db()
    assert item.verdict == "judge_unavailable"
    assert item.flags == [{"code": "judge_unavailable"}]
    # Nothing specific to fix: no revision, the answer kept for inspection.
    assert [p["kind"] for p in item.passes] == ["writer", "extraction", "judge"]
    assert item.passes[2]["detail"]["answer"] == answer
    assert item.report.provenance["verdict"] == "judge_unavailable"


def test_conform_verdict_listing_anomalies_is_not_conform(two_pass_batch, fake_mistral):
    anomaly = {"category": "chronology", "evidence": "Diagnostic récent"}
    fake_mistral.script("verdict", _verdict(True, anomaly), _verdict(True))
    item = two_pass_batch().items.get()
    assert _process(item) == "done"
    item.refresh_from_db()
    assert [p["outcome"] for p in item.passes if p["kind"] == "judge"] == [
        "not_conform",
        "conform",
    ]


def test_judge_transient_failure_retries_the_item_keeping_spent_passes(
    two_pass_batch, fake_mistral
):
    fake_mistral.push("ok", "ok", "503")
    item = two_pass_batch().items.get()
    with pytest.raises(TransientBackendError):
        _process(item)
    item.refresh_from_db()
    assert (item.status, item.attempts, item.report_id) == ("pending", 1, None)
    assert [(p["kind"], p["attempt"]) for p in item.passes] == [
        ("writer", 1),
        ("extraction", 1),
    ]
    spent_out = item.tokens_out
    assert spent_out == item.passes[0]["tokens_out"] + item.passes[1]["tokens_out"]
    assert _process(item) == "done"
    item.refresh_from_db()
    assert [(p["kind"], p["attempt"]) for p in item.passes] == [
        ("writer", 1),
        ("extraction", 1),
        ("writer", 2),
        ("extraction", 2),
        ("judge", 2),
    ]
    assert item.tokens_out == sum(p["tokens_out"] for p in item.passes)
    assert item.report.provenance["cost_eur"] == round(sum(p["cost_eur"] for p in item.passes), 4)
    assert Report.objects.count() == 1


def test_unusable_extraction_is_retried_then_fails_without_report(two_pass_batch, fake_mistral):
    fake_mistral.script("extraction", "pas du JSON", "pas du JSON", "pas du JSON")
    item = two_pass_batch().items.get()
    for token in ("a", "b"):
        with pytest.raises(OutputRetry):
            _process(item, token)
    assert _process(item, "c") == "failed"
    item.refresh_from_db()
    assert item.status == "failed" and item.attempts == 3
    assert [p["outcome"] for p in item.passes if p["kind"] == "extraction"] == ["invalid"] * 3
    assert Report.objects.count() == 0


def test_redelivered_two_pass_item_writes_one_report(two_pass_batch, fake_mistral):
    item = two_pass_batch().items.get()
    assert _process(item, "a") == "done"
    assert _process(item, "a") == "not_claimed"
    assert Report.objects.count() == 1
    assert BatchItem.objects.get().verdict == "conform"


def test_launch_refuses_bad_critique_parameters(two_pass_batch):

    with pytest.raises(InvalidInput, match="judge model"):
        two_pass_batch(judge_model="gpt-unknown")
    with pytest.raises(InvalidInput, match="revisions"):
        two_pass_batch(max_revisions=9)
    assert BatchItem.objects.count() == 0


def cells(row):
    return [cell.split(">")[-1] for cell in row.split("</td>")[:-1]]


def _not_conform_batch(two_pass_batch, fake_mistral):
    anomaly = {
        "category": "fitness",
        "evidence": "Diagnostic récent",
        "explanation": "ECOG incompatible",
        "correction": "Soins de support",
    }
    fake_mistral.script("verdict", _verdict(False, anomaly))
    batch = two_pass_batch(max_revisions=0)
    assert _process(batch.items.get()) == "done"
    return batch


def test_batch_page_item_page_and_report_viewer_show_the_verdict(
    two_pass_batch, fake_mistral, coordinator_client
):
    from django.urls import reverse

    batch = _not_conform_batch(two_pass_batch, fake_mistral)
    item = batch.items.get()
    body = coordinator_client.get(
        reverse("generation:batch_detail", args=[batch.pk])
    ).content.decode()
    assert '<span class="badge verdict-not_conform">Not conform</span>' in body
    assert 'title="Diagnostic récent → Soins de support">judge_anomaly: fitness</span>' in body
    assert "critique by mistral-large-latest, at most 0 revisions" in body
    assert 'data-counter="verdicts">0 / 1 / 0<' in body
    page = coordinator_client.get(
        reverse("generation:item_report", args=[item.pk])
    ).content.decode()
    assert (
        "<strong>fitness</strong> « Diagnostic récent » ECOG incompatible → Soins de support"
        in (page)
    )
    assert page.count("<td>judge</td>") == 1 and page.count("<td>writer</td>") == 1
    viewer = coordinator_client.get(
        reverse("review:report_detail", args=[item.report.code])
    ).content.decode()
    assert "Verdict: <strong>not conform</strong>" in viewer
    assert "(mistral-large-latest)" in viewer
    assert "« Diagnostic récent » ECOG incompatible → Soins de support" in viewer


def test_batch_list_compares_prompt_versions(
    two_pass_batch, fake_mistral, coordinator_client, django_assert_num_queries
):
    from django.urls import reverse

    _not_conform_batch(two_pass_batch, fake_mistral)
    one_pass = two_pass_batch(prompt="compte-rendu-fr-v1", count=2)
    for item in one_pass.items.all():
        assert _process(item, f"v1-{item.pk}") == "done"
    url = reverse("generation:batch_list")
    coordinator_client.get(url)
    # session, user with their roles, the batch list, the prompt-version aggregate
    with django_assert_num_queries(4):
        body = coordinator_client.get(url).content.decode()
    v1 = body[body.index('data-prompt="compte-rendu-fr-v1"') :].split("</tr>")[0]
    v2 = body[body.index('data-prompt="compte-rendu-fr-v2"') :].split("</tr>")[0]
    assert cells(v1) == [
        "compte-rendu-fr-v1",
        "single",
        "1",
        "2",
        "0.0",
        "–",
        "0",
        "0",
        cells(v1)[8],
    ]
    assert cells(v2)[:8] == ["compte-rendu-fr-v2", "two_pass", "1", "1", "100.0", "0.0", "1", "0"]
    assert int(cells(v1)[8]) == round(
        sum(i.tokens_in + i.tokens_out for i in one_pass.items.all()) / 2
    )


def test_batch_cost_so_far_sums_each_pass_at_its_model_price(two_pass_batch, fake_mistral):
    from generation.selectors import batch_progress

    batch = two_pass_batch(count=2, judge_model="mistral-small-latest")
    first, second = batch.items.order_by("index")
    assert _process(first) == "done"
    fake_mistral.push("ok", "503")  # the second item spends a writer call, then fails
    with pytest.raises(TransientBackendError):
        _process(second)
    first.refresh_from_db()
    second.refresh_from_db()
    expected = first.report.provenance["cost_eur"] + round(
        (second.tokens_in * 2.0 + second.tokens_out * 6.0) / 1e6, 4
    )
    assert batch_progress(batch=batch).cost_eur == round(expected, 4)
