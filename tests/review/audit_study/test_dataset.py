"""The verified dataset: adjudication by majority and by the coordinator, and the BRAT and
BIO exports read back to the very spans they were written from."""

import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from review.audit_study import dataset
from review.audit_study.results import audit_data, audit_results
from review.models import AddedAnnotation, AnnotationVerdict, Assignment, Report
from tests.factories import PASSWORD
from tests.review.audit_study.conftest import TEXT, make_audit_study, span


def _judge(assignment, verdicts: dict[int, tuple], added=()):
    for index, (verdict, *fix) in verdicts.items():
        row = AnnotationVerdict(assignment=assignment, annotation_index=index, verdict=verdict)
        if verdict == "wrong_value":
            row.corrected_value = fix[0]
        if verdict == "wrong_span":
            row.corrected_start, row.corrected_end = fix
        row.save()
    for field, value, (start, end) in added:
        AddedAnnotation.objects.create(
            assignment=assignment, field=field, value=value, start=start, end=end
        )
    Assignment.objects.filter(pk=assignment.pk).update(
        status=Assignment.Status.SUBMITTED, submitted_at=timezone.now()
    )


@pytest.fixture
def three_way(coordinator, reviewers, third_reviewer):
    """One report judged by three reviewers."""
    study = make_audit_study(
        coordinator=coordinator, reviewers=[*reviewers, third_reviewer], n_reports=1, k=3
    )
    a1, a2, a3 = Assignment.objects.filter(study=study).order_by("reviewer_id")
    after = span(TEXT, "FLOT après chirurgie")
    sortie = span(TEXT, "12/03/2024")
    _judge(
        a1,
        {
            0: ("correct",),
            1: ("wrong_value", "cT3N2M0"),
            2: ("wrong_span", *after),
            3: ("correct",),
            4: ("not_in_text",),
        },
        added=[("discharge_date", "2024-03-12", sortie)],
    )
    _judge(
        a2,
        {
            0: ("correct",),
            1: ("wrong_value", "cT3N2M0"),
            2: ("wrong_span", *after),
            3: ("wrong_value", "0"),
            4: ("wrong_value", "actif"),
        },
        added=[("discharge_date", "2024-03-12", sortie)],
    )
    _judge(
        a3,
        {
            0: ("wrong_span", 11, 17),
            1: ("correct",),
            2: ("correct",),
            3: ("not_in_text",),
            4: ("correct",),
        },
    )
    return study


def test_majority_adjudication(three_way):
    report = audit_data(study=three_way).reports[0]
    decisions = {
        a.annotation: (a.decision, a.verdict) for a in dataset.report_adjudications(report)
    }
    assert decisions == {
        0: ("majority", "correct"),
        1: ("majority", "wrong_value"),
        2: ("majority", "wrong_span"),
        3: ("unresolved", ""),  # correct / wrong value / not in text: no majority
        4: ("unresolved", ""),
    }
    labels = [
        (lab.field, lab.value, lab.start, lab.end, lab.origin)
        for lab in dataset.report_labels(report)
    ]
    age, tnm, after, sortie = (
        span(TEXT, "64 ans"),
        span(TEXT, "cT3N1M0"),
        span(TEXT, "FLOT après chirurgie"),
        span(TEXT, "12/03/2024"),
    )
    assert labels == [
        ("age", "64", *age, "model"),
        ("tnm", "cT3N2M0", *tnm, "model"),
        ("treatment", "FLOT adjuvant", *after, "model"),
        ("discharge_date", "2024-03-12", *sortie, "added"),  # 2 of 3 reviewers added it
    ]


def test_coordinator_adjudicates_a_disagreement_on_the_page(client, three_way, coordinator):
    assert client.login(username=coordinator.username, password=PASSWORD)
    page = client.get(reverse("review:audit_adjudication", args=[three_way.pk])).content.decode()
    report = Report.objects.get(memberships__study=three_way)
    assert f'id="case-{report.code}-3"' in page and f'id="case-{report.code}-4"' in page
    assert f'id="case-{report.code}-0"' not in page  # a majority: nothing to adjudicate
    response = client.post(
        reverse("review:audit_adjudication", args=[three_way.pk]),
        {"report": report.code, "annotation": "3", "verdict": "wrong_value", "value": "0"},
    )
    assert response.status_code == 302
    # The coordinator may also overrule a majority.
    client.post(
        reverse("review:audit_adjudication", args=[three_way.pk]),
        {"report": report.code, "annotation": "0", "verdict": "not_in_text"},
    )
    data = audit_data(study=three_way).reports[0]
    decisions = {a.annotation: (a.decision, a.verdict) for a in dataset.report_adjudications(data)}
    assert decisions[3] == ("coordinator", "wrong_value")
    assert decisions[0] == ("coordinator", "not_in_text")
    assert decisions[4] == ("unresolved", "")
    labels = {(lab.field, lab.value, lab.decision) for lab in dataset.report_labels(data)}
    assert ("ecog", "0", "coordinator") in labels
    assert not any(field == "age" for field, _v, _d in labels)


