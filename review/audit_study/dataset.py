"""The verified dataset of an annotation audit.

Per report: the model's annotations, each reviewer's verdicts and additions, and the
adjudicated labels; written as JSON Lines with character spans, BRAT standoff (`.txt` +
`.ann`) and token-level BIO (CoNLL columns), split into train/dev/test by report with the
study's seed, so that every format puts a report in the same part.

Adjudication of a model annotation: the coordinator's decision if there is one, else the
verdict of a strict majority of the reviewers who submitted the report; without a
majority the annotation is *unresolved* and left out of the labels until the coordinator
decides (the adjudication page lists it). A reviewer's added annotation becomes a label
when a strict majority of the report's reviewers added one of the same field overlapping
it (their most common span and value); the coordinator may accept or reject a group
without a majority (the decision names the field and one span of the group, and wins over
the count), and an accepted group is a label with the decision's span and value.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from review.audit_study.results import (
    AddedDecision,
    AuditData,
    AuditResults,
    Decision,
    ReportAudit,
    ReviewerAddition,
    ReviewerVerdict,
)
from review.audit_study.selectors import annotation_span

# Named and versioned in every BIO file: a model trained on these tokens must be fed the
# same tokens. Version 1: runs of word characters, or any other non-space character alone.
TOKENISER = "synthreports-regex"
TOKENISER_VERSION = "1"
TOKEN_PATTERN = re.compile(r"\w+|[^\w\s]")
SPLIT_FRACTIONS = (("train", 0.8), ("dev", 0.1), ("test", 0.1))

MAJORITY = "majority"
COORDINATOR = "coordinator"
UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class Label:
    """One verified label: a span of the text with its field and value."""

    field: str
    value: str
    start: int
    end: int
    origin: str  # "model" (a judged model annotation) or "added" (one the model missed)
    decision: str  # majority | coordinator
    annotation: int | None = None  # the model annotation's index, for origin "model"


@dataclass(frozen=True)
class Adjudication:
    annotation: int
    decision: str  # majority | coordinator | unresolved
    verdict: str  # the adjudicated verdict ("" when unresolved)
    votes: dict[str, int]
    label: Label | None  # None: dropped (not in text, no usable correction) or unresolved


def _majority(items: list, total: int):
    """The item held by a strict majority of `total` voters, or None."""
    if not items:
        return None
    (top, n), *rest = Counter(items).most_common()
    if n * 2 > total and not (rest and rest[0][1] == n):
        return top
    return None


def adjudicate_annotation(
    *,
    index: int,
    annotation: dict,
    verdicts: list[ReviewerVerdict],
    reviewers: int,
    decision: Decision | None,
) -> Adjudication:
    votes = dict(Counter(v.verdict for v in verdicts))
    span = annotation_span(annotation)
    field = str(annotation.get("field", ""))
    value = str(annotation.get("value", ""))
    if decision is not None:
        how, verdict = COORDINATOR, decision.verdict
        new_value, new_span = (
            decision.value,
            ((decision.start, decision.end) if decision.start is not None else None),
        )
    else:
        verdict = _majority([v.verdict for v in verdicts], max(reviewers, len(verdicts)))
        if verdict is None:
            return Adjudication(index, UNRESOLVED, "", votes, None)
        how = MAJORITY
        voters = [v for v in verdicts if v.verdict == verdict]
        new_value = _majority([v.corrected_value for v in voters if v.corrected_value], len(voters))
        spans = [
            (v.corrected_start, v.corrected_end) for v in voters if v.corrected_start is not None
        ]
        new_span = _majority(spans, len(voters))
    label: Label | None = None
    if verdict == "correct" and span:
        label = Label(field, value, span[0], span[1], "model", how, index)
    elif verdict == "wrong_value" and span and new_value:
        label = Label(field, new_value, span[0], span[1], "model", how, index)
    elif verdict == "wrong_span" and new_span and None not in new_span:
        start, end = new_span
        assert start is not None and end is not None  # narrowed above
        label = Label(field, value, start, end, "model", how, index)
    return Adjudication(index, how, verdict, votes, label)


@dataclass(frozen=True)
class AdditionGroup:
    """Overlapping additions of one field by the report's reviewers, and what became of it."""

    field: str
    start: int  # the group's most common span and value
    end: int
    value: str
    reviewers: list[str]
    additions: list[ReviewerAddition]
    decision: str  # majority | coordinator | unresolved
    accepted: bool  # a label (majority, or accepted by the coordinator)
    label: Label | None


