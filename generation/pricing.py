"""Prices and cost estimates of generation, in euros (prices per million tokens)."""

from __future__ import annotations

from typing import Any

from generation.backends import BACKENDS
from generation.backends import model_price as registry_model_price

# Typical size of one report, for the cost estimate shown before launch (measured on the
# default prompts: the scenario prompt is ~1.2k tokens, a report with annotations ~2k).
ESTIMATED_TOKENS_IN = 1200
ESTIMATED_TOKENS_OUT = 2000


def model_price(model: str) -> tuple[float, float]:
    return registry_model_price(model)


def cost_eur(*, model: str, tokens_in: int, tokens_out: int) -> float:
    price_in, price_out = model_price(model)
    return round((tokens_in * price_in + tokens_out * price_out) / 1_000_000, 4)


# Typical sizes of each call of a two-pass prompt (version 2): the guideline-aware prompt
# is longer than version 1's, and pass 2 and the judge re-read the narrative. A revision
# round is a rewrite, an extraction and a judgement again.
ESTIMATED_PASS_TOKENS: dict[str, tuple[int, int]] = {
    "writer": (1800, 1300),
    "extraction": (1700, 900),
    "judge": (2400, 300),
    "revision": (1700, 1300),
}


def _pass_estimate(kind: str, *, count: int, model: str) -> dict[str, Any]:
    per_in, per_out = ESTIMATED_PASS_TOKENS[kind]
    tokens_in, tokens_out = count * per_in, count * per_out
    return {
        "kind": kind,
        "model": model,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "eur": cost_eur(model=model, tokens_in=tokens_in, tokens_out=tokens_out),
    }


def batch_cost_estimate(
    *,
    count: int,
    backend: str,
    model: str,
    two_pass: bool = False,
    critique: bool = True,
    judge_model: str = "",
    max_revisions: int = 0,
    batch_api: bool = False,
    judge_backend: str = "",
) -> dict[str, Any]:
    """Tokens and euros for a batch before launch. A two-pass batch counts every pass
    (writer, extraction, judge at the judge's price); `eur` assumes no revision and
    `eur_max` every item revised `max_revisions` times. In Batch API mode the calls the
    batch's backend answers are at its batch price (a judge on another backend is not)."""
    spec = BACKENDS.get(backend)
    if spec is None or not spec.network:
        # Only network backends are billed; the offline writer costs nothing.
        return {"tokens_in": 0, "tokens_out": 0, "eur": 0.0, "model": "offline"}
    if not two_pass:
        tokens_in, tokens_out = count * ESTIMATED_TOKENS_IN, count * ESTIMATED_TOKENS_OUT
        eur = cost_eur(model=model, tokens_in=tokens_in, tokens_out=tokens_out)
        if batch_api and spec.batch_api_price_factor is not None:
            # The provider's Batch API price (one-pass prompts only run there).
            eur = round(eur * spec.batch_api_price_factor, 4)
        return {"tokens_in": tokens_in, "tokens_out": tokens_out, "eur": eur, "model": model}
    passes = [
        _pass_estimate("writer", count=count, model=model),
        _pass_estimate("extraction", count=count, model=model),
    ]
    revision_round: list[dict[str, Any]] = []
    if critique:
        judge = judge_model or model
        passes.append(_pass_estimate("judge", count=count, model=judge))
        revision_round = [
            _pass_estimate("revision", count=count, model=model),
            _pass_estimate("extraction", count=count, model=model),
            _pass_estimate("judge", count=count, model=judge),
        ]
    if batch_api and spec.batch_api_price_factor is not None:
        judge_elsewhere = bool(judge_backend) and judge_backend != backend
        for estimate in [*passes, *revision_round]:
            if not (estimate["kind"] == "judge" and judge_elsewhere):
                estimate["eur"] = round(estimate["eur"] * spec.batch_api_price_factor, 4)
    eur = round(sum(p["eur"] for p in passes), 4)
    return {
        "tokens_in": sum(p["tokens_in"] for p in passes),
        "tokens_out": sum(p["tokens_out"] for p in passes),
        "eur": eur,
        "eur_max": round(eur + max_revisions * sum(p["eur"] for p in revision_round), 4),
        "model": model,
        "passes": passes,
    }
