from generation import pricing


def test_model_price_from_registry():
    assert pricing.model_price("mistral-large-latest") == (2.0, 6.0)
    assert pricing.model_price("mistral-small-latest") == (0.1, 0.3)
    assert pricing.model_price("offline") == (0.0, 0.0)
    assert pricing.model_price("unknown-model") == (0.0, 0.0)


def test_cost_eur_per_million_tokens_rounded():
    # 1200 x 2 EUR + 2000 x 6 EUR per million tokens = 0.0144 EUR.
    assert pricing.cost_eur(model="mistral-large-latest", tokens_in=1200, tokens_out=2000) == 0.0144
    assert pricing.cost_eur(model="mistral-medium-latest", tokens_in=10, tokens_out=10) == 0.0


def test_batch_cost_estimate_network_and_offline():
    assert pricing.batch_cost_estimate(
        count=100, backend="mistral", model="mistral-large-latest"
    ) == {"tokens_in": 120000, "tokens_out": 200000, "eur": 1.44, "model": "mistral-large-latest"}
    assert pricing.batch_cost_estimate(count=100, backend="offline", model="") == {
        "tokens_in": 0,
        "tokens_out": 0,
        "eur": 0.0,
        "model": "offline",
    }
