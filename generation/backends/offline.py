"""Offline writer: a deterministic, template-based report from the scenario, no network.

It keeps the demo and most tests independent of any server and goes through the same
parsing and validation as an LLM answer. Its reports are plausible but formulaic, and
their provenance says `backend: offline` so nobody mistakes them for model output.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from collections.abc import Sequence
from typing import Any

from generation import guidelines
from generation.backends.base import BackendError, BackendResult, GenerationRequest
from generation.clinical import narrative
from generation.clinical.knowledge import KnowledgeBase, default_knowledge
from generation.scenario import Scenario
from generation.vocabulary import (
    REASON_LABELS,
    REPORT_SECTIONS,
    SMOKING_LABELS,
    biomarker_value_label,
    comorbidity_label,
    format_date,
    heading_styled,
    regimen_label,
    styled_sections,
)
from review.conventions.abbreviations import abbreviations_house_style

SITE_PHRASE = {
    "fr": {
        "breast": "du sein",
        "prostate": "de la prostate",
        "lung": "pulmonaire",
        "colorectal": "colorectal",
        "pancreas": "du pancréas",
        "bladder": "de la vessie",
        "kidney": "du rein",
        "melanoma": "cutané",
        "head_and_neck": "de l'oropharynx",
        "liver": "du foie",
        "stomach": "de l'estomac",
    },
    "en": {
        "breast": "of the breast",
        "prostate": "of the prostate",
        "lung": "of the lung",
        "colorectal": "of the colorectum",
        "pancreas": "of the pancreas",
        "bladder": "of the bladder",
        "kidney": "of the kidney",
        "melanoma": "of the skin",
        "head_and_neck": "of the oropharynx",
        "liver": "of the liver",
        "stomach": "of the stomach",
    },
}


class _Writer:
    """Text assembled piece by piece; annotated pieces become verbatim segments."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.annotations: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def mark(self, text: str, field: str, value: str | None = None, **extra: Any) -> None:
        self.parts.append(text)
        self.annotations.append(
            {
                "field": field,
                "value": value if value is not None else text,
                "segments": [text],
                **extra,
            }
        )

    @property
    def text(self) -> str:
        return "".join(self.parts)


MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
    "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
# French reports write dates in several ways (the real corpus mixes them); one per report.
DATE_STYLES = {"fr": ("numeric", "written", "dotted"), "en": ("numeric",)}


def _date_text(value: str, language: str, style: str) -> str:
    if language != "fr" or style == "numeric":
        return format_date(value, language)
    day = dt.date.fromisoformat(str(value))
    if style == "dotted":
        return day.strftime("%d.%m.%y")
    return f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def _write(scenario: Scenario, language: str, kb: KnowledgeBase | None = None) -> dict[str, Any]:
    """The report as the LLM would return it: narrative plus annotations whose segments
    are verbatim pieces of it. Sections in the order of REPORT_SECTIONS."""
    admin = scenario.admin
    # Seeded by the patient and stay: the same scenario always gives the same vitals and labs.
    rng = random.Random(f"{admin.patient_last_name}:{admin.admission_date}")
    sections = REPORT_SECTIONS[language]
    w = _Writer()
    _write_header(w, scenario, language)
    histology, site_phrase = _tumour_names(scenario, language)
    _write_reason(w, scenario, language, sections, histology, site_phrase)
    _write_history(w, scenario, language, sections)
    kb = kb or default_knowledge()
    _write_disease(w, scenario, language, sections, histology, site_phrase, kb)
    # Vitals before labs: the draws from `rng` keep their order, so the text is unchanged.
    _write_examination(w, scenario, language, sections, rng)
    _write_results_course_discharge(w, scenario, language, sections, rng, kb)
    return {"narrative": w.text, "annotations": w.annotations}


