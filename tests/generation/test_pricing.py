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


def test_batch_cost_estimate_two_pass_counts_every_pass_at_its_model_price():
    estimate = pricing.batch_cost_estimate(
        count=100,
        backend="mistral",
        model="mistral-large-latest",
        two_pass=True,
        judge_model="mistral-small-latest",
        max_revisions=2,
    )
    # writer 180000 x 2 + 130000 x 6 = 1.14; extraction 170000 x 2 + 90000 x 6 = 0.88;
    # judge (small) 240000 x 0.1 + 30000 x 0.3 = 0.033 (EUR, prices per million tokens).
    assert [(p["kind"], p["model"], p["eur"]) for p in estimate["passes"]] == [
        ("writer", "mistral-large-latest", 1.14),
        ("extraction", "mistral-large-latest", 0.88),
        ("judge", "mistral-small-latest", 0.033),
    ]
    assert (estimate["tokens_in"], estimate["tokens_out"]) == (590000, 250000)
    assert estimate["eur"] == 2.053
    # A revision round: rewrite 170000 x 2 + 130000 x 6 = 1.12, extraction 0.88, judge
    # 0.033 → 2.033 per round, twice at most.
    assert estimate["eur_max"] == round(2.053 + 2 * 2.033, 4)


def test_batch_cost_estimate_two_pass_without_critique_has_no_judge():
    estimate = pricing.batch_cost_estimate(
        count=10, backend="mistral", model="mistral-large-latest", two_pass=True, critique=False
    )
    assert [p["kind"] for p in estimate["passes"]] == ["writer", "extraction"]
    assert estimate["eur"] == estimate["eur_max"] == round(0.114 + 0.088, 4)


def test_batch_cost_estimate_batch_api_at_half_price():
    estimate = pricing.batch_cost_estimate(
        count=100, backend="mistral", model="mistral-large-latest", batch_api=True
    )
    assert estimate["eur"] == 0.72  # 1.44 EUR direct (above), Mistral batch price x 0.5
