"""Two passes and a critique for one claimed item: narrative → extraction → checker → judge
→ (bounded) revisions. Called by `pipeline.batch_item_process` for two-pass prompts on a
network backend; the report is written by the pipeline, once, with the item's outcome.

Every call is recorded as a pass (kind, round, model, tokens, latency, cost, outcome), the
calls of an attempt that failed included: the item keeps what was spent and tried.

The pipeline is a sequence of steps (`Step`: the next call's stage and round, and the texts
it needs): `step_call` builds the call a step needs, `step_advance` reads its answer into
the next step or the final report. Direct mode runs the steps one after the other in one
task (`item_two_pass`); Batch API mode (`generation.provider_jobs`) sends one step of every
item per provider job and stores the step on the item between jobs, and an item handed to
direct mode resumes from its stored step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from string import Template
from typing import Any

from django.conf import settings

from generation.backends import Backend, BackendResult, GenerationRequest
from generation.catalogue import guideline_knowledge
from generation.critique import (
    CritiqueOutcome,
    consistency_check,
    critique_outcome,
    judge_prompts,
    revision_prompt,
)
from generation.models import Batch, BatchItem
from generation.output import (
    ExtractedReport,
    OutputInvalid,
    extraction_json_schema,
    extraction_parse,
    narrative_parse,
    verdict_json_schema,
    verdict_parse,
)
from generation.pricing import cost_eur
from generation.prompts import CRITIQUE_VERSION, EXTRACTION_SYSTEM, prompt_render
from generation.scenario import Scenario
from generation.validation import ValidatedReport, report_validate

NARRATIVE_MAX_TOKENS = 3000
EXTRACTION_MAX_TOKENS = 3000
JUDGE_MAX_TOKENS = 1500


@dataclass
class PassRecord:
    kind: str  # writer | extraction | judge | revision
    round: int  # 0 = first draft, 1.. = revisions
    attempt: int
    model: str
    model_reported: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    rate_limit_wait_ms: int
    cost_eur: float
    finish_reason: str
    outcome: str  # ok | invalid | conform | not_conform | judge_unavailable
    detail: dict[str, Any] = field(default_factory=dict)
    # The judge's backend when it is not the writer's; "batch_api" for a call answered by
    # the provider's Batch API (billed at its price).
    backend: str = ""
    api_mode: str = "direct"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TwoPassResult:
    validated: ValidatedReport
    outcome: CritiqueOutcome | None  # None when the batch has no critique
    passes: list[PassRecord]
    revisions: int


class PassFailed(Exception):
    """A pass's answer was unusable (plain text too short, JSON of the wrong shape, cut
    off): the item is released for another attempt, with the passes made so far."""

    def __init__(self, message: str, passes: list[PassRecord] | None = None) -> None:
        super().__init__(message)
        self.passes = passes or []


STAGES = ("writer", "extraction", "judge", "revision")
# Step.job of an item handed to direct mode (no provider job holds its next call).
DIRECT = "direct"


@dataclass
class Step:
    """Where an item's pipeline stands: the next call to make and what it needs."""

    stage: str = "writer"  # writer | extraction | judge | revision
    round: int = 0  # 0 = first draft, 1.. = revisions
    narrative: str = ""  # the draft to extract, judge or revise
    extraction: str = ""  # pass 2's answer for that draft (the judge's checker reads it)
    outcome: dict[str, Any] | None = None  # the last judgement (the revision fixes it)
    job: str = ""  # Batch API mode: the provider job the call was sent in

    @property
    def call_number(self) -> int:
        """The call's place in the item's sequence (writer 0, extraction 1, judge 2,
        revision 3, …): its seed, the same whichever mode makes the call."""
        return (
            3 * self.round + {"writer": 0, "revision": 0, "extraction": 1, "judge": 2}[self.stage]
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Step:
        step = cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})
        if step.stage not in STAGES:
            raise ValueError(f"unknown two-pass stage {step.stage!r}")
        return step


@dataclass(frozen=True)
class PlannedCall:
    kind: str  # writer | extraction | judge | revision
    round: int
    backend: str
    model: str
    request: GenerationRequest


@dataclass
class Final:
    """The last call answered: the report to write and its critique."""

    validated: ValidatedReport
    outcome: CritiqueOutcome | None
    revisions: int