def addition_groups(
    *,
    added: list[ReviewerAddition],
    reviewers: int,
    decisions: list[AddedDecision] | tuple[AddedDecision, ...] = (),
) -> list[AdditionGroup]:
    """Additions overlapping one another with the same field form a group; a group added
    by a strict majority of the report's reviewers is a label, unless the coordinator
    decided on it (accepted: a label with the decision's span and value; rejected: none)."""
    groups: list[list[ReviewerAddition]] = []
    for addition in sorted(added, key=lambda a: (a.field, a.start, a.end)):
        for group in groups:
            if any(
                g.field == addition.field and g.start < addition.end and addition.start < g.end
                for g in group
            ):
                group.append(addition)
                break
        else:
            groups.append([addition])
    out = []
    for group in groups:
        (start, end), _n = Counter((a.start, a.end) for a in group).most_common(1)[0]
        value, _n = Counter(a.value for a in group).most_common(1)[0]
        names = sorted({a.reviewer for a in group})
        spans = {(a.field, a.start, a.end) for a in group}
        decided = next((d for d in decisions if (d.field, d.start, d.end) in spans), None)
        label: Label | None = None
        if decided is not None:
            how, accepted = COORDINATOR, decided.accepted
            if accepted:
                label = Label(
                    group[0].field,
                    decided.value or value,
                    decided.start,
                    decided.end,
                    "added",
                    COORDINATOR,
                )
        elif len(names) * 2 > reviewers:
            how, accepted = MAJORITY, True
            label = Label(group[0].field, value, start, end, "added", MAJORITY)
        else:
            how, accepted = UNRESOLVED, False
        out.append(
            AdditionGroup(group[0].field, start, end, value, names, group, how, accepted, label)
        )
    return out


def adjudicate_additions(
    *,
    added: list[ReviewerAddition],
    reviewers: int,
    decisions: list[AddedDecision] | tuple[AddedDecision, ...] = (),
) -> list[Label]:
    groups = addition_groups(added=added, reviewers=reviewers, decisions=decisions)
    return [g.label for g in groups if g.label is not None]


def report_addition_groups(report: ReportAudit) -> list[AdditionGroup]:
    return addition_groups(
        added=report.added, reviewers=len(report.reviewers), decisions=report.added_decisions
    )


def report_adjudications(report: ReportAudit) -> list[Adjudication]:
    n = len(report.reviewers)
    return [
        adjudicate_annotation(
            index=index,
            annotation=annotation,
            verdicts=report.verdicts.get(index, []),
            reviewers=n,
            decision=report.decisions.get(index),
        )
        for index, annotation in enumerate(report.annotations)
        if report.verdicts.get(index) or index in report.decisions
    ]


def report_labels(report: ReportAudit) -> list[Label]:
    labels = [a.label for a in report_adjudications(report) if a.label is not None]
    labels += [g.label for g in report_addition_groups(report) if g.label is not None]
    return sorted(labels, key=lambda label: (label.start, label.end, label.field))


@dataclass(frozen=True)
class Unresolved:
    """What the verified dataset leaves out until the coordinator decides: model annotations
    without a majority verdict, and groups of added annotations held by no strict majority
    of the report's reviewers."""

    annotations: int
    additions: int

    @property
    def total(self) -> int:
        return self.annotations + self.additions


def unresolved_of(data: AuditData) -> Unresolved:
    annotations = additions = 0
    for report in data.reports:
        annotations += sum(1 for a in report_adjudications(report) if a.decision == UNRESOLVED)
        additions += sum(1 for g in report_addition_groups(report) if g.decision == UNRESOLVED)
    return Unresolved(annotations, additions)


