"""The offline writer follows French conventions and agrees with the patient's sex."""

import re

from review.coherence import report_coherence_check
from tests.generation.test_validation import _offline


def test_offline_french_reports_agree_with_sex_and_use_decimal_comma(frame_model):
    styles = set()
    for index in range(40):
        scenario, data = _offline(frame_model, language="fr", index=index)
        text = data["narrative"]
        assert "(e)" not in text
        title, born = ("Madame", "née le") if scenario.sex == "F" else ("Monsieur", "né le")
        assert f"{title} {scenario.admin.patient_first_name}" in text
        assert f", {born} " in text
        assert re.search(r"hémoglobine \d+,\d g/dL", text)
        assert not re.search(r"\d\.\d g/dL", text)
        assert report_coherence_check(text=text, language="fr") == []
        birth = re.search(r"née? le (\S+ ?\S* ?\d{4}|\d\d\.\d\d\.\d\d|\d\d/\d\d/\d{4})", text)
        value = birth.group(1)
        styles.add("dotted" if "." in value else "numeric" if "/" in value else "written")
    # Dates are written in the three ways French reports write them, one way per report.
    assert styles == {"dotted", "numeric", "written"}