def max_revisions(batch: Batch) -> int:
    return min(batch.max_revisions, settings.GENERATION_MAX_REVISIONS)


def _writer_prompts(batch: Batch, scenario: Scenario) -> tuple[str, str]:
    return prompt_render(
        system_template=batch.prompt.system_template,
        user_template=batch.prompt.user_template,
        scenario=scenario,
        language=batch.language,
        output_schema_version=batch.prompt.output_schema_version,
        kb=guideline_knowledge(guideline=batch.guideline),
    )


def _extraction_prompt(batch: Batch, scenario: Scenario, narrative: str) -> str:
    prompt = batch.prompt
    return Template(prompt.extraction_template).safe_substitute(
        narrative=narrative,
        fields=prompt_render(
            system_template="",
            user_template="$fields",
            scenario=scenario,
            language=batch.language,
            output_schema_version=prompt.output_schema_version,
        )[1],
    )


def _validate(batch: Batch, scenario: Scenario, narrative: str, extraction: str) -> ValidatedReport:
    """The draft with pass 2's annotations, validated (deterministic: the judge's step
    validates again what the extraction's step validated, in either mode)."""
    return report_validate(
        output=ExtractedReport(
            narrative=narrative, annotations=extraction_parse(extraction).annotations
        ),
        scenario=scenario,
        language=batch.language,
        kb=guideline_knowledge(guideline=batch.guideline),
    )


def step_call(*, batch: Batch, item: BatchItem, scenario: Scenario, step: Step) -> PlannedCall:
    """The call `step` needs: its backend and model (the judge's may differ) and request."""
    backend, model = batch.backend, batch.model
    schema: dict[str, Any] | None = None
    temperature = batch.temperature
    if step.stage == "writer":
        system, user = _writer_prompts(batch, scenario)
        schema_name, max_tokens = "narrative", NARRATIVE_MAX_TOKENS
    elif step.stage == "revision":
        system = _writer_prompts(batch, scenario)[0]
        user = revision_prompt(
            narrative=step.narrative,
            outcome=CritiqueOutcome.from_json(step.outcome or {"verdict": "not_conform"}),
            language=batch.language,
        )
        schema_name, max_tokens = "narrative", NARRATIVE_MAX_TOKENS
    elif step.stage == "extraction":
        system = EXTRACTION_SYSTEM[batch.language]
        user = _extraction_prompt(batch, scenario, step.narrative)
        schema, schema_name = extraction_json_schema(), "extraction"
        max_tokens = EXTRACTION_MAX_TOKENS
        # Extraction copies text: no creativity wanted.
        temperature = 0.0
    else:
        validated = _validate(batch, scenario, step.narrative, step.extraction)
        system, user = judge_prompts(
            scenario=scenario,
            narrative=step.narrative,
            checker=consistency_check(scenario=scenario, validated=validated),
            language=batch.language,
            kb=guideline_knowledge(guideline=batch.guideline),
        )
        backend, model = batch.judge_backend_name, batch.judge_model_name
        schema, schema_name, max_tokens = verdict_json_schema(), "verdict", JUDGE_MAX_TOKENS
        temperature = 0.0
    request = GenerationRequest(
        scenario=scenario,
        system_prompt=system,
        user_prompt=user,
        model=model,
        temperature=temperature,
        # One seed per item and call: the same batch replays the same requests.
        seed=(batch.seed + item.index + 7919 * step.call_number) % 2**31,
        language=batch.language,
        json_schema=schema or {},
        schema_name=schema_name,
        max_tokens=max_tokens,
    )
    return PlannedCall(
        kind=step.stage, round=step.round, backend=backend, model=model, request=request
    )


def pass_record(
    *,
    call: PlannedCall,
    result: BackendResult,
    attempt: int,
    batch: Batch,
    latency_ms: int,
    rate_limit_wait_ms: int = 0,
    price_factor: float = 1.0,
    api_mode: str = "direct",
) -> PassRecord:
    return PassRecord(
        kind=call.kind,
        round=call.round,
        attempt=attempt,
        model=call.model,
        model_reported=result.model,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        latency_ms=latency_ms,
        rate_limit_wait_ms=rate_limit_wait_ms,
        cost_eur=round(
            cost_eur(model=call.model, tokens_in=result.tokens_in, tokens_out=result.tokens_out)
            * price_factor,
            6,
        ),
        finish_reason=result.finish_reason,
        outcome="ok",
        backend=call.backend if call.backend != batch.backend else "",
        api_mode=api_mode,
    )


