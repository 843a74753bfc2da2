import csv

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.review.rated_study import rated_study

HEADER = "report,source,reviewer,domain,score,comment\n"


def _write(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "ratings.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def _good_rows() -> str:
    lines = []
    for i in range(6):
        source = "real" if i % 2 else "synthetic"
        for reviewer, bump in (("R1", 0), ("R2", 1)):
            for domain in ("language_quality", "ai_authorship"):
                score = 5 + (i % 3) + bump if domain != "ai_authorship" else 3 + 4 * (i % 2 == 0)
                lines.append(f"C{i},{source},{reviewer},{domain},{score},fine\n")
    return "".join(lines)


def test_analyse_ratings_writes_tables_and_plots_without_database(tmp_path):
    path = _write(tmp_path, _good_rows())
    out = tmp_path / "out"
    call_command("analyse_ratings", str(path), "--out", str(out), "--bootstrap", "200")
    assert sorted(p.name for p in out.iterdir()) == [
        "agreement.csv",
        "authorship.csv",
        "breakdown.csv",
        "distributions.svg",
        "means.svg",
        "methods-en.md",
        "methods-fr.md",
        "results.json",
        "roc.svg",
        "summary.csv",
    ]
    assert "## Methods" in (out / "methods-en.md").read_text(encoding="utf-8")
    assert "## Méthodes" in (out / "methods-fr.md").read_text(encoding="utf-8")
    with (out / "agreement.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "domain",
        "scope",
        "statistic",
        "value",
        "ci_low",
        "ci_high",
        "n_reports",
        "n_reviewers",
        "k",
        "design",
        "valid",
        "recommended",
        "band",
        "ci_method",
        "note",
    ]
    # Two domains × three scopes (real, synthetic, then pooled) × ten statistics (a complete
    # crossed table: no sensitivity sub-table row).
    assert len(rows) == 1 + 60
    assert [row[1] for row in rows[1:11]] == ["real"] * 10
    recommended = [row for row in rows[1:] if row[11] == "true"]
    assert [(row[0], row[1], row[2]) for row in recommended][:3] == [
        ("language_quality", "real", "ICC(2,1)"),
        ("language_quality", "synthetic", "ICC(2,1)"),
        ("language_quality", "all", "ICC(2,1)"),
    ]
    # Three reports per source: the estimate without an interval, and the note says why.
    assert recommended[0][3:6] == ["0.6666666666666666", "", ""]
    assert recommended[0][14] == (
        "crossed design: the reviewers who rated at least half the reports filled four "
        "cells in five or more of theirs; the empty cells are missing ratings; fewer than 5 "
        "reports rated by two reviewers or more: no interval"
    )
    with (out / "authorship.csv").open(encoding="utf-8") as handle:
        authorship = list(csv.DictReader(handle))
    # Synthetic reports always score 7, real 3: perfect separation.
    assert authorship[0]["scope"] == "pooled"
    assert authorship[0]["auc"] == "1.0"
    assert (authorship[0]["n_real"], authorship[0]["n_synthetic"]) == ("6", "6")
    with (out / "summary.csv").open(encoding="utf-8") as handle:
        summary = list(csv.DictReader(handle))
    assert [row["domain"] for row in summary] == ["language_quality", "ai_authorship"]
    assert summary[0]["n_reports_real"] == "3"
    assert (out / "means.svg").read_text(encoding="utf-8").startswith("<svg")


@pytest.mark.parametrize(
    ("header", "body", "message"),
    [
        (
            "report,source,reviewer,domain,comment\n",
            "A,real,R1,language_quality,ok\n",
            "ratings.csv, line 1: missing column(s) score; the header must name "
            "report, source, reviewer, domain, score.",
        ),
        (
            HEADER,
            "A,real,R1,language_quality,7,\nB,real,R1,language_quality,seven,\n",
            "ratings.csv, line 3: score 'seven' is not a number.",
        ),
        (
            HEADER,
            "A,real,R1,language_quality,11,\n",
            "ratings.csv, line 2: score 11 is outside the scale 1–10.",
        ),
        (
            HEADER,
            "A,real,R1,language_quality,7.5,\n",
            "ratings.csv, line 2: score '7.5' is not a whole number.",
        ),
        (
            HEADER,
            "A,real,R1,language_quality,7,\nB,real,R1,language_quality,6,\n"
            "A,real,R1,language_quality,8,\n",
            "ratings.csv, line 4: report A was already rated by reviewer R1 in domain "
            "language_quality (line 2).",
        ),
        (
            HEADER,
            "A,real,R1,language_quality,7,\nB,fake,R1,language_quality,6,\n",
            "ratings.csv, line 3: unknown source 'fake' (expected real or synthetic).",
        ),
        (
            HEADER,
            "A,real,,language_quality,7,\n",
            "ratings.csv, line 2: empty reviewer.",
        ),
    ],
)
def test_analyse_ratings_bad_input_stops_with_one_message_and_writes_nothing(
    tmp_path, header, body, message
):
    path = _write(tmp_path, body, header)
    out = tmp_path / "out"
    with pytest.raises(CommandError) as error:
        call_command("analyse_ratings", str(path), "--out", str(out))
    assert str(error.value) == message
    assert not out.exists()


def test_analyse_ratings_custom_scale(tmp_path):
    path = _write(tmp_path, "A,real,R1,language_quality,0,\n")
    with pytest.raises(CommandError) as error:
        call_command("analyse_ratings", str(path), "--out", str(tmp_path / "o"), "--scale-min", "1")
    assert str(error.value) == "ratings.csv, line 2: score 0 is outside the scale 1–10."
    call_command(
        "analyse_ratings",
        str(path),
        "--out",
        str(tmp_path / "o"),
        "--scale-min",
        "0",
        "--scale-max",
        "4",
        "--bootstrap",
        "100",
    )
    assert (tmp_path / "o" / "summary.csv").exists()


def test_analyse_ratings_missing_file(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("analyse_ratings", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"))
    assert str(error.value) == f"{tmp_path / 'nope.csv'}: no such file."


def test_export_study_writes_every_file(tmp_path, coordinator, reviewers):
    study = rated_study(coordinator=coordinator, reviewers=reviewers, n_real=2, n_synthetic=2)
    out = tmp_path / "export"
    call_command("export_study", study.code, "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == [
        "agreement.csv",
        "authorship.csv",
        "breakdown.csv",
        "dataset-card.md",
        "dataset.jsonl",
        "distributions.svg",
        "means.svg",
        "methods-en.md",
        "methods-fr.md",
        "ratings.csv",
        "results.json",
        "roc.svg",
        "study.json",
        "summary.csv",
    ]
    assert len((out / "dataset.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    # Header + 4 reports × 2 reviewers × 6 domains.
    assert len((out / "ratings.csv").read_text(encoding="utf-8").splitlines()) == 1 + 48
    call_command("export_study", str(study.pk), "--out", str(tmp_path / "by-id"))
    assert (tmp_path / "by-id" / "summary.csv").exists()


@pytest.mark.django_db
def test_export_study_unknown_study(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("export_study", "S-NOPE", "--out", str(tmp_path / "x"))
    assert str(error.value) == "No study with id or code 'S-NOPE'."
    assert not (tmp_path / "x").exists()