def split_of(data: AuditData) -> dict[str, str]:
    """train/dev/test by report, seeded by the study: the same study exports the same split."""
    codes = sorted(r.code for r in data.reports)
    random.Random(f"{data.seed}:split").shuffle(codes)
    n = len(codes)
    n_dev = round(n * SPLIT_FRACTIONS[1][1])
    n_test = round(n * SPLIT_FRACTIONS[2][1])
    n_train = n - n_dev - n_test
    parts = ["train"] * n_train + ["dev"] * n_dev + ["test"] * n_test
    return dict(zip(codes, parts, strict=True))


def verified_lines(data: AuditData) -> Iterator[str]:
    """JSON Lines: one audited report per line (no provenance: the card summarises it, and
    the dataset's users need the labels, not the batch)."""
    split = split_of(data)
    for report in data.reports:
        adjudications = report_adjudications(report)
        record = {
            "code": report.code,
            "split": split[report.code],
            "language": report.language,
            "text": report.text,
            "model_annotations": report.annotations,
            "reviewers": report.reviewers,
            "verdicts": {
                reviewer: [
                    {
                        "annotation": index,
                        **{k: v for k, v in asdict(verdict).items() if k != "reviewer"},
                    }
                    for index, votes in sorted(report.verdicts.items())
                    for verdict in votes
                    if verdict.reviewer == reviewer
                ]
                for reviewer in report.reviewers
            },
            "added": {
                reviewer: [
                    {k: v for k, v in asdict(a).items() if k != "reviewer"}
                    for a in report.added
                    if a.reviewer == reviewer
                ]
                for reviewer in report.reviewers
            },
            "adjudication": [
                {
                    "annotation": a.annotation,
                    "decision": a.decision,
                    "verdict": a.verdict,
                    "votes": a.votes,
                }
                for a in adjudications
            ],
            "added_adjudication": [
                {
                    "field": g.field,
                    "start": g.start,
                    "end": g.end,
                    "reviewers": g.reviewers,
                    "decision": g.decision,
                    "accepted": g.accepted,
                }
                for g in report_addition_groups(report)
            ],
            "labels": [asdict(label) for label in report_labels(report)],
        }
        yield json.dumps(record, ensure_ascii=False) + "\n"


# --- BRAT standoff ------------------------------------------------------------------------


def brat_fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """BRAT spans may not cross a line break: a multi-line span is written as fragments
    ("0 5;6 9"), one per line, line breaks left out."""
    fragments, cursor = [], start
    for match in re.finditer("\n", text[start:end]):
        stop = start + match.start()
        if stop > cursor:
            fragments.append((cursor, stop))
        cursor = stop + 1
    if end > cursor:
        fragments.append((cursor, end))
    return fragments


def brat_ann(text: str, labels: list[Label]) -> str:
    lines = []
    for number, label in enumerate(labels, start=1):
        fragments = brat_fragments(text, label.start, label.end)
        where = ";".join(f"{a} {b}" for a, b in fragments)
        shown = " ".join(text[a:b] for a, b in fragments)
        lines.append(f"T{number}\t{label.field} {where}\t{shown}\n")
        # The normalised value (a date in ISO form, a stage…) rides in an annotator note.
        lines.append(f"#{number}\tAnnotatorNotes T{number}\t{label.value}\n")
    return "".join(lines)


def brat_read(ann: str) -> list[tuple[str, int, int, str]]:
    """(field, start, end, value) per text-bound annotation of an `.ann` file."""
    spans: dict[str, tuple[str, int, int]] = {}
    notes: dict[str, str] = {}
    for line in ann.splitlines():
        if line.startswith("T"):
            key, kind_where, _text = line.split("\t", 2)
            kind, where = kind_where.split(" ", 1)
            offsets = [tuple(map(int, part.split())) for part in where.split(";")]
            spans[key] = (kind, min(a for a, _ in offsets), max(b for _, b in offsets))
        elif line.startswith("#"):
            _key, target, note = line.split("\t", 2)
            notes[target.split(" ")[1]] = note
    return [(kind, start, end, notes.get(key, "")) for key, (kind, start, end) in spans.items()]


