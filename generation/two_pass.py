"""Two passes and a critique for one claimed item: narrative → extraction → checker → judge
→ (bounded) revisions. Called by `pipeline.batch_item_process` for two-pass prompts on a
network backend; the report is written by the pipeline, once, with the item's outcome.

Every call is recorded as a pass (kind, round, model, tokens, latency, cost, outcome), the
calls of an attempt that failed included: the item keeps what was spent and tried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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

    def __init__(self, message: str, passes: list[PassRecord]) -> None:
        super().__init__(message)
        self.passes = passes


class _Caller:
    """One backend call at a time under the global rate limit, each recorded as a pass."""

    def __init__(
        self,
        *,
        backend: Backend,
        batch: Batch,
        item: BatchItem,
        rate_limit_factory: Callable[..., Any],
        passes: list[PassRecord],
    ) -> None:
        self.backend = backend
        self.batch = batch
        self.item = item
        self.rate_limit_factory = rate_limit_factory
        # The caller's list: what was spent stays visible when a call raises.
        self.passes = passes

    def call(
        self,
        *,
        kind: str,
        round_: int,
        model: str,
        system: str,
        user: str,
        schema: dict[str, Any] | None,
        schema_name: str,
        max_tokens: int,
        temperature: float,
    ) -> tuple[BackendResult, PassRecord]:
        rate_limit = self.rate_limit_factory(model=model)
        request = GenerationRequest(
            scenario=Scenario.from_json(self.item.scenario),
            system_prompt=system,
            user_prompt=user,
            model=model,
            temperature=temperature,
            # One seed per item and pass: the same batch replays the same requests.
            seed=(self.batch.seed + self.item.index + 7919 * len(self.passes)) % 2**31,
            language=self.batch.language,
            json_schema=schema or {},
            schema_name=schema_name,
            max_tokens=max_tokens,
        )
        started = time.monotonic()
        result = self.backend.generate(request, before_send=rate_limit.acquire)
        usage = rate_limit.settle(result)
        record = PassRecord(
            kind=kind,
            round=round_,
            attempt=self.item.attempts,
            model=model,
            model_reported=result.model,
            tokens_in=result.tokens_in,
            tokens_out=result.tokens_out,
            latency_ms=result.latency_ms
            if result.latency_ms is not None
            else int((time.monotonic() - started) * 1000),
            rate_limit_wait_ms=usage.get("rate_limit_wait_ms", 0),
            cost_eur=cost_eur(
                model=model, tokens_in=result.tokens_in, tokens_out=result.tokens_out
            ),
            finish_reason=result.finish_reason,
            outcome="ok",
        )
        self.passes.append(record)
        if result.finish_reason == "length":
            record.outcome = "invalid"
            raise PassFailed(f"{kind}: the answer was cut off (finish_reason=length).", self.passes)
        return result, record


def _draft(
    caller: _Caller,
    *,
    batch: Batch,
    scenario: Scenario,
    round_: int,
    narrative_result: BackendResult,
    narrative_record: PassRecord,
) -> tuple[str, ValidatedReport]:
    """Parse a narrative answer, extract its annotations (pass 2) and validate both."""
    try:
        narrative = narrative_parse(narrative_result.content)
    except OutputInvalid as exc:
        narrative_record.outcome = "invalid"
        raise PassFailed(f"{narrative_record.kind}: {exc}", caller.passes) from None
    # Every version of the text is kept: a revision must be comparable with its draft.
    narrative_record.detail = {"narrative": narrative}
    prompt = batch.prompt
    user = Template(prompt.extraction_template).safe_substitute(
        narrative=narrative,
        fields=prompt_render(
            system_template="",
            user_template="$fields",
            scenario=scenario,
            language=batch.language,
            output_schema_version=prompt.output_schema_version,
        )[1],
    )
    result, record = caller.call(
        kind="extraction",
        round_=round_,
        model=batch.model,
        system=EXTRACTION_SYSTEM[batch.language],
        user=user,
        schema=extraction_json_schema(),
        schema_name="extraction",
        max_tokens=EXTRACTION_MAX_TOKENS,
        # Extraction copies text: no creativity wanted.
        temperature=0.0,
    )
    try:
        extraction = extraction_parse(result.content)
    except OutputInvalid as exc:
        record.outcome = "invalid"
        raise PassFailed(f"extraction: {exc}", caller.passes) from None
    validated = report_validate(
        output=ExtractedReport(narrative=narrative, annotations=extraction.annotations),
        scenario=scenario,
        language=batch.language,
        kb=guideline_knowledge(guideline=batch.guideline),
    )
    record.detail = {"flags": validated.flag_codes}
    return narrative, validated


def _judge(
    caller: _Caller, *, batch: Batch, scenario: Scenario, round_: int, narrative: str, checker
) -> CritiqueOutcome:
    system, user = judge_prompts(
        scenario=scenario,
        narrative=narrative,
        checker=checker,
        language=batch.language,
        kb=guideline_knowledge(guideline=batch.guideline),
    )
    result, record = caller.call(
        kind="judge",
        round_=round_,
        model=batch.judge_model or batch.model,
        system=system,
        user=user,
        schema=verdict_json_schema(),
        schema_name="verdict",
        max_tokens=JUDGE_MAX_TOKENS,
        temperature=0.0,
    )
    outcome = critique_outcome(checker=checker, verdict=verdict_parse(result.content))
    record.outcome = outcome.verdict
    record.detail = {
        "critique_version": CRITIQUE_VERSION,
        "checker": [flag.code for flag in checker],
        "anomalies": [a.model_dump() for a in outcome.anomalies],
    }
    if outcome.verdict == "judge_unavailable":
        record.detail["answer"] = result.content[:500]
    return outcome


def item_two_pass(
    *,
    backend: Backend,
    batch: Batch,
    item: BatchItem,
    scenario: Scenario,
    rate_limit_factory: Callable[..., Any],
    passes: list[PassRecord],
) -> TwoPassResult:
    """Draft, extract, critique and revise (at most `batch.max_revisions` times). Raises
    TransientBackendError / BackendError from the backend, PassFailed on unusable answers;
    `passes` receives every call made, whatever happens."""
    caller = _Caller(
        backend=backend,
        batch=batch,
        item=item,
        rate_limit_factory=rate_limit_factory,
        passes=passes,
    )
    system, user = prompt_render(
        system_template=batch.prompt.system_template,
        user_template=batch.prompt.user_template,
        scenario=scenario,
        language=batch.language,
        output_schema_version=batch.prompt.output_schema_version,
        kb=guideline_knowledge(guideline=batch.guideline),
    )
    result, record = caller.call(
        kind="writer",
        round_=0,
        model=batch.model,
        system=system,
        user=user,
        schema=None,
        schema_name="narrative",
        max_tokens=NARRATIVE_MAX_TOKENS,
        temperature=batch.temperature,
    )
    narrative, validated = _draft(
        caller,
        batch=batch,
        scenario=scenario,
        round_=0,
        narrative_result=result,
        narrative_record=record,
    )
    if not batch.critique:
        return TwoPassResult(validated=validated, outcome=None, passes=caller.passes, revisions=0)
    outcome = _judge(
        caller,
        batch=batch,
        scenario=scenario,
        round_=0,
        narrative=narrative,
        checker=consistency_check(scenario=scenario, validated=validated),
    )
    revisions = 0
    max_revisions = min(batch.max_revisions, settings.GENERATION_MAX_REVISIONS)
    while outcome.needs_revision and revisions < max_revisions:
        revisions += 1
        result, record = caller.call(
            kind="revision",
            round_=revisions,
            model=batch.model,
            system=system,
            user=revision_prompt(narrative=narrative, outcome=outcome, language=batch.language),
            schema=None,
            schema_name="narrative",
            max_tokens=NARRATIVE_MAX_TOKENS,
            temperature=batch.temperature,
        )
        narrative, validated = _draft(
            caller,
            batch=batch,
            scenario=scenario,
            round_=revisions,
            narrative_result=result,
            narrative_record=record,
        )
        outcome = _judge(
            caller,
            batch=batch,
            scenario=scenario,
            round_=revisions,
            narrative=narrative,
            checker=consistency_check(scenario=scenario, validated=validated),
        )
    return TwoPassResult(
        validated=validated, outcome=outcome, passes=caller.passes, revisions=revisions
    )
