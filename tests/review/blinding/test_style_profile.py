"""Style profile of an import's real reports."""

from pathlib import Path

import pytest

from review.blinding.style_profile import (
    StyleProfile,
    style_profile_build,
    style_profile_from_import,
)
from review.imports.parsing import ImportLimits, ImportOptions, parse_upload
from review.imports.services import report_import_commit
from tests.factories import ReportFactory

EXPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "exports"


def _texts(name):
    parsed = parse_upload(
        (EXPORTS / name).read_bytes(),
        file_name=name,
        options=ImportOptions(),
        limits=ImportLimits.from_settings(),
    )
    return [(record.text, "fr") for record in parsed.records]


def test_profile_of_the_export_fixtures():
    reports = [
        pair
        for name in ("reports_crlf.jsonl", "reports_latin1.csv", "report_cp1252.txt")
        for pair in _texts(name)
    ]
    profile = style_profile_build(reports=reports)
    assert profile.reports == 5
    assert profile.sections == ("Antécédents", "Conclusion")
    assert profile.heading_style == "title"
    assert profile.length_quantiles == tuple(sorted(profile.length_quantiles))
    assert profile.length_target(draw=0.5) == profile.length_quantiles[2]
    assert profile.length_target(draw=0.0) == profile.length_quantiles[0]


def test_heading_style_numbered_and_capitals():
    numbered = "1. ANTECEDENTS\nHTA.\n\n2. CONCLUSION\nStable."
    capitals = "ANTECEDENTS\nHTA.\n\nCONCLUSION\nStable."
    assert style_profile_build(reports=[(numbered, "fr")] * 2).heading_style == "numbered"
    assert style_profile_build(reports=[(capitals, "fr")] * 2).heading_style == "capitals"
    profile = style_profile_build(reports=[(capitals, "fr")] * 2)
    assert profile.sections == ("Antécédents", "Conclusion")
    assert profile.abbreviations == ("HTA",)


def test_profile_from_an_import_reads_its_reports(coordinator):
    data = (EXPORTS / "reports_latin1.csv").read_bytes()
    report_import = report_import_commit(
        data=data, file_name="export.csv", options=ImportOptions(), created_by=coordinator
    )
    ReportFactory(text="ANTECEDENTS\nAutre import.")  # not part of this import
    profile = style_profile_from_import(report_import=report_import)
    assert profile.reports == 2
    # Each of two reports is half of them: every section counts, by median position.
    assert profile.sections == (
        "Antécédents",
        "Traitement de sortie",
        "Histoire de la maladie",
        "Conclusion",
    )
    assert profile.heading_style == "capitals"
    assert profile.abbreviations == ("RCP",)


def test_empty_profile_refused():
    with pytest.raises(ValueError, match="at least one report"):
        style_profile_build(reports=[])
    assert StyleProfile.__dataclass_params__.frozen
