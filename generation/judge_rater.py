"""The LLM judge rating a study's reports like a physician, blinded.

One call per report (Celery task `generation.study_report_judge`, under the global rate
limit): the judge reads `review.judge.judge_report_view` — the normalised text and the
domains' help texts as rubric, nothing of source, provenance or scenario — and answers
one score per domain, stored by `review.judge.judge_scores_save` apart from the
physicians' ratings. A transient failure is retried by the task; an answer that does not
parse is retried within the attempt bound, never stored as a score.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from generation.backends import (
    BACKENDS,
    BackendError,
    GenerationRequest,
    TransientBackendError,
    backend_get,
    rate_limit_key,
)
from generation.output import OutputInvalid
from generation.pricing import ESTIMATED_TOKENS_IN, ESTIMATED_TOKENS_OUT
from generation.queue import send_task
from generation.ratelimit import RateLimitTimeout, limiter_get
from review.exceptions import InvalidInput
from review.judge import (
    JudgeReportView,
    judge_report_view,
    judge_scores_save,
    judge_study_report_ids,
)
from review.models import Study
from review.services import audit_log

JUDGE_RATE_TASK = "generation.study_report_judge"

# Rater prompts: the rubric is the study's own (domain help texts and anchors), as the
# physicians read it; the version label goes with every score's audit.
RATER_PROMPT_VERSION = "rater-v1"
RATER_SYSTEM = {
    "fr": "Tu es médecin relecteur dans une étude d'évaluation de comptes rendus "
    "d'hospitalisation. Tu notes chaque critère selon sa consigne, sur l'échelle donnée. Tu "
    "réponds uniquement par un objet JSON conforme au schéma demandé.",
    "en": "You are a physician rating hospital discharge reports in an evaluation study. You "
    "score each criterion following its instructions, on the given scale. Answer only with "
    "a JSON object following the requested schema.",
}


def rating_json_schema(view: JudgeReportView) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"scores": {"type": "array", "items": {"$ref": "#/$defs/DomainScore"}}},
        "required": ["scores"],
        "$defs": {
            "DomainScore": {
                "type": "object",
                "properties": {
                    "domain": {"type": "string", "enum": [d.key for d in view.domains]},
                    "score": {
                        "type": "integer",
                        "minimum": view.scale_min,
                        "maximum": view.scale_max,
                    },
                },
                "required": ["domain", "score"],
            }
        },
    }


def rating_prompt(view: JudgeReportView) -> tuple[str, str]:
    language = view.language if view.language in RATER_SYSTEM else "en"
    rubric = "\n".join(
        f"- {d.key} — {d.label}: {d.help_text}"
        + (
            f" ({view.scale_min} = {d.anchor_low}; {view.scale_max} = {d.anchor_high})"
            if d.anchor_low or d.anchor_high
            else ""
        )
        for d in view.domains
    )
    user = (
        f"Scale: {view.scale_min} to {view.scale_max}.\nCriteria:\n{rubric}\n\n"
        f"Report:\n<<<\n{view.text}\n>>>\n\n"
        'Return {"scores": [{"domain": key, "score": integer}, …]} with one entry per criterion.'
    )
    return RATER_SYSTEM[language], user


def rating_parse(content: str, view: JudgeReportView) -> dict[str, int]:
    try:
        data = json.loads(content)
        scores = {str(s["domain"]): int(s["score"]) for s in data["scores"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputInvalid(f"The rating is not JSON of the expected shape ({exc}).") from None
    if set(scores) != {d.key for d in view.domains} or len(data["scores"]) != len(scores):
        raise OutputInvalid("The rating does not score each domain exactly once.")
    return scores


def study_report_judge(*, study_id: int, report_id: int, backend: str, model: str) -> str:
    """Rate one report of a study with the judge. Returns "done" or "missing"; raises
    TransientBackendError (the task retries) and OutputInvalid (retried, bounded)."""
    view = judge_report_view(study_id=study_id, report_id=report_id)
    if view is None:
        return "missing"
    system, user = rating_prompt(view)
    request = GenerationRequest(
        scenario=None,  # the judge never receives a scenario
        system_prompt=system,
        user_prompt=user,
        model=model,
        temperature=0.0,
        seed=report_id % 2**31,
        language=view.language,
        json_schema=rating_json_schema(view),
        schema_name="rating",
        max_tokens=400,
    )
    # The provider account's one budget, shared with generation (see rate_limit_key).
    key = rate_limit_key(backend)
    network = BACKENDS[backend].network

    def acquire() -> None:
        if network:
            limiter_get().acquire(
                key=key,
                tokens=ESTIMATED_TOKENS_IN + ESTIMATED_TOKENS_OUT,
                max_wait_seconds=settings.GENERATION_RATE_LIMIT_MAX_WAIT_SECONDS,
            )

    try:
        result = backend_get(backend).generate(request, before_send=acquire)
    except RateLimitTimeout as exc:
        raise TransientBackendError(str(exc)) from None
    scores = rating_parse(result.content, view)
    judge_scores_save(study_id=study_id, report_id=report_id, model=model, scores=scores)
    return "done"


def study_judge_launch(
    *, study: Study, model: str, backend: str = "mistral", actor: Any = None
) -> int:
    """Enqueue the judge on every report of the study (one task each, after commit).
    The judge model may be any model of a network backend, not only the writer's."""
    spec = BACKENDS.get(backend)
    if spec is None or not spec.network or model not in spec.models:
        raise InvalidInput(
            _("Unknown judge backend or model %(b)s/%(m)s.") % {"b": backend, "m": model},
            code="unknown_judge_model",
        )
    if not study.domains.exists():
        raise InvalidInput(_("The study has no domains to rate."), code="no_domains")
    try:
        backend_get(backend)
    except BackendError as exc:
        raise InvalidInput(str(exc), code="backend_unavailable") from None
    report_ids = judge_study_report_ids(study=study)
    audit_log(
        actor=actor,
        action="study.judge_launched",
        target=f"study:{study.pk}",
        details={"model": model, "reports": len(report_ids)},
    )

    def enqueue() -> None:
        for report_id in report_ids:
            send_task(
                task=JUDGE_RATE_TASK,
                kwargs={
                    "study_id": study.pk,
                    "report_id": report_id,
                    "backend": backend,
                    "model": model,
                },
            )

    transaction.on_commit(enqueue)
    return len(report_ids)
