import pytest

from review.exports import csv_lines, spreadsheet_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 6 12", "'+33 6 12"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-0.5", "-0.5"),
        ("+3", "+3"),
        ("-1e-3", "-1e-3"),
        (-0.5, "-0.5"),
        (7, "7"),
        (float("nan"), ""),
        (None, ""),
        ("plain text", "plain text"),
        (True, "true"),
    ],
)
def test_spreadsheet_cell_defuses_formulas_but_not_numbers(value, cell):
    assert spreadsheet_cell(value) == cell


def test_csv_lines_quotes_and_keeps_utf8():
    lines = list(csv_lines(["a", "b"], [['été, "oui"', "=1+1"]]))
    assert lines == ["a,b\n", '"été, ""oui""",\'=1+1\n']
