"""The backend interface and the errors the task layer distinguishes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from generation.clinical.knowledge import KnowledgeBase
from generation.scenario import Scenario


@dataclass(frozen=True)
class GenerationRequest:
    # None for calls that must not see one (the judge rating a study, blinded).
    scenario: Scenario | None
    system_prompt: str
    user_prompt: str
    model: str
    temperature: float
    seed: int
    language: str
    # Empty: a plain-text answer (pass 1's narrative); else a JSON answer of this schema,
    # named `schema_name` (generated_report, extraction, verdict, rating).
    json_schema: dict[str, Any] = field(default_factory=dict)
    max_tokens: int = 4096
    schema_name: str = "generated_report"
    # The clinical knowledge base the scenario was drawn with (None: the release's).
    knowledge: KnowledgeBase | None = None


@dataclass(frozen=True)
class BackendResult:
    content: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    finish_reason: str
    model: str


class BackendError(Exception):
    """A failure that another attempt will not fix (bad request, auth…): the item fails."""


class BackendUnavailable(BackendError):
    """The backend cannot be used at all (no API key, unknown name): refused at launch."""


class TransientBackendError(Exception):
    """429, 5xx, timeouts, connection errors: retried with backoff (honouring Retry-After)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Backend(Protocol):
    name: str

    @classmethod
    def from_settings(cls) -> Backend: ...

    def generate(
        self, request: GenerationRequest, *, before_send: Callable[[], None] | None = None
    ) -> BackendResult: ...
