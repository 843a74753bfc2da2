"""The draw proposes only plans the patient is fit for, and says why when it falls back."""

from collections import Counter


def test_unfit_patient_gets_the_fallback_with_its_reasons(find):
    case = find("pancreas", lambda c: c.stage_group == "IV" and c.ecog == 2)
    assert case.plan == "pancreas-gemcitabine"
    assert case.plan_fallback == 1
    assert "pancreas-advanced-folfirinox: ECOG 2 > 1" in case.fallback_reasons


def test_endocrine_therapy_follows_sex_and_menopause(sample):
    by_status = Counter()
    for case in sample:
        if case.site != "breast" or case.biomarkers.get("HR") != "positive":
            continue
        drugs = {d for t in case.treatments if t.modality == "endocrine" for d in t.drugs}
        status = case.menopause or "man"
        if {"letrozole", "anastrozole", "exemestane"} & drugs and status != "post":
            assert "triptorelin" in drugs, (case.plan, status)
        by_status[status] += 1
    assert by_status["post"] > by_status["pre"] > 0


def test_cisplatin_only_for_cisplatin_eligible_patients(sample):
    given = [c for c in sample if any("cisplatin" in t.drugs for t in c.treatments)]
    assert len(given) > 20
    assert all(c.ecog <= 1 and c.labs.crcl_ml_min >= 60 for c in given)


def test_stays_follow_the_pathway(sample):
    for case in sample:
        prefix = case.tnm[:2] if case.tnm.startswith("yp") else case.tnm[:1]
        if case.reason == "diagnostic":
            assert case.timeline.current_step == -1
            assert all(t.status == "planned" for t in case.treatments)
            assert prefix in ("c", "") or case.site == "melanoma"
        if prefix == "yp":
            assert case.timeline.surgery_date is not None
        if case.complication == "febrile_neutropenia":
            assert case.labs.neutrophils_g_l < 0.5
