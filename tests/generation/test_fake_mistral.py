"""The fake Mistral server's own global rate limit (used by bench/bench_generation.py)."""

import httpx

from generation.testing.fake_mistral import RATE_LIMITED, FakeMistral

BODY = {"model": "mistral-large-latest", "messages": [], "random_seed": 11}


def test_fake_mistral_refuses_requests_over_its_rate_limit_with_429():
    fake = FakeMistral(rate_limit_per_second=2, retry_after=1.0, faults=["500"])
    with fake, httpx.Client(base_url=fake.url) as client:
        responses = [client.post("/v1/chat/completions", json=BODY) for _ in range(3)]
    assert [r.status_code for r in responses] == [500, 200, 429]
    assert responses[2].headers["Retry-After"] == "1.0"
    # The refused request did not consume a scripted fault, and every request is recorded.
    assert [r.fault for r in fake.requests] == ["500", "ok", RATE_LIMITED]
    assert [r.random_seed for r in fake.requests] == [11, 11, 11]
    assert all(r.answered is not None and r.answered >= r.at for r in fake.requests)


def test_fake_mistral_without_rate_limit_answers_everything():
    with FakeMistral() as fake, httpx.Client(base_url=fake.url) as client:
        statuses = [client.post("/v1/chat/completions", json=BODY).status_code for _ in range(8)]
    assert statuses == [200] * 8
    assert [r.fault for r in fake.requests] == ["ok"] * 8
