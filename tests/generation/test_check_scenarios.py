import pytest
from django.core.management import CommandError, call_command

from generation.clinical import checker


def test_check_scenarios_prints_a_zero_rate_for_every_rule(db, capsys):
    call_command("check_scenarios", "--count", "400", "--seed", "3")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == (
        "400 scenarios · frame france-incidence-2023@3 · knowledge base oncology-fr@2 · seed 3"
    )
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:] if line.strip()}
    assert set(rows) == set(checker.RULES)
    assert all(values == ["0", "0.00%"] for values in rows.values())


def test_check_scenarios_site_filter_and_bad_input(db, capsys):
    call_command("check_scenarios", "--count", "50", "--site", "liver")
    assert "50 scenarios" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Site 'mars' is not in frame"):
        call_command("check_scenarios", "--count", "5", "--site", "mars")
    with pytest.raises(CommandError, match="Unknown knowledge base 'nope@3'"):
        call_command("check_scenarios", "--count", "5", "--guideline", "nope@3")
    with pytest.raises(CommandError, match="--count must be at least 1"):
        call_command("check_scenarios", "--count", "0")