def test_brat_and_bio_exports_read_back_to_the_same_spans(three_way):
    data = audit_data(study=three_way)
    report = data.reports[0]
    labels = dataset.report_labels(report)
    card = dataset.verified_card(
        name="Audit", data=data, results=audit_results(data=data, n_boot=50)
    )
    archive = zipfile.ZipFile(io.BytesIO(dataset.verified_archive(data, card=card)))
    part = dataset.split_of(data)[report.code]
    names = set(archive.namelist())
    assert {
        f"brat/{part}/{report.code}.txt",
        f"brat/{part}/{report.code}.ann",
        "brat/annotation.conf",
        "bio/train.conll",
        "bio/dev.conll",
        "bio/test.conll",
        "verified.jsonl",
        "dataset-card.md",
    } <= names
    assert archive.read(f"brat/{part}/{report.code}.txt").decode() == report.text
    expected = sorted((lab.field, lab.start, lab.end, lab.value) for lab in labels)
    brat = sorted(dataset.brat_read(archive.read(f"brat/{part}/{report.code}.ann").decode()))
    assert brat == expected
    bio_file = archive.read(f"bio/{part}.conll").decode()
    assert bio_file.startswith("# tokeniser = synthreports-regex 1 ")
    bio = dataset.bio_read(bio_file)
    assert sorted(bio[report.code]) == sorted((lab.field, lab.start, lab.end) for lab in labels)
    record = json.loads(archive.read("verified.jsonl").decode().splitlines()[0])
    assert record["split"] == part
    assert sorted(record["verdicts"]) == ["R1", "R2", "R3"]
    assert [lab["field"] for lab in record["labels"]] == [
        "age",
        "tnm",
        "treatment",
        "discharge_date",
    ]


def test_brat_splits_a_span_over_a_line_break_and_reads_it_back():
    text = "Traitement : FLOT\npuis chirurgie."
    label = dataset.Label("treatment", "FLOT puis chirurgie", 13, 32, "model", "majority", 0)
    ann = dataset.brat_ann(text, [label])
    assert ann.splitlines()[0] == "T1\ttreatment 13 17;18 32\tFLOT puis chirurgie"
    assert dataset.brat_read(ann) == [("treatment", 13, 32, "FLOT puis chirurgie")]


def test_bio_keeps_one_label_per_token_and_counts_the_overlaps():
    text = "Sortie le 12/03/2024."
    labels = [
        dataset.Label("discharge_date", "2024-03-12", 10, 20, "model", "majority", 0),
        dataset.Label("lab", "x", 13, 15, "added", "majority"),
    ]
    document = dataset.bio_document("R-1", "train", text, labels)
    assert "# overlapping labels left out = 1" in document
    assert dataset.bio_read(document) == {"R-1": [("discharge_date", 10, 20)]}
    assert [line.split("\t")[3] for line in document.splitlines() if "\t" in line] == [
        "O",
        "O",
        "B-discharge_date",
        "I-discharge_date",
        "I-discharge_date",
        "I-discharge_date",
        "I-discharge_date",
        "O",
    ]


def test_split_is_seeded_by_report(coordinator, reviewers):
    study = make_audit_study(
        coordinator=coordinator, reviewers=reviewers, n_reports=20, k=1, seed=9
    )
    first = dataset.split_of(audit_data(study=study))
    assert first == dataset.split_of(audit_data(study=study))
    assert sorted(first.values()).count("train") == 16
    assert sorted(first.values()).count("dev") == 2
    assert sorted(first.values()).count("test") == 2


def test_card_counts_labels_by_field_and_reports_precision_recall(three_way, client, coordinator):
    assert client.login(username=coordinator.username, password=PASSWORD)
    card = client.get(reverse("review:audit_verified_card", args=[three_way.pk])).content.decode()
    assert "| tnm | 1 | 1 |" in card
    assert "| smoking | 1 | 0 |" in card
    assert "| discharge_date | 0 | 1 |" in card
    assert "?" not in card.split("## Annotations by field")[1].split("##")[0]
    # 15 verdicts: value right 6 (correct 6) + wrong_span 3 = 9/15; recall (15-2)/(13+2).
    assert "| (all) | 15 | 60.0%" in card
    assert "| 86.7%" in card


