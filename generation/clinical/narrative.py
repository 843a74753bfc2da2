"""Sentences of a stay that follow from the clinical case, for the offline writer (and prompts).

Each function states one part of the stay the way the case makes it true: the strategy with
concurrent treatments written as one combination and sequences as sequences, the course of
the stay by its reason (recovery by procedure, the complication the current drugs can cause,
the first administration by route), laboratory values consistent with the disease, and the
discharge treatment with the comorbidities' usual drugs.
"""

from __future__ import annotations

import datetime as dt

from generation.clinical.draw import ClinicalCase, Treatment
from generation.clinical.knowledge import KnowledgeBase


def _date(value: str, language: str) -> str:
    day = dt.date.fromisoformat(value)
    return day.strftime("%d/%m/%Y" if language == "fr" else "%m/%d/%Y")


def regimen_label(treatment: Treatment, language: str) -> str:
    return treatment.regimen if language == "fr" else treatment.regimen_en


def strategy_steps(case: ClinicalCase) -> list[list[Treatment]]:
    steps: dict[int, list[Treatment]] = {}
    for t in case.treatments:
        steps.setdefault(t.step, []).append(t)
    return [steps[index] for index in sorted(steps)]


def step_joiners(language: str) -> tuple[str, str, str]:
    """(between concurrent treatments, after a concurrent combination, between steps)."""
    if language == "fr":
        return " + ", " (en association concomitante)", ", puis "
    return " + ", " (given concurrently)", ", then "


def stage_phrase(case: ClinicalCase, language: str) -> str:
    if not case.tnm:
        child = f", Child-Pugh {case.child_pugh}" if case.child_pugh else ""
        return f"BCLC {case.stage}{child}"
    edition = "AJCC 8e édition" if language == "fr" else "AJCC 8th edition"
    word = "stade" if language == "fr" else "stage"
    return f"{case.tnm}, {word} {case.stage} ({edition})"


def course_text(kb: KnowledgeBase, case: ClinicalCase, language: str) -> str:
    fr = language == "fr"
    current = [t for t in case.treatments if t.step == case.timeline.current_step]
    if case.reason == "surgery":
        if case.postoperative is not None:
            return getattr(kb.postoperative[case.postoperative], language)
        procedure = next(t.procedure for t in current if t.procedure)
        recovery = kb.procedures[procedure or ""].recovery
        return getattr(kb.recovery[recovery], language)
    if case.reason == "toxicity" and case.complication:
        text = getattr(kb.complications[case.complication], language)
        return ("Hospitalisation pour " if fr else "Admitted with ") + text + "."
    if case.reason == "systemic_start":
        routes = {kb.drugs[d].route for t in current for d in t.drugs}
        radiation = any(t.modality in ("chemoradiation", "radiotherapy") for t in current)
        parts = []
        if radiation:
            parts.append(
                "Première séance de radiothérapie réalisée, bonne tolérance."
                if fr
                else "First radiotherapy fraction delivered with good tolerance."
            )
        if "iv" in routes:
            parts.append(
                "Premier cycle administré selon le protocole, bonne tolérance immédiate, pas de "
                "réaction à la perfusion."
                if fr
                else "The first cycle was given as planned with good immediate tolerance and no "
                "infusion reaction."
            )
        if "oral" in routes:
            parts.append(
                "Initiation du traitement oral avec consultation d'éducation thérapeutique."
                if fr
                else "Oral treatment started with a patient education session."
            )
        if routes & {"im", "sc"}:
            parts.append(
                "Première injection réalisée sans incident."
                if fr
                else "First injection given without incident."
            )
        return " ".join(parts)
    if case.reason == "diagnostic":
        return (
            "Réalisation du bilan diagnostique et d'extension, dossier présenté en réunion de "
            "concertation pluridisciplinaire."
            if fr
            else "Diagnostic and staging work-up completed; the case was discussed at the "
            "multidisciplinary tumour board."
        )
    if any(t.modality == "surgery" for t in current):
        return (
            "Réhospitalisation au décours de l'intervention pour douleurs et asthénie ; examen "
            "et bilan sans complication chirurgicale, adaptation des antalgiques, reprise "
            "progressive de l'autonomie."
            if fr
            else "Readmitted after the operation with pain and fatigue; examination and tests "
            "showed no surgical complication; analgesia adjusted, gradual return to "
            "independence."
        )
    return (
        "Prise en charge d'une altération de l'état général avec douleurs mal contrôlées. "
        "Adaptation du traitement antalgique, avis de l'équipe de soins de support, "
        "amélioration progressive."
        if fr
        else "Managed for deterioration of general condition with poorly controlled pain. "
        "Analgesia was adjusted and the supportive care team consulted, with gradual "
        "improvement."
    )


