"""LLM backends: each turns a prompt and a scenario into a `BackendResult`.

`BACKENDS` is the one place a backend is added (after healthchecks' `TRANSPORTS`): its
label, the class that implements it, whether it calls the network (rate limited, priced,
refused at launch when unconfigured) and its models with their prices. The batch model's
choices and constraint, the launch form, the API, the CLI and the cost estimate are all
derived from it. `offline` writes from templates without any network; `mistral` calls the
Mistral API through the official SDK. Both return the raw JSON text, parsed and validated
by the same code, so the offline writer exercises the whole pipeline.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from generation.backends.base import (
    Backend,
    BackendError,
    BackendResult,
    BackendUnavailable,
    GenerationRequest,
    TransientBackendError,
)


@dataclass(frozen=True)
class BackendSpec:
    label: str | Promise
    # "module.Class": imported only when the backend is used, so a worker or a page that
    # never calls Mistral does not load its SDK.
    class_path: str
    network: bool
    # Model name → (EUR per million input tokens, EUR per million output tokens); edit
    # when the provider's price list changes. The first model is the backend's default.
    models: dict[str, tuple[float, float]]
    # Price factor of the provider's asynchronous Batch API (None: the backend has none).
    batch_api_price_factor: float | None = None
    # The settings naming the provider account its calls count against (server URL, API
    # key) and the URL used when the first is empty: see `rate_limit_key`.
    endpoint_settings: tuple[str, str, str] | None = None


BACKENDS: dict[str, BackendSpec] = {
    "offline": BackendSpec(
        label=gettext_lazy("Offline template writer (no LLM)"),
        class_path="generation.backends.offline.OfflineBackend",
        network=False,
        models={"offline": (0.0, 0.0)},
    ),
    "mistral": BackendSpec(
        label=gettext_lazy("Mistral API"),
        class_path="generation.backends.mistral.MistralBackend",
        network=True,
        models={
            "mistral-large-latest": (2.0, 6.0),
            "mistral-medium-latest": (0.4, 2.0),
            "mistral-small-latest": (0.1, 0.3),
        },
        # Mistral bills batch inference at half the price of direct calls.
        batch_api_price_factor=0.5,
        endpoint_settings=("MISTRAL_SERVER_URL", "MISTRAL_API_KEY", "https://api.mistral.ai"),
    ),
    # Any server speaking the chat completions API (vLLM, Ollama, a private Mistral
    # deployment): its URL and models are settings (OPENAI_COMPATIBLE_*), so adding one is
    # configuration. Listed whether configured or not: launch refuses it until it is.
    "openai_compatible": BackendSpec(
        label=gettext_lazy("Self-hosted OpenAI-compatible server"),
        class_path="generation.backends.mistral.OpenAICompatibleBackend",
        network=True,
        models=dict(settings.OPENAI_COMPATIBLE_MODELS),
        endpoint_settings=("OPENAI_COMPATIBLE_SERVER_URL", "OPENAI_COMPATIBLE_API_KEY", ""),
    ),
}

# Derived once: the model field's choices and constraint read these at import time (a
# changed list shows up as a migration, which is the point).
BACKEND_NAMES: list[str] = list(BACKENDS)
BACKEND_CHOICES: list[tuple[str, Any]] = [(name, spec.label) for name, spec in BACKENDS.items()]


def network_model_choices() -> list[tuple[str, str]]:
    """The models a coordinator picks from: those of the backends that call a model."""
    return [(model, model) for spec in BACKENDS.values() if spec.network for model in spec.models]


def model_price(model: str) -> tuple[float, float]:
    """(input, output) EUR per million tokens; (0, 0) for a model no backend lists."""
    for spec in BACKENDS.values():
        if model in spec.models:
            return spec.models[model]
    return (0.0, 0.0)


def rate_limit_key(name: str) -> str:
    """The global rate limiter's key for every call a backend makes: the provider account
    (server URL and API key) the provider's own limit counts, whatever the model or the
    pass (writer, extraction, judge, revision, study judge). Two backends or two models on
    the same server and key therefore share one budget; another server or key has its own.
    The key is fingerprinted, never stored in Redis as is."""
    spec = BACKENDS[name]
    if spec.endpoint_settings is None:
        return name
    url_setting, key_setting, default_url = spec.endpoint_settings
    url = (getattr(settings, url_setting) or default_url).rstrip("/")
    api_key = getattr(settings, key_setting) or ""
    fingerprint = hashlib.sha256(api_key.encode()).hexdigest()[:12] if api_key else "-"
    return f"{url}|{fingerprint}"


def backend_get(name: str) -> Backend:
    spec = BACKENDS.get(name)
    if spec is None:
        raise BackendUnavailable(_("Unknown backend %(name)r.") % {"name": name})
    module_name, _dot, class_name = spec.class_path.rpartition(".")
    backend_class = getattr(import_module(module_name), class_name)
    # from_settings raises BackendUnavailable when the backend is not configured.
    return backend_class.from_settings()


__all__ = [
    "BACKENDS",
    "BACKEND_CHOICES",
    "BACKEND_NAMES",
    "Backend",
    "BackendError",
    "BackendResult",
    "BackendSpec",
    "BackendUnavailable",
    "GenerationRequest",
    "TransientBackendError",
    "backend_get",
    "model_price",
    "network_model_choices",
    "rate_limit_key",
]
