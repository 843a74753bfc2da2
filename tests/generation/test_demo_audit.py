"""The demo study passes its own leak audit, and its stand-ins are reproducible."""

import pytest
from django.core.management import call_command

from review.blinding.audit import blinding_audit
from review.models import Study

# Codes from a seeded stream: the audit's code checks see the same codes every run.
pytestmark = pytest.mark.usefixtures("seeded_codes")


def test_demo_reports_are_what_the_command_builds_from_the_export():
    call_command("demo_reports_build", "--check")


def test_seeded_demo_study_passes_its_own_leak_audit(db, capsys):
    call_command("seed_demo")
    study = Study.objects.get()
    assert study.house_style["abbreviations"]  # fixed at the opening
    result = blinding_audit(study=study, permutations=100)
    print(result.statistics, [(f.check, f.severity, f.message) for f in result.findings])
    # Six reports of each source: the typography classifier runs; what it finds is not
    # beyond chance (p >= 0.01), and nothing else tells the sources apart.
    assert result.statistics["formatting permutations"] == 100
    assert result.statistics["formatting p"] >= 0.01
    assert "formatting" not in {finding.check for finding in result.findings}
    assert result.leaks == []
    assert result.statistics["incoherent real"] == "0/6"
    assert result.statistics["incoherent synthetic"] == "0/6"