def _write_header(w: _Writer, scenario: Scenario, language: str) -> None:
    fr = language == "fr"
    admin = scenario.admin
    w.mark(admin.hospital, "hospital")
    w.add("\n")
    w.mark(admin.department, "department")
    w.add("\n\n" + ("COMPTE RENDU D'HOSPITALISATION" if fr else "DISCHARGE SUMMARY") + "\n\n")
    name = f"{admin.patient_first_name} {admin.patient_last_name.upper()}"
    female = scenario.sex == "F"
    # Agreement with the patient's sex, never "Patient(e) … né(e)" (a tell of a template).
    w.add(("Madame " if female else "Monsieur ") if fr else "Patient: ")
    w.mark(name, "patient_name")
    born = ("née le" if female else "né le") if fr else "born"
    # Its own seeded draw, so the vitals and labs drawn from the writer's rng are unchanged.
    style = random.Random(f"date-style:{admin.patient_last_name}").choice(DATE_STYLES[language])
    if scenario.style is not None and scenario.style.date_style in DATE_STYLES[language]:
        style = scenario.style.date_style  # one of the real corpus's date styles
    w.add(f", {born} {_date_text(admin.birth_date, language, style)}, ")
    w.mark(f"{scenario.age} {'ans' if fr else 'years old'}", "age", str(scenario.age))
    # Sentences end with a full stop, as in hospital letters: a line ending on a bare
    # number was the typography the formatting audit told the offline writer by.
    w.add(".\n" + ("Hospitalisation du " if fr else "Admitted from "))
    admission = _date_text(admin.admission_date, language, style)
    discharge = _date_text(admin.discharge_date, language, style)
    # The annotation value is the ISO date whatever the written form.
    w.mark(admission, "admission_date", str(admin.admission_date))
    w.add(" au " if fr else " to ")
    w.mark(discharge, "discharge_date", str(admin.discharge_date))
    w.add(".\n" + ("Médecin responsable : " if fr else "Attending physician: "))
    w.mark(admin.physician, "physician")


def _tumour_names(scenario: Scenario, language: str) -> tuple[str, str]:
    """(histology, site phrase) as the narrative names the tumour."""
    fr = language == "fr"
    site = scenario.site
    histology = guidelines.histology_label(site, scenario.histology, language)
    site_phrase = SITE_PHRASE[language][site]
    if site == "colorectal":
        # The histology label names the organ already ("adénocarcinome du côlon").
        histology = "adénocarcinome lieberkühnien" if fr else "adenocarcinoma"
        colon = scenario.histology == "colon_adenocarcinoma"
        site_phrase = {
            ("fr", True): "du côlon",
            ("fr", False): "du rectum",
            ("en", True): "of the colon",
            ("en", False): "of the rectum",
        }[(language, colon)]
    return histology, site_phrase


def _write_reason(
    w: _Writer,
    scenario: Scenario,
    language: str,
    sections: Sequence[str],
    histology: str,
    site_phrase: str,
) -> None:
    fr = language == "fr"
    admin = scenario.admin
    site = scenario.site
    reason = REASON_LABELS[scenario.reason][language]
    w.add(f"\n\n{sections[0]}\n")
    if fr:
        title = "Monsieur" if scenario.sex == "M" else "Madame"
        agreement = "e" if scenario.sex == "F" else ""
        w.add(f"{title} {admin.patient_last_name} est hospitalisé{agreement} pour ")
    else:
        title = "Mr" if scenario.sex == "M" else "Mrs"
        w.add(f"{title} {admin.patient_last_name} was admitted for ")
    w.mark(reason, "reason")
    w.add(" dans le cadre d'un " if fr else " in the setting of ")
    w.mark(histology, "histology")
    w.add(" ")
    w.mark(site_phrase, "primary_site", guidelines.site_label(site, language))
    w.add(".\n\n")