def step_advance(
    *,
    batch: Batch,
    scenario: Scenario,
    step: Step,
    result: BackendResult,
    record: PassRecord,
) -> Step | Final:
    """Read the answer to `step`'s call: the next step, or the final report. Raises
    PassFailed (the record marked invalid) when the answer is unusable."""
    if result.finish_reason == "length":
        record.outcome = "invalid"
        raise PassFailed(f"{step.stage}: the answer was cut off (finish_reason=length).")
    if step.stage in ("writer", "revision"):
        try:
            narrative = narrative_parse(result.content)
        except OutputInvalid as exc:
            record.outcome = "invalid"
            raise PassFailed(f"{step.stage}: {exc}") from None
        # Every version of the text is kept: a revision must be comparable with its draft.
        record.detail = {"narrative": narrative}
        return Step(stage="extraction", round=step.round, narrative=narrative)
    if step.stage == "extraction":
        try:
            validated = _validate(batch, scenario, step.narrative, result.content)
        except OutputInvalid as exc:
            record.outcome = "invalid"
            raise PassFailed(f"extraction: {exc}") from None
        record.detail = {"flags": validated.flag_codes}
        if not batch.critique:
            return Final(validated=validated, outcome=None, revisions=step.round)
        return replace(step, stage="judge", extraction=result.content, job="")
    validated = _validate(batch, scenario, step.narrative, step.extraction)
    checker = consistency_check(scenario=scenario, validated=validated)
    outcome = critique_outcome(checker=checker, verdict=verdict_parse(result.content))
    record.outcome = outcome.verdict
    record.detail = {
        "critique_version": CRITIQUE_VERSION,
        "checker": [flag.code for flag in checker],
        "anomalies": [a.model_dump() for a in outcome.anomalies],
    }
    if outcome.verdict == "judge_unavailable":
        record.detail["answer"] = result.content[:500]
    if outcome.needs_revision and step.round < max_revisions(batch):
        return Step(
            stage="revision",
            round=step.round + 1,
            narrative=step.narrative,
            outcome=outcome.to_json(),
        )
    return Final(validated=validated, outcome=outcome, revisions=step.round)


def item_two_pass(
    *,
    backends: Callable[[str], Backend],
    batch: Batch,
    item: BatchItem,
    scenario: Scenario,
    rate_limit_factory: Callable[..., Any],
    passes: list[PassRecord],
    start: Step | None = None,
) -> TwoPassResult:
    """Draft, extract, critique and revise (at most `batch.max_revisions` times), from
    `start` (an item Batch API mode handed over) or from the beginning. `backends` gives
    the backend of a name (the judge's may be another). Raises TransientBackendError /
    BackendError from the backend, PassFailed on unusable answers; `passes` receives every
    call made, whatever happens."""
    step = replace(start, job="") if start is not None else Step()
    while True:
        call = step_call(batch=batch, item=item, scenario=scenario, step=step)
        rate_limit = rate_limit_factory(backend=call.backend, model=call.model)
        started = time.monotonic()
        result = backends(call.backend).generate(call.request, before_send=rate_limit.acquire)
        usage = rate_limit.settle(result)
        record = pass_record(
            call=call,
            result=result,
            attempt=item.attempts,
            batch=batch,
            latency_ms=result.latency_ms
            if result.latency_ms is not None
            else int((time.monotonic() - started) * 1000),
            rate_limit_wait_ms=usage.get("rate_limit_wait_ms", 0),
        )
        passes.append(record)
        try:
            following = step_advance(
                batch=batch, scenario=scenario, step=step, result=result, record=record
            )
        except PassFailed as exc:
            raise PassFailed(str(exc), passes) from None
        if isinstance(following, Final):
            return TwoPassResult(
                validated=following.validated,
                outcome=following.outcome,
                passes=passes,
                revisions=following.revisions,
            )
        step = following
