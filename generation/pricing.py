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


def batch_cost_estimate(*, count: int, backend: str, model: str) -> dict[str, Any]:
    spec = BACKENDS.get(backend)
    if spec is None or not spec.network:
        # Only network backends are billed; the offline writer costs nothing.
        return {"tokens_in": 0, "tokens_out": 0, "eur": 0.0, "model": "offline"}
    tokens_in, tokens_out = count * ESTIMATED_TOKENS_IN, count * ESTIMATED_TOKENS_OUT
    return {
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "eur": cost_eur(model=model, tokens_in=tokens_in, tokens_out=tokens_out),
        "model": model,
    }
