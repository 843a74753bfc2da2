import pytest

from review.provenance import Provenance

STORED = {
    "kind": "generation",
    "batch": "12",
    "batch_name": "Demo batch",
    "item_index": 3,
    "backend": "offline",
    "model": "offline-template-v1",
    "model_reported": "offline",
    "prompt_version": "compte-rendu-fr-v1",
    "output_schema_version": 1,
    "frame": "france-incidence-2023@1",
    "seed": 2026,
    "temperature": 0.7,
    "scenario": {"schema": 1, "site": "lung"},
    "tokens_in": 0,
    "tokens_out": 0,
    "latency_ms": 4,
    "rate_limit_wait_ms": 0,
    "finish_reason": "stop",
    "attempts": 1,
    "cost_eur": 0.0,
    "flags": [],
    "note": "Written by the offline template writer, not by a language model.",
}


def test_provenance_round_trip_is_the_stored_json():
    provenance = Provenance.from_json(STORED)
    assert (provenance.batch, provenance.item_index, provenance.seed) == ("12", 3, 2026)
    assert provenance.to_json() == STORED


def test_provenance_without_note_stores_no_note_key():
    data = {k: v for k, v in STORED.items() if k != "note"}
    assert Provenance.from_json(data).to_json() == data
    assert "note" not in Provenance.from_json(data).to_json()


def test_provenance_with_guideline_version_round_trips():
    data = {**STORED, "guideline": "oncology-fr@1"}
    provenance = Provenance.from_json(data)
    assert provenance.guideline == "oncology-fr@1"
    assert provenance.to_json() == data


def test_provenance_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="not a generation provenance \\(kind 'import'\\)"):
        Provenance.from_json({"kind": "import"})