def _fr(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def labs_text(case: ClinicalCase, language: str) -> str:
    labs = case.labs
    if language == "fr":
        liver = (
            "bilan hépatique normal"
            if labs.liver_tests == "normal"
            else f"bilan hépatique perturbé (ALAT {labs.alt_iu_l} UI/L, bilirubine totale "
            f"{labs.bilirubin_umol_l} µmol/L, albumine {labs.albumin_g_l} g/L)"
        )
        return (
            # French decimal comma, as French reports write it (issue 15: a decimal point
            # in every synthetic report told the source).
            f"Biologie : hémoglobine {_fr(labs.haemoglobin_g_dl)} g/dL, polynucléaires "
            f"neutrophiles {_fr(labs.neutrophils_g_l)} G/L, créatininémie "
            f"{labs.creatinine_umol_l} µmol/L (clairance de la créatinine selon Cockcroft-Gault "
            f"{labs.crcl_ml_min} mL/min), {liver}."
        )
    liver = (
        "liver tests normal"
        if labs.liver_tests == "normal"
        else f"abnormal liver tests (ALT {labs.alt_iu_l} IU/L, total bilirubin "
        f"{labs.bilirubin_umol_l} µmol/L, albumin {labs.albumin_g_l} g/L)"
    )
    return (
        f"Bloods: haemoglobin {labs.haemoglobin_g_dl:.1f} g/dL, neutrophils "
        f"{labs.neutrophils_g_l:.1f} G/L, creatinine {labs.creatinine_umol_l} µmol/L "
        f"(Cockcroft-Gault clearance {labs.crcl_ml_min} mL/min), {liver}."
    )


def history_text(case: ClinicalCase, language: str) -> str:
    """Diagnosis date and the treatments already given, with their dates."""
    fr = language == "fr"
    parts = [
        ("Diagnostic posé le " if fr else "Diagnosed on ")
        + _date(case.timeline.diagnosis_date, language)
        + "."
    ]
    progression = case.timeline.progression_date
    for step in strategy_steps(case):
        done = [t for t in step if t.status == "done" and t.start_date]
        if not done:
            continue
        label = " + ".join(regimen_label(t, language) for t in done)
        start = _date(done[0].start_date or "", language)
        line = done[0].line
        if line is not None and fr:
            label = f"{label} en {'1re' if line == 1 else f'{line}e'} ligne"
        elif line is not None:
            label = f"{label} as line {line}"
        parts.append(
            # "début le": no "débuté(e)" left to agree (an unresolved "(e)" reads as a
            # template and tells the source, issue 15).
            f"{label[0].upper()}{label[1:]} : début le {start}."
            if fr
            else f"{label[0].upper()}{label[1:]} started on {start}."
        )
        later = [t for t in case.treatments if t.line is not None and line is not None]
        if progression and line is not None and any(t.line == line + 1 for t in later):
            parts.append(
                f"Progression le {_date(progression, language)}."
                if fr
                else f"Disease progression on {_date(progression, language)}."
            )
    if case.timeline.surgery_date and case.reason != "surgery":
        parts.append(
            ("Intervention chirurgicale le " if fr else "Surgery on ")
            + _date(case.timeline.surgery_date, language)
            + "."
        )
    return " ".join(parts)


def discharge_treatment(kb: KnowledgeBase, case: ClinicalCase, language: str) -> str:
    """Comorbidity drugs continued, the oral/endocrine cancer treatment under way, analgesia."""
    items = [
        getattr(kb.comorbidity_drugs[c], language)
        for c in case.comorbidities
        if c in kb.comorbidity_drugs
    ]
    for t in case.treatments:
        if t.status != "current":
            continue
        oral = [d for d in t.drugs if kb.drugs[d].route == "oral"]
        if oral:
            items.append(" + ".join(getattr(kb.drugs[d], language) for d in oral))
    items.append(
        "paracétamol 1 g jusqu'à 3 fois par jour si douleur"
        if language == "fr"
        else "paracetamol 1 g up to three times daily as needed"
    )
    return "; ".join(items)


def strategy_text(case: ClinicalCase, language: str) -> str:
    """The whole strategy: concurrent treatments as one combination, steps in sequence."""
    within, concurrent, between = step_joiners(language)
    parts = []
    for step in strategy_steps(case):
        text = within.join(regimen_label(t, language) for t in step)
        if len(step) > 1:
            text += concurrent
        parts.append(text)
    return between.join(parts)


def stay_text(kb: KnowledgeBase, case: ClinicalCase, language: str) -> str:
    """Everything the case makes true about the stay, in one text (tests, previews)."""
    return "\n".join(
        [
            strategy_text(case, language),
            history_text(case, language),
            labs_text(case, language),
            course_text(kb, case, language),
            discharge_treatment(kb, case, language),
        ]
    )