def test_coordinator_accepts_and_rejects_an_addition_without_a_majority(
    client, three_way, coordinator
):
    from review.models import AuditEvent

    report = Report.objects.get(memberships__study=three_way)
    a3 = Assignment.objects.filter(study=three_way).order_by("reviewer_id").last()
    missed = span(TEXT, "antalgiques")
    AddedAnnotation.objects.create(
        assignment=a3,
        field="discharge_treatment",
        value="antalgiques",
        start=missed[0],
        end=missed[1],
    )  # one reviewer of three: no majority
    sortie = span(TEXT, "12/03/2024")
    url = reverse("review:audit_adjudication", args=[three_way.pk])
    assert client.login(username=coordinator.username, password=PASSWORD)
    page = client.get(url).content.decode()
    case_id = f'id="added-{report.code}-discharge_treatment-{missed[0]}-{missed[1]}"'
    assert case_id in page
    assert f'id="added-{report.code}-discharge_date-' not in page  # 2 of 3: a majority
    data = audit_data(study=three_way).reports[0]
    groups = {(g.field, g.decision, g.accepted) for g in dataset.report_addition_groups(data)}
    assert groups == {
        ("discharge_date", "majority", True),
        ("discharge_treatment", "unresolved", False),
    }
    assert "discharge_treatment" not in {lab.field for lab in dataset.report_labels(data)}

    # Accept, with the value fixed: a label of every format.
    form = {
        "kind": "added",
        "report": report.code,
        "field": "discharge_treatment",
        "start": str(missed[0]),
        "end": str(missed[1]),
    }
    assert client.post(url, {**form, "accepted": "1", "value": "paracétamol"}).status_code == 302
    data = audit_data(study=three_way)
    labels = [
        (lab.field, lab.value, lab.start, lab.end, lab.origin, lab.decision)
        for lab in dataset.report_labels(data.reports[0])
    ]
    assert labels[-2:] == [
        ("discharge_date", "2024-03-12", *sortie, "added", "majority"),
        ("discharge_treatment", "paracétamol", *missed, "added", "coordinator"),
    ]
    record = json.loads(next(dataset.verified_lines(data)))
    assert record["added_adjudication"] == [
        {
            "field": "discharge_date",
            "start": sortie[0],
            "end": sortie[1],
            "reviewers": ["R1", "R2"],
            "decision": "majority",
            "accepted": True,
        },
        {
            "field": "discharge_treatment",
            "start": missed[0],
            "end": missed[1],
            "reviewers": ["R3"],
            "decision": "coordinator",
            "accepted": True,
        },
    ]
    assert record["labels"][-1] == {
        "field": "discharge_treatment",
        "value": "paracétamol",
        "start": missed[0],
        "end": missed[1],
        "origin": "added",
        "decision": "coordinator",
        "annotation": None,
    }
    archive = zipfile.ZipFile(io.BytesIO(dataset.verified_archive(data, card="card")))
    part = dataset.split_of(data)[report.code]
    brat = dataset.brat_read(archive.read(f"brat/{part}/{report.code}.ann").decode())
    assert ("discharge_treatment", *missed, "paracétamol") in brat
    bio = dataset.bio_read(archive.read(f"bio/{part}.conll").decode())
    assert ("discharge_treatment", *missed) in bio[report.code]
    page = client.get(url).content.decode()
    assert case_id in page and "Decided: accepted" in page  # still listed, decided

    # Reject: out of every format again; both decisions are in the audit trail.
    assert client.post(url, {**form, "accepted": "0"}).status_code == 302
    data = audit_data(study=three_way)
    assert "discharge_treatment" not in {
        lab.field for lab in dataset.report_labels(data.reports[0])
    }
    archive = zipfile.ZipFile(io.BytesIO(dataset.verified_archive(data, card="card")))
    assert "discharge_treatment" not in archive.read(f"brat/{part}/{report.code}.ann").decode()
    assert "discharge_treatment" not in archive.read(f"bio/{part}.conll").decode()
    assert "Decided: rejected" in client.get(url).content.decode()
    events = list(
        AuditEvent.objects.filter(action="audit.adjudicate_added", study=three_way)
        .order_by("id")
        .values_list("target", "details")
    )
    assert events == [
        (
            report.code,
            {"field": "discharge_treatment", "start": missed[0], "end": missed[1], "accepted": a},
        )
        for a in (True, False)
    ]
    # A span nobody added cannot be decided.
    assert client.post(url, {**form, "start": "0", "accepted": "1"}).status_code == 404


