"""`Provenance`: where a synthetic report came from, as stored in `Report.provenance`.

Owned by review (the report's app) and filled by generation when it writes a report, so the
two apps share one typed contract instead of agreeing on string keys; review never imports
generation. `to_json` gives exactly the stored shape that exports, results (batch, model,
prompt version) and the blinding audit read; `from_json` reads it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Provenance:
    KIND: ClassVar[str] = "generation"

    batch: str  # the batch's primary key, as text (results group by it)
    batch_name: str
    item_index: int
    backend: str
    model: str
    model_reported: str  # what the API said it ran, which may differ from the alias asked
    prompt_version: str
    output_schema_version: int
    frame: str
    seed: int
    temperature: float
    scenario: dict[str, Any]  # the item's scenario, exactly as stored on it
    tokens_in: int
    tokens_out: int
    latency_ms: int | None
    rate_limit_wait_ms: int
    finish_reason: str
    attempts: int
    cost_eur: float
    flags: list[str]
    # Only for writers that are not a language model (the offline templates): absent
    # otherwise, as before the type existed.
    note: str | None = None
    # The clinical knowledge base (name@version) the scenario was drawn with; empty for
    # reports generated before it existed.
    guideline: str = ""
    # Two-pass prompts only (absent otherwise, as before): every LLM call (writer,
    # extraction, judge, revision) with its tokens, latency, cost and model, the critique's
    # final verdict (conform | not_conform | judge_unavailable) and the judge's model.
    passes: list[dict[str, Any]] | None = None
    verdict: str | None = None
    judge_model: str | None = None
    # "batch_api" when the answer came from the provider's Batch API (billed at its price).
    api_mode: str | None = None

    OPTIONAL: ClassVar[tuple[str, ...]] = ("note", "passes", "verdict", "judge_model", "api_mode")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.KIND, **asdict(self)}
        for key in self.OPTIONAL:
            if data[key] is None:
                del data[key]
        if not self.guideline:
            del data["guideline"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Provenance:
        if data.get("kind") != cls.KIND:
            raise ValueError(f"not a generation provenance (kind {data.get('kind')!r})")
        fields = {key: value for key, value in data.items() if key != "kind"}
        return cls(**fields)


@dataclass(frozen=True)
class Critique:
    """The generation critique's outcome as the report viewer shows it."""

    verdict: str  # conform | not_conform | judge_unavailable
    judge_model: str
    anomalies: list[dict[str, Any]]  # the last judgement's: category, evidence, correction
    revisions: int


def provenance_critique(data: dict[str, Any]) -> Critique | None:
    """The final verdict and anomalies recorded in a report's provenance, or None for a
    report that was not critiqued (real, one-pass or offline)."""
    if data.get("kind") != Provenance.KIND or not data.get("verdict"):
        return None
    passes = data.get("passes") or []
    judgements = [p for p in passes if p.get("kind") == "judge"]
    last = judgements[-1] if judgements else {}
    return Critique(
        verdict=str(data["verdict"]),
        judge_model=str(data.get("judge_model") or ""),
        anomalies=list((last.get("detail") or {}).get("anomalies") or []),
        revisions=sum(1 for p in passes if p.get("kind") == "revision"),
    )