def brat_config(fields: list[str]) -> str:
    return (
        "[entities]\n" + "".join(f"{f}\n" for f in fields) + "[relations]\n[events]\n[attributes]\n"
    )


# --- token-level BIO (CoNLL columns) --------------------------------------------------------


def tokens_of(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in TOKEN_PATTERN.finditer(text)]


def bio_tags(text: str, labels: list[Label]) -> tuple[list[tuple[str, int, int, str]], int]:
    """Each token with its tag; a span covers the tokens it touches (a span ending inside
    a word is widened to the word). BIO holds one label per token: of overlapping labels
    the first (by start) is kept, and the count of those left out is returned."""
    tokens = tokens_of(text)
    tags = ["O"] * len(tokens)
    dropped = 0
    for label in sorted(labels, key=lambda lab: (lab.start, lab.end)):
        covered = [i for i, (_t, a, b) in enumerate(tokens) if a < label.end and label.start < b]
        if not covered or any(tags[i] != "O" for i in covered):
            dropped += 1
            continue
        for n, i in enumerate(covered):
            tags[i] = f"{'B' if n == 0 else 'I'}-{label.field}"
    return [(t, a, b, tag) for (t, a, b), tag in zip(tokens, tags, strict=True)], dropped


def bio_header() -> str:
    return (
        f"# tokeniser = {TOKENISER} {TOKENISER_VERSION} (regex {TOKEN_PATTERN.pattern}, Unicode)\n"
        "# columns = token start end tag\n"
    )


def bio_document(code: str, split: str, text: str, labels: list[Label]) -> str:
    rows, dropped = bio_tags(text, labels)
    head = f"# doc = {code}\n# split = {split}\n# overlapping labels left out = {dropped}\n"
    body = "".join(f"{t}\t{a}\t{b}\t{tag}\n" for t, a, b, tag in rows)
    return head + body + "\n"


def bio_read(content: str) -> dict[str, list[tuple[str, int, int]]]:
    """(field, start, end) spans per document of a BIO file written by `bio_document`."""
    documents: dict[str, list[tuple[str, int, int]]] = {}
    code = ""
    current: list | None = None
    for line in content.splitlines():
        if line.startswith("# doc = "):
            code = line[len("# doc = ") :]
            documents[code] = []
            current = None
            continue
        if not line or line.startswith("#"):
            current = None
            continue
        _token, start, end, tag = line.split("\t")
        if tag.startswith("B-"):
            current = [tag[2:], int(start), int(end)]
            documents[code].append(current)  # type: ignore[arg-type]
        elif tag.startswith("I-") and current is not None and current[0] == tag[2:]:
            current[2] = int(end)
        else:
            current = None
    return {k: [tuple(s) for s in v] for k, v in documents.items()}  # type: ignore[misc]


# --- the archive ---------------------------------------------------------------------------