def test_export_study_writes_the_audit_files_byte_for_byte_as_the_web(
    client, three_way, coordinator, tmp_path
):
    from django.core.management import call_command

    from review.audit_study.results import audit_tables

    data = audit_data(study=three_way)
    tables = sorted(audit_tables(audit_results(data=data), data))
    call_command("export_study", three_way.code, "--out", str(tmp_path / "out"))
    code = three_way.code
    written = {p.name for p in (tmp_path / "out").iterdir()}
    audit_names = {f"{code}-{name}.csv" for name in tables} | {
        f"{code}-verified.jsonl",
        f"{code}-verified.zip",
        f"{code}-verified-card.md",
    }
    assert audit_names <= written
    assert client.login(username=coordinator.username, password=PASSWORD)

    def web(url: str) -> bytes:
        response = client.get(url)
        assert response.status_code == 200
        return b"".join(response.streaming_content) if response.streaming else response.content

    pk = three_way.pk
    expected = {
        f"{code}-{name}.csv": web(reverse("review:audit_export_csv", args=[pk, name]))
        for name in tables
    }
    expected[f"{code}-verified.jsonl"] = web(reverse("review:audit_verified_jsonl", args=[pk]))
    expected[f"{code}-verified.zip"] = web(reverse("review:audit_verified_archive", args=[pk]))
    expected[f"{code}-verified-card.md"] = web(reverse("review:audit_verified_card", args=[pk]))
    assert len(expected) == len(audit_names) and len(tables) >= 3
    for name, content in expected.items():
        assert (tmp_path / "out" / name).read_bytes() == content, name
    # The archive holds the labels (an exact member list and the BRAT of the report).
    archive = zipfile.ZipFile(tmp_path / "out" / f"{code}-verified.zip")
    report = data.reports[0]
    part = dataset.split_of(data)[report.code]
    assert sorted(dataset.brat_read(archive.read(f"brat/{part}/{report.code}.ann").decode())) == (
        sorted((lab.field, lab.start, lab.end, lab.value) for lab in dataset.report_labels(report))
    )


def test_api_gives_the_audit_results_per_field_and_the_verified_jsonl(
    client, three_way, coordinator
):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=coordinator).key
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    results = client.get(f"/api/v1/audits/{three_way.pk}/results/", **auth)
    assert results.status_code == 200
    body = results.json()
    data = audit_data(study=three_way)
    expected = audit_results(data=data)
    assert body["study"] == three_way.code
    assert [row["field"] for row in body["fields"]] == [row["field"] for row in expected.metrics]
    by_field = {row["field"]: row for row in body["fields"]}
    assert by_field["age"]["n_verdicts"] == 3
    assert by_field["ecog"]["n_verdicts"] == 3
    assert body["agreement"] == json.loads(json.dumps(dict(expected.agreement), allow_nan=True))

    def null_nan(row):
        return {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}

    assert body["fields"] == [null_nan(row) for row in expected.metrics]
    verified = client.get(f"/api/v1/audits/{three_way.pk}/verified/", **auth)
    assert verified.status_code == 200
    assert verified["Content-Type"] == "application/x-ndjson"
    assert client.login(username=coordinator.username, password=PASSWORD)
    web = client.get(reverse("review:audit_verified_jsonl", args=[three_way.pk])).content
    assert verified.content == web
    assert [json.loads(line)["code"] for line in verified.content.decode().splitlines()] == [
        r.code for r in data.reports
    ]


def test_unresolved_count_includes_additions_without_a_majority(client, three_way, coordinator):
    from review.models import AddedAdjudication

    report = Report.objects.get(memberships__study=three_way)
    a3 = Assignment.objects.filter(study=three_way).order_by("reviewer_id").last()
    missed = span(TEXT, "antalgiques")
    AddedAnnotation.objects.create(
        assignment=a3,
        field="discharge_treatment",
        value="antalgiques",
        start=missed[0],
        end=missed[1],
    )  # one reviewer of three: no majority, no decision
    url = reverse("review:audit_results", args=[three_way.pk])
    assert client.login(username=coordinator.username, password=PASSWORD)

    def counted():
        response = client.get(url)
        assert response.status_code == 200
        return (
            response.context["unresolved"],
            response.context["unresolved_annotations"],
            response.context["unresolved_additions"],
        )

    # Annotations 3 and 4 have no majority verdict; the addition no strict majority.
    assert counted() == (3, 2, 1)
    page = client.get(url).content.decode()
    assert "Adjudication (3 unresolved)" in page
    assert (
        'title="Unresolved: 2 model annotations without a majority verdict, 1 added '
        'annotations without a strict majority"' in page
    )
    data = audit_data(study=three_way)
    card = dataset.verified_card(
        name="Audit", data=data, results=audit_results(data=data, n_boot=50)
    )
    assert "unresolved disagreements: 3 (2 model annotations, 1 added annotations)" in card
    AddedAdjudication.objects.create(
        study=three_way,
        report=report,
        field="discharge_treatment",
        start=missed[0],
        end=missed[1],
        accepted=False,
        decided_by=coordinator,
    )
    assert counted() == (2, 2, 0)  # rejected by the coordinator: decided