def _write_history(w: _Writer, scenario: Scenario, language: str, sections: Sequence[str]) -> None:
    fr = language == "fr"
    admin = scenario.admin
    w.add(f"{sections[1]}\n")
    if scenario.comorbidities:
        w.add("Médicaux : " if fr else "Medical: ")
        for i, key in enumerate(scenario.comorbidities):
            if i:
                w.add(", ")
            w.mark(comorbidity_label(key, language), "comorbidity")
        w.add(".\n")
    else:
        w.add("Pas d'antécédent médical notable.\n" if fr else "No significant medical history.\n")
    if scenario.menopause is not None:
        # Stated because it decides the endocrine therapy (ESMO early breast 2024).
        status = {
            ("fr", "post"): "Ménopausée.",
            ("fr", "pre"): "Non ménopausée.",
            ("en", "post"): "Postmenopausal.",
            ("en", "pre"): "Premenopausal.",
        }[(language, scenario.menopause)]
        w.add(status + "\n")
    w.add("Allergies : aucune allergie connue.\n\n" if fr else "Allergies: none known.\n\n")

    w.add(f"{sections[2]}\n")
    w.mark(SMOKING_LABELS[scenario.smoking][language].capitalize(), "smoking", scenario.smoking)
    w.add(
        f". Vit à {admin.city}, autonome pour les actes de la vie quotidienne.\n\n"
        if fr
        else f". Lives in {admin.city}, independent in daily activities.\n\n"
    )


def _write_disease(
    w: _Writer,
    scenario: Scenario,
    language: str,
    sections: Sequence[str],
    histology: str,
    site_phrase: str,
    kb: KnowledgeBase,
) -> None:
    fr = language == "fr"
    case = scenario.clinical_case()
    w.add(f"{sections[3]}\n")
    w.add("Diagnostic histologique d'un " if fr else "Histological diagnosis of ")
    w.add(f"{histology} {site_phrase}, " + ("classé " if fr else "staged "))
    if scenario.tnm:
        w.mark(scenario.tnm, "tnm")
        w.add(", ")
        stage_text = f"stade {scenario.stage}" if fr else f"stage {scenario.stage}"
        w.mark(stage_text, "stage", scenario.stage)
        w.add(" (AJCC 8e édition). " if fr else " (AJCC 8th edition). ")
    else:
        # HCC is staged by BCLC with the Child-Pugh class, not by TNM (BCLC 2022).
        w.mark(f"BCLC {scenario.stage}", "stage", scenario.stage)
        w.add(f", Child-Pugh {scenario.child_pugh}. " if scenario.child_pugh else ". ")
    if scenario.biomarkers:
        w.add("Biologie moléculaire et immunohistochimie : " if fr else "Biomarkers: ")
        for i, (marker, value) in enumerate(scenario.biomarkers.items()):
            if i:
                w.add(", ")
            name = getattr(kb.biomarkers[marker], language) if marker in kb.biomarkers else marker
            label = f"{name} {biomarker_value_label(value, language)}"
            w.mark(label, "biomarker", value, name=marker)
        w.add(". ")
    if scenario.metastatic_sites:
        w.add(
            "Le bilan d'extension retrouve des localisations secondaires "
            if fr
            else "Staging showed "
        )
        for i, key in enumerate(scenario.metastatic_sites):
            if i:
                w.add(", ")
            w.mark(guidelines.METASTATIC_SITE_LABELS[key][language], "metastatic_site", key)
        w.add(". " if fr else " metastases. ")
    else:
        w.add(
            "Pas de localisation secondaire au bilan d'extension. "
            if fr
            else "No distant metastasis on staging. "
        )
    if case is not None:
        w.add(narrative.history_text(case, language) + " ")
    w.add("La RCP a retenu la stratégie suivante : " if fr else "The tumour board recommended: ")
    within, concurrent, between = narrative.step_joiners(language)
    steps: dict[int, list] = {}
    for treatment in scenario.treatments:
        steps.setdefault(treatment.step, []).append(treatment)
    # Treatments of one step are given together and written as one combination; steps are
    # written in sequence ("letrozole + ribociclib", never "letrozole, then ribociclib").
    for index, step in enumerate(steps[key] for key in sorted(steps)):
        if index:
            w.add(between)
        for position, treatment in enumerate(step):
            if position:
                w.add(within)
            label = (
                treatment.regimen_en or regimen_label(treatment.regimen, language)
                if language == "en"
                else treatment.regimen
            )
            w.mark(
                label,
                "treatment",
                modality=treatment.modality,
                intent=treatment.intent,
                line=treatment.line,
            )
        if len(step) > 1:
            w.add(concurrent)
    w.add(".\n\n")


