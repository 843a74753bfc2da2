"""The LLM judge as a blinded rater of a study: what it may read, where its scores go.

Blinding is the reviewers' (DESIGN.md principle 1): `judge_report_view` gives the judge
exactly what a physician reads — the normalised text and the domains with their help
texts and anchors — and nothing of the report's source, provenance or scenario. Its
scores go to `JudgeRating`, never to `Rating`, so the physicians' statistics never count
them; `judge_results` compares the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from review.blinding.presentation import normalise_text
from review.exceptions import InvalidInput
from review.models import Domain, JudgeRating, Report, Study, StudyReport
from review.results import study_ratings_frame
from review.stats.judge import JudgeComparison, judge_compare


@dataclass(frozen=True)
class JudgeDomain:
    key: str
    label: str
    help_text: str
    anchor_low: str
    anchor_high: str


@dataclass(frozen=True)
class JudgeReportView:
    """Everything the judge reads: no code, source, provenance or scenario."""

    text: str
    domains: list[JudgeDomain]
    scale_min: int
    scale_max: int
    language: str


def study_domains_for_judge(*, study: Study) -> list[JudgeDomain]:
    return [
        JudgeDomain(
            key=domain.key,
            label=domain.label,
            help_text=domain.help_text,
            anchor_low=domain.anchor_low,
            anchor_high=domain.anchor_high,
        )
        for domain in study.domains.order_by("order", "id")
    ]


def judge_report_view(*, study_id: int, report_id: int) -> JudgeReportView | None:
    """The blinded view of one member report, or None if it is not (or no longer) one."""
    membership = (
        StudyReport.objects.filter(study_id=study_id, report_id=report_id)
        .select_related("study")
        .first()
    )
    if membership is None:
        return None
    study = membership.study
    # Only the text and language columns: the rest of the row never enters this module.
    text, language = Report.objects.filter(pk=report_id).values_list("text", "language").get()
    return JudgeReportView(
        text=normalise_text(text),
        domains=study_domains_for_judge(study=study),
        scale_min=study.scale_min,
        scale_max=study.scale_max,
        language=language,
    )


def judge_study_report_ids(*, study: Study) -> list[int]:
    return list(
        StudyReport.objects.filter(study=study).order_by("pk").values_list("report_id", flat=True)
    )


def judge_scores_save(
    *, study_id: int, report_id: int, model: str, scores: dict[str, int]
) -> list[JudgeRating]:
    """Store the judge's scores of one report (all domains at once, or nothing).

    Every domain of the study must be scored once, within the study's scale; a repeated
    call (a redelivered task) replaces the same rows instead of adding any."""
    study = Study.objects.get(pk=study_id)
    domains = {d.key: d for d in Domain.objects.filter(study=study)}
    if set(scores) != set(domains):
        raise InvalidInput(
            _("The judge must score exactly the study's domains (%(keys)s).")
            % {"keys": ", ".join(sorted(domains))},
            code="judge_domains",
        )
    out_of_scale = [k for k, v in scores.items() if not study.scale_min <= v <= study.scale_max]
    if out_of_scale:
        raise InvalidInput(
            _("Judge scores out of the scale %(low)d–%(high)d: %(keys)s.")
            % {"low": study.scale_min, "high": study.scale_max, "keys": ", ".join(out_of_scale)},
            code="judge_scale",
        )
    saved = []
    with transaction.atomic():
        for key, score in scores.items():
            rating, _created = JudgeRating.objects.update_or_create(
                study=study,
                report_id=report_id,
                domain=domains[key],
                model=model,
                defaults={"score": score},
            )
            saved.append(rating)
    return saved


def judge_ratings_frame(*, study: Study) -> pd.DataFrame:
    """Long format like the physicians' table (report, source, reviewer=model, domain,
    score), for the comparison and the dataset export."""
    rows = JudgeRating.objects.filter(study=study).values_list(
        "report__code", "report__source", "model", "domain__key", "score"
    )
    return pd.DataFrame(
        list(rows), columns=["report", "source", "reviewer", "domain", "score"]
    ).astype({"score": float})


def judge_results(*, study: Study) -> list[JudgeComparison]:
    """The judge (each model that rated the study) against the physicians' mean."""
    judge = judge_ratings_frame(study=study)
    if judge.empty:
        return []
    physicians = study_ratings_frame(study=study)
    domains = [d.key for d in study.domains.order_by("order", "id")]
    return [
        judge_compare(
            physicians,
            judge[judge["reviewer"] == model],
            model=model,
            domains=domains,
            scale=(study.scale_min, study.scale_max),
        )
        for model in sorted(judge["reviewer"].unique())
    ]
