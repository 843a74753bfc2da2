"""Anchors that survive repetition, end to end: an extraction naming the second "FLOT"
(occurrence 2) is stored at the second offset, and both viewers (the coordinator's report
page and the audit page) highlight it there, not on the first mention."""

import re

from generation.output import ExtractionAnnotation
from generation.validation import _locate
from review.annotations import annotated_text
from review.audit_study.rendering import MarkedSpan, marked_text

NARRATIVE = "Plan : FLOT avant la gastrectomie, puis FLOT après la chirurgie. ECOG 1."


def _spans():
    spans, flags = _locate(
        NARRATIVE,
        [
            ExtractionAnnotation(
                field="treatment", value="FLOT néoadjuvant", segment="FLOT", occurrence=1
            ),
            ExtractionAnnotation(
                field="treatment", value="FLOT adjuvant", segment="FLOT", occurrence=2
            ),
        ],
    )
    assert flags == []
    return spans


def test_occurrence_two_is_stored_at_the_second_offset():
    first, second = NARRATIVE.index("FLOT"), NARRATIVE.index("FLOT", NARRATIVE.index("FLOT") + 1)
    assert [(s["value"], s["start"], s["end"]) for s in _spans()] == [
        ("FLOT néoadjuvant", first, first + 4),
        ("FLOT adjuvant", second, second + 4),
    ]


def test_report_viewer_highlights_each_flot_where_it_is():
    html = str(annotated_text(NARRATIVE, _spans()).html)
    links = [
        (m.start(), m.group(1)) for m in re.finditer(r'<a [^>]*title="treatment: ([^"]+) \[', html)
    ]
    assert [value for _at, value in links] == ["FLOT néoadjuvant", "FLOT adjuvant"]
    # What precedes the second link is the text up to the second mention.
    before_second = re.sub(r"<[^>]+>", "", html[: links[1][0]])
    assert before_second == NARRATIVE[: NARRATIVE.index("FLOT", NARRATIVE.index("FLOT") + 1)]


def test_audit_page_marks_each_flot_where_it_is():
    spans = _spans()
    marks = [
        MarkedSpan(index=i, field=s["field"], colour=18, start=s["start"], end=s["end"])
        for i, s in enumerate(spans)
    ]
    html = str(marked_text(NARRATIVE, marks))
    second = html.index('data-ann="1"')
    assert re.sub(r"<[^>]+>", "", html[:second]).count("FLOT") == 1
    assert re.sub(r"<[^>]+>", "", html) == NARRATIVE