def _write_examination(
    w: _Writer, scenario: Scenario, language: str, sections: Sequence[str], rng: random.Random
) -> None:
    fr = language == "fr"
    weight = rng.randint(52, 96)
    if scenario.labs is not None:
        weight = scenario.labs.weight_kg
    w.add(f"{sections[4]}\n")
    w.add(
        f"Poids {weight} kg, pression artérielle {rng.randint(110, 150)}/{rng.randint(60, 90)} "
        f"mmHg, fréquence cardiaque {rng.randint(60, 100)}/min, apyrétique. "
        if fr
        else f"Weight {weight} kg, blood pressure {rng.randint(110, 150)}/{rng.randint(60, 90)} "
        f"mmHg, heart rate {rng.randint(60, 100)}/min, afebrile. "
    )
    w.add("État général : " if fr else "Performance status: ")
    w.mark(f"ECOG {scenario.ecog}", "ecog", str(scenario.ecog))
    w.add(
        ". Examen cardio-pulmonaire sans particularité.\n\n"
        if fr
        else ". Cardiopulmonary examination unremarkable.\n\n"
    )


def _write_results_course_discharge(
    w: _Writer,
    scenario: Scenario,
    language: str,
    sections: Sequence[str],
    rng: random.Random,
    kb: KnowledgeBase,
) -> None:
    fr = language == "fr"
    case = scenario.clinical_case()
    w.add(f"{sections[5]}\n")
    if case is not None:
        # Labs follow the disease: liver tests with HCC or liver metastases, creatinine
        # with the kidney function the eligibility was judged on.
        w.add(narrative.labs_text(case, language) + " ")
    w.add(
        "Scanner thoraco-abdomino-pelvien de référence réalisé.\n\n"
        if fr
        else "Baseline chest-abdomen-pelvis CT performed.\n\n"
    )
    course = (
        narrative.course_text(kb, case, language)
        if case is not None
        else REASON_LABELS[scenario.reason][language]
    )
    w.add(f"{sections[6]}\n{course}\n\n")
    w.add(f"{sections[7]}\n")
    discharge = (
        narrative.discharge_treatment(kb, case, language)
        if case is not None
        else (
            "paracétamol 1 g jusqu'à 3 fois par jour si douleur"
            if fr
            else "paracetamol 1 g up to three times daily as needed"
        )
    )
    w.add(
        "Sortie à domicile. Suite de la prise en charge selon la stratégie décidée en RCP, "
        "consultation de suivi dans trois semaines avec bilan biologique préalable. "
        f"Traitement de sortie : {discharge}.\n"
        if fr
        else "Discharged home. Further management as decided by the tumour board, follow-up "
        f"visit in three weeks with blood tests beforehand. Discharge medication: {discharge}.\n"
    )


class OfflineBackend:
    name = "offline"

    @classmethod
    def from_settings(cls) -> OfflineBackend:
        return cls()

    def generate(self, request: GenerationRequest, *, before_send=None) -> BackendResult:
        started = time.monotonic()
        if request.scenario is None:
            raise BackendError("The offline writer needs a scenario.")
        written = _write(request.scenario, request.language, request.knowledge)
        report = _restyle(written, request.scenario, request.language)
        content = json.dumps(report, ensure_ascii=False)
        return BackendResult(
            content=content,
            tokens_in=0,
            tokens_out=0,
            latency_ms=int((time.monotonic() - started) * 1000),
            finish_reason="stop",
            model="offline-template-v1",
        )


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý])")


