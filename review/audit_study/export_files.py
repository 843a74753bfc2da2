"""The files of an annotation audit's exports, named as the web downloads name them: the
results CSVs, the verified JSONL, the verified archive (JSONL, BRAT, BIO, card) and the
dataset card. The coordinator's download views and `export_study` both write these bytes."""

from __future__ import annotations

from review import exports
from review.audit_study import dataset
from review.audit_study.results import AuditData, audit_data, audit_results, audit_tables
from review.models import Study


def csv_bytes(header, rows) -> bytes:
    return "".join(exports.csv_lines(header, rows)).encode("utf-8")


def card_text(study: Study, data: AuditData) -> str:
    return dataset.verified_card(name=study.name, data=data, results=audit_results(data=data))


def audit_files(*, study: Study) -> dict[str, bytes]:
    data = audit_data(study=study)
    results = audit_results(data=data)
    files = {
        f"{study.code}-{name}.csv": csv_bytes(*table)
        for name, table in sorted(audit_tables(results, data).items())
    }
    card = dataset.verified_card(name=study.name, data=data, results=results)
    files[f"{study.code}-verified.jsonl"] = "".join(dataset.verified_lines(data)).encode("utf-8")
    files[f"{study.code}-verified.zip"] = dataset.verified_archive(data, card=card)
    files[f"{study.code}-verified-card.md"] = card.encode("utf-8")
    return files
