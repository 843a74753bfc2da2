"""The BACKENDS registry and everything derived from it (choices, constraint, form, CLI)."""

import pytest
from django.db.models import Q

from generation import backends
from generation.api import BatchLaunchSerializer
from generation.backends import (
    BACKEND_CHOICES,
    BACKEND_NAMES,
    BACKENDS,
    BackendSpec,
    BackendUnavailable,
    backend_get,
    network_model_choices,
)
from generation.backends.offline import OfflineBackend
from generation.forms import BatchLaunchForm
from generation.management.commands.generate_reports import Command as GenerateReports
from generation.models import Batch

MISTRAL_MODELS = ["mistral-large-latest", "mistral-medium-latest", "mistral-small-latest"]


def test_registry_lists_offline_mistral_and_openai_compatible():
    assert BACKEND_NAMES == ["offline", "mistral", "openai_compatible"]
    assert [(name, str(label)) for name, label in BACKEND_CHOICES] == [
        ("offline", "Offline template writer (no LLM)"),
        ("mistral", "Mistral API"),
        ("openai_compatible", "Self-hosted OpenAI-compatible server"),
    ]
    # Its models come from OPENAI_COMPATIBLE_MODELS (none in the test environment).
    assert BACKENDS["openai_compatible"].models == {}
    assert (BACKENDS["offline"].network, BACKENDS["mistral"].network) == (False, True)
    assert BACKENDS["offline"].models == {"offline": (0.0, 0.0)}
    assert BACKENDS["mistral"].models == {
        "mistral-large-latest": (2.0, 6.0),
        "mistral-medium-latest": (0.4, 2.0),
        "mistral-small-latest": (0.1, 0.3),
    }


def test_batch_backend_field_choices_and_constraint_derived():
    field = Batch._meta.get_field("backend")
    assert [(value, str(label)) for value, label in field.choices] == [
        ("offline", "Offline template writer (no LLM)"),
        ("mistral", "Mistral API"),
        ("openai_compatible", "Self-hosted OpenAI-compatible server"),
    ]
    constraint = next(c for c in Batch._meta.constraints if c.name == "batch_backend_valid")
    assert constraint.condition == Q(backend__in=["offline", "mistral", "openai_compatible"])


def test_launch_form_backend_and_model_choices_derived(db):
    form = BatchLaunchForm()
    assert [(value, str(label)) for value, label in form.fields["backend"].choices] == [
        ("offline", "Offline template writer (no LLM)"),
        ("mistral", "Mistral API"),
        ("openai_compatible", "Self-hosted OpenAI-compatible server"),
    ]
    # The offline writer's pseudo-model is not offered: only models of network backends.
    assert list(form.fields["model"].choices) == [(m, m) for m in MISTRAL_MODELS]


def test_cli_and_api_backend_choices_derived():
    parser = GenerateReports().create_parser("manage.py", "generate_reports")
    backend_action = next(a for a in parser._actions if a.dest == "backend")
    names = ["offline", "mistral", "openai_compatible"]
    assert backend_action.choices == names
    assert list(BatchLaunchSerializer().fields["backend"].choices) == names


def test_a_backend_added_to_the_registry_reaches_models_and_prices(monkeypatch):
    extended = dict(BACKENDS)
    extended["local"] = BackendSpec(
        label="Local server",
        class_path="generation.backends.offline.OfflineBackend",
        network=True,
        models={"local-7b": (0.05, 0.1)},
    )
    monkeypatch.setattr(backends, "BACKENDS", extended)
    assert network_model_choices() == [(m, m) for m in [*MISTRAL_MODELS, "local-7b"]]
    assert backends.model_price("local-7b") == (0.05, 0.1)
    assert isinstance(backend_get("local"), OfflineBackend)


def test_backend_get_builds_the_registered_class():
    assert isinstance(backend_get("offline"), OfflineBackend)
    with pytest.raises(BackendUnavailable) as info:
        backend_get("gpt")
    assert str(info.value) == "Unknown backend 'gpt'."