def _trimmed(chunks: list[tuple[str | None, str]], *, target: int) -> list[tuple[str | None, str]]:
    """Sections shortened to the target length the way a busy physician writes: the last
    sentence of the wordiest section goes first, each section keeps its first sentence;
    the reason for admission and the conclusion (diagnosis, plan, discharge treatment)
    are kept whole."""
    titled = [i for i, (title, _body) in enumerate(chunks) if title is not None]
    whole = {titled[0], titled[-1]} if titled else set()
    bodies = [[_SENTENCE_BREAK.split(line) for line in body.split("\n")] for _title, body in chunks]

    def length() -> int:
        return sum(
            len(title or "") + sum(len(" ".join(line)) + 1 for line in lines)
            for (title, _body), lines in zip(chunks, bodies, strict=True)
        )

    while length() > target:
        counts = [
            sum(len(line) for line in lines if line != [""])
            if title is not None and index not in whole
            else 0
            for index, ((title, _body), lines) in enumerate(zip(chunks, bodies, strict=True))
        ]
        wordiest = max(range(len(chunks)), key=lambda i: (counts[i], -i))
        if counts[wordiest] <= 1:
            break
        lines = bodies[wordiest]
        last = max(i for i, line in enumerate(lines) if line != [""])
        lines[last].pop()
        if not lines[last]:
            del lines[last]
    return [
        (title, "\n".join(" ".join(line) for line in lines))
        for (title, _body), lines in zip(chunks, bodies, strict=True)
    ]


def _restyle(report: dict[str, Any], scenario: Scenario, language: str) -> dict[str, Any]:
    """The written report reshaped to the scenario's style (an import's style profile):
    the sections real reports have, others added back in order only while the text is
    shorter than the target length, headings set as theirs. Annotations whose text left
    with a dropped section go too."""
    style = scenario.style
    if style is None:
        return report
    sections = REPORT_SECTIONS[language]
    kept = set(styled_sections(language, style))
    chunks: list[tuple[str | None, str]] = []
    current: str | None = None
    lines: list[str] = []
    for line in report["narrative"].split("\n"):
        if line in sections:
            chunks.append((current, "\n".join(lines)))
            current, lines = line, []
        else:
            lines.append(line)
    chunks.append((current, "\n".join(lines)))

    def length(chosen: set[str]) -> int:
        return sum(
            len(body) + len(title or "")
            for title, body in chunks
            if title in chosen or title is None
        )

    # Other sections come back, in the writer's order, while the report is under target.
    for title, _body in chunks:
        if title is not None and title not in kept and length(kept) < style.target_length:
            kept.add(title)
    chunks = _trimmed(
        [(title, body) for title, body in chunks if title is None or title in kept],
        target=style.target_length,
    )
    parts: list[str] = []
    number = 0
    for title, body in chunks:
        if title is None:
            parts.append(body)
        elif title in kept:
            number += 1
            parts.append(heading_styled(title, number=number, style=style) + "\n" + body)
    # The real corpus's abbreviation forms ("Hb" where it writes "Hb"), in the text and in
    # the annotations' verbatim segments alike.
    forms = style.abbreviation_forms

    def abbreviated(text: str) -> str:
        return abbreviations_house_style(text, forms, language=language)

    narrative = abbreviated("\n".join(parts))
    annotations = [
        {**annotation, "segments": [abbreviated(s) for s in annotation["segments"]]}
        for annotation in report["annotations"]
    ]
    annotations = [
        annotation
        for annotation in annotations
        if all(segment in narrative for segment in annotation["segments"])
    ]
    return {"narrative": narrative, "annotations": annotations}