def _put(archive: zipfile.ZipFile, name: str, text: str) -> None:
    """A member dated 1980-01-01: the same study makes the same bytes, from the web page or
    from `export_study`, whenever it is exported."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, text)


def verified_archive(data: AuditData, *, card: str) -> bytes:
    """One zip: the JSONL, BRAT per split (with annotation.conf), BIO per split, the card."""
    split = split_of(data)
    buffer = io.BytesIO()
    fields: set[str] = set()
    bio: dict[str, list[str]] = {part: [bio_header()] for part, _f in SPLIT_FRACTIONS}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _put(archive, "verified.jsonl", "".join(verified_lines(data)))
        for report in data.reports:
            labels = report_labels(report)
            fields.update(label.field for label in labels)
            part = split[report.code]
            _put(archive, f"brat/{part}/{report.code}.txt", report.text)
            _put(archive, f"brat/{part}/{report.code}.ann", brat_ann(report.text, labels))
            bio[part].append(bio_document(report.code, part, report.text, labels))
        _put(archive, "brat/annotation.conf", brat_config(sorted(fields)))
        for part, documents in bio.items():
            _put(archive, f"bio/{part}.conll", "".join(documents))
        _put(archive, "dataset-card.md", card)
    return buffer.getvalue()


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def verified_card(*, name: str, data: AuditData, results: AuditResults) -> str:
    """Markdown card of the verified dataset: counts by field and the audit's figures."""
    split = split_of(data)
    model_fields: Counter[str] = Counter()
    label_fields: Counter[str] = Counter()
    for report in data.reports:
        model_fields.update(str(a.get("field") or "?") for a in report.annotations)
        label_fields.update(label.field for label in report_labels(report))
    unresolved = unresolved_of(data)
    lines = [
        f"# Dataset card: {name} ({data.study_code}), verified annotations\n\n",
        "Synthetic oncology hospitalization reports whose model annotations were verified by "
        "physicians in an annotation audit (one verdict per annotation: correct, wrong value, "
        "wrong span, not in text; missed annotations added).\n\n",
        "## Contents\n\n",
        f"- Reports: {len(data.reports)} (train {sum(1 for v in split.values() if v == 'train')}, "
        f"dev {sum(1 for v in split.values() if v == 'dev')}, "
        f"test {sum(1 for v in split.values() if v == 'test')}; split by report, seed "
        f"{data.seed})\n",
        f"- Model annotations: {sum(model_fields.values())}; verified labels: "
        f"{sum(label_fields.values())}; unresolved disagreements: {unresolved.total} "
        f"({unresolved.annotations} model annotations, {unresolved.additions} added "
        "annotations)\n",
        "- Formats: `verified.jsonl` (text, model annotations, each reviewer's verdicts and "
        "additions, adjudication, labels with character offsets), `brat/` (standoff "
        "`.txt` + `.ann`, the value in an AnnotatorNotes line), `bio/*.conll` (token, start, "
        f"end, BIO tag; tokeniser {TOKENISER} version {TOKENISER_VERSION}).\n",
        "- Adjudication: the coordinator's decision, else a strict majority of the "
        "reviewers; added annotations kept when a strict majority added them.\n\n",
        "## Annotations by field\n\n",
        "| Field | Model annotations | Verified labels |\n|---|---|---|\n",
    ]
    for name_ in sorted(set(model_fields) | set(label_fields)):
        lines.append(f"| {name_} | {model_fields[name_]} | {label_fields[name_]} |\n")
    lines += [
        "\n## Annotation quality (audit)\n\n",
        "Proportions over the reviewers' verdicts; 95% intervals from a bootstrap over "
        "reports.\n\n",
        "| Field | Verdicts | Value precision | Span precision (exact) | Span precision "
        "(overlap) | Recall |\n|---|---|---|---|---|---|\n",
    ]
    for row in results.metrics:

        def cell(metric: str, row=row) -> str:
            low, high = row.get(f"{metric}_ci_low"), row.get(f"{metric}_ci_high")
            interval = f" [{_pct(low)}, {_pct(high)}]" if low is not None else ""
            return _pct(row.get(metric)) + interval

        lines.append(
            f"| {row['field']} | {row['n_verdicts']} | {cell('value_precision')} | "
            f"{cell('span_exact_precision')} | {cell('span_overlap_precision')} | "
            f"{cell('recall')} |\n"
        )
    agreement = results.agreement
    kappa = agreement.get("fleiss_kappa")
    alpha = agreement.get("krippendorff_alpha")
    lines.append(
        f"\nAgreement on the verdicts: Fleiss' kappa "
        f"{'–' if kappa is None else f'{kappa:.2f}'} ({agreement.get('fleiss_items')} "
        f"annotations × {agreement.get('fleiss_raters')} reviewers), Krippendorff's alpha "
        f"(nominal) {'–' if alpha is None else f'{alpha:.2f}'}.\n\n"
        "## Caveats\n\nThe reports are synthetic: names, dates and places are invented. "
        "Not for clinical use.\n"
    )
    return "".join(lines)
