"""LLM backends: each turns a prompt and a scenario into a `BackendResult`.

`offline` writes from templates without any network; `mistral` calls the Mistral API
through the official SDK. Both return the raw JSON text, parsed and validated by the
same code, so the offline writer exercises the whole pipeline.
"""

from django.utils.translation import gettext as _

from generation.backends.base import (
    Backend,
    BackendError,
    BackendResult,
    BackendUnavailable,
    GenerationRequest,
    TransientBackendError,
)


def backend_get(name: str) -> Backend:
    if name == "offline":
        from generation.backends.offline import OfflineBackend

        return OfflineBackend()
    if name == "mistral":
        from generation.backends.mistral import MistralBackend

        return MistralBackend.from_settings()
    raise BackendUnavailable(_("Unknown backend %(name)r.") % {"name": name})


__all__ = [
    "Backend",
    "BackendError",
    "BackendResult",
    "BackendUnavailable",
    "GenerationRequest",
    "TransientBackendError",
    "backend_get",
]
