"""Mistral backend through the official `mistralai` SDK (3.x: `mistralai.client`).

`MISTRAL_SERVER_URL` (base URL without /v1) points it at a self-hosted or private
OpenAI-compatible endpoint (vLLM…), as hospitals under GDPR often require. The SDK's own
retries are off: Celery retries transient errors, so the global rate limiter sees every
request and the attempt count in the database stays true.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import httpx2
from django.conf import settings
from django.utils.translation import gettext as _
from mistralai.client import Mistral, errors, models

from generation.backends.base import (
    BackendError,
    BackendResult,
    BackendUnavailable,
    GenerationRequest,
    TransientBackendError,
)

_clients: dict[tuple, Mistral] = {}
_send_gate: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "mistral_send_gate", default=None
)


class GatedHttpClient:
    """The SDK's HTTP client with a gate run right before each request goes out.

    The global rate limiter waits in the gate, so what it admits is what the server sees:
    the SDK's own preparation (tens of milliseconds on a cold process) happens before.
    """

    def __init__(self, inner: httpx2.Client) -> None:
        self.inner = inner

    def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        gate = _send_gate.get()
        if gate is not None:
            gate()
        return self.inner.send(request, **kwargs)

    def build_request(self, *args: Any, **kwargs: Any) -> httpx2.Request:
        return self.inner.build_request(*args, **kwargs)

    def close(self) -> None:
        self.inner.close()


TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("retry-after") if headers is not None else None
    try:
        return max(float(raw), 0.0) if raw is not None else None
    except ValueError:
        return None


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    # A list of chunks (text/reference…): keep the text ones.
    return "".join(getattr(chunk, "text", "") or "" for chunk in content)


class MistralBackend:
    name = "mistral"

    def __init__(self, *, api_key: str, server_url: str, timeout_seconds: float) -> None:
        self.api_key = api_key
        self.server_url = server_url.rstrip("/")
        self.timeout_ms = int(timeout_seconds * 1000)

    @classmethod
    def from_settings(cls) -> MistralBackend:
        return cls._configured(
            usable=bool(settings.MISTRAL_API_KEY or settings.MISTRAL_SERVER_URL),
            missing=_(
                "The mistral backend needs MISTRAL_API_KEY (Mistral's API) or "
                "MISTRAL_SERVER_URL (a self-hosted compatible server); neither is set."
            ),
            api_key=settings.MISTRAL_API_KEY,
            server_url=settings.MISTRAL_SERVER_URL,
        )

    @classmethod
    def _configured(cls, *, usable: bool, missing: str, api_key: str, server_url: str) -> Self:
        """The backend for one server's settings, or BackendUnavailable saying which are
        missing. Every server speaking this API shares the one timeout setting."""
        if not usable:
            raise BackendUnavailable(missing)
        return cls(
            api_key=api_key,
            server_url=server_url,
            timeout_seconds=settings.MISTRAL_TIMEOUT_SECONDS,
        )

    def _client(self) -> Mistral:
        # One client (and its connection pool) per process and configuration: building it
        # per request costs tens of milliseconds.
        key = (self.api_key, self.server_url, self.timeout_ms)
        client = _clients.get(key)
        if client is None:
            client = Mistral(
                api_key=self.api_key or None,
                server_url=self.server_url or None,
                timeout_ms=self.timeout_ms,
                client=GatedHttpClient(httpx2.Client(follow_redirects=True)),
            )
            _clients[key] = client
        return client

    def generate(
        self, request: GenerationRequest, *, before_send: Callable[[], None] | None = None
    ) -> BackendResult:
        """`before_send` runs just before the HTTP request: the global rate limiter waits
        there, so what it admits is what the server receives."""
        response_format = (
            models.ResponseFormat(
                type="json_schema",
                json_schema=models.JSONSchema(
                    name=request.schema_name,
                    schema_definition=request.json_schema,
                    strict=True,
                ),
            )
            if request.json_schema
            else None
        )
        client = self._client()
        messages: list[models.SystemMessage | models.UserMessage] = [
            models.SystemMessage(content=request.system_prompt),
            models.UserMessage(content=request.user_prompt),
        ]
        waited = [0.0]

        def gate() -> None:
            # Time spent waiting for the rate limiter is not the model's latency.
            gate_started = time.monotonic()
            if before_send is not None:
                before_send()
            waited[0] += time.monotonic() - gate_started

        token = _send_gate.set(gate)
        started = time.monotonic()
        try:
            response = client.chat.complete(
                model=request.model,
                messages=messages,
                temperature=request.temperature,
                random_seed=request.seed,
                max_tokens=request.max_tokens,
                response_format=response_format,
                retries=None,
            )
        except errors.MistralError as exc:
            status = exc.status_code
            if status in TRANSIENT_STATUS or status >= 500:
                raise TransientBackendError(
                    f"Mistral API answered {status}", retry_after=_retry_after(exc.headers)
                ) from exc
            raise BackendError(f"Mistral API answered {status}: {exc.body[:300]}") from exc
        except (httpx2.TimeoutException, httpx2.TransportError, errors.NoResponseError) as exc:
            raise TransientBackendError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            _send_gate.reset(token)
        latency_ms = int((time.monotonic() - started - waited[0]) * 1000)
        if not response.choices:
            raise TransientBackendError("Mistral API returned no choice")
        choice = response.choices[0]
        usage = response.usage
        return BackendResult(
            content=_content_text(choice.message.content if choice.message else None),
            tokens_in=int(usage.prompt_tokens or 0) if usage else 0,
            tokens_out=int(usage.completion_tokens or 0) if usage else 0,
            latency_ms=latency_ms,
            finish_reason=str(choice.finish_reason or ""),
            model=response.model or request.model,
        )


class OpenAICompatibleBackend(MistralBackend):
    """A self-hosted server speaking the chat completions API (vLLM, Ollama), reached
    through the same SDK and error handling as Mistral's; configured by settings only."""

    name = "openai_compatible"

    @classmethod
    def from_settings(cls) -> OpenAICompatibleBackend:
        return cls._configured(
            usable=bool(
                settings.OPENAI_COMPATIBLE_SERVER_URL and settings.OPENAI_COMPATIBLE_MODELS
            ),
            missing=_(
                "The openai_compatible backend needs OPENAI_COMPATIBLE_SERVER_URL and "
                "OPENAI_COMPATIBLE_MODELS."
            ),
            api_key=settings.OPENAI_COMPATIBLE_API_KEY,
            server_url=settings.OPENAI_COMPATIBLE_SERVER_URL,
        )


# -- Batch API ---------------------------------------------------------------------------
# Mistral's asynchronous batch inference: the requests go up as one JSONL file (files
# endpoint, purpose "batch"), a job runs them (batch jobs endpoint), and its output and
# error files come back as JSONL keyed by each line's custom_id.

BATCH_JOB_FINAL = ("SUCCESS", "FAILED", "TIMEOUT_EXCEEDED", "CANCELLED")


@dataclass(frozen=True)
class BatchJobState:
    job_id: str
    status: str
    output_file: str
    error_file: str
    total: int
    succeeded: int
    failed: int


def batch_line(*, custom_id: str, request: GenerationRequest) -> dict[str, Any]:
    """One JSONL line: the same body a direct call sends through `chat.complete`."""
    body: dict[str, Any] = {
        "messages": [
            {"role": "system", "content": request.system_prompt},
            {"role": "user", "content": request.user_prompt},
        ],
        "temperature": request.temperature,
        "random_seed": request.seed,
        "max_tokens": request.max_tokens,
    }
    if request.json_schema:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name,
                "schema": request.json_schema,
                "strict": True,
            },
        }
    return {"custom_id": custom_id, "body": body}


def _batch_call(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except errors.MistralError as exc:
        status = exc.status_code
        if status in TRANSIENT_STATUS or status >= 500:
            raise TransientBackendError(
                f"Mistral API answered {status}", retry_after=_retry_after(exc.headers)
            ) from exc
        raise BackendError(f"Mistral API answered {status}: {exc.body[:300]}") from exc
    except (httpx2.TimeoutException, httpx2.TransportError, errors.NoResponseError) as exc:
        raise TransientBackendError(f"{type(exc).__name__}: {exc}") from exc


def _job_state(job: Any) -> BatchJobState:
    return BatchJobState(
        job_id=job.id,
        status=str(job.status),
        output_file=job.output_file or "",
        error_file=job.error_file or "",
        total=int(job.total_requests or 0),
        succeeded=int(job.succeeded_requests or 0),
        failed=int(job.failed_requests or 0),
    )


class MistralBatchApi:
    """The files and batch-jobs endpoints through the SDK, configured like the backend."""

    def __init__(self, backend: MistralBackend) -> None:
        self.client = backend._client()

    @classmethod
    def from_settings(cls) -> MistralBatchApi:
        return cls(MistralBackend.from_settings())

    def submit(
        self, *, lines: list[dict[str, Any]], model: str, name: str, metadata: dict[str, str]
    ) -> tuple[str, BatchJobState]:
        content = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        uploaded = _batch_call(
            lambda: self.client.files.upload(
                file={"file_name": f"{name}.jsonl", "content": content.encode()},
                purpose="batch",
                retries=None,
            )
        )
        job = _batch_call(
            lambda: self.client.batch.jobs.create(
                input_files=[uploaded.id],
                endpoint="/v1/chat/completions",
                model=model,
                metadata=metadata,
                timeout_hours=settings.GENERATION_BATCH_API_TIMEOUT_HOURS,
                retries=None,
            )
        )
        return uploaded.id, _job_state(job)

    def get(self, *, job_id: str) -> BatchJobState:
        return _job_state(_batch_call(lambda: self.client.batch.jobs.get(job_id=job_id)))

    def cancel(self, *, job_id: str) -> BatchJobState:
        return _job_state(_batch_call(lambda: self.client.batch.jobs.cancel(job_id=job_id)))

    def lines(self, *, file_id: str) -> list[dict[str, Any]]:
        if not file_id:
            return []
        response = _batch_call(lambda: self.client.files.download(file_id=file_id, retries=None))
        return [json.loads(line) for line in response.read().splitlines() if line.strip()]


def batch_result(line: dict[str, Any], *, model: str) -> BackendResult | None:
    """A result line as a BackendResult, or None when the line is an error."""
    response = line.get("response") or {}
    body = response.get("body") or {}
    if line.get("error") or response.get("status_code") != 200 or not body.get("choices"):
        return None
    choice = body["choices"][0]
    usage = body.get("usage") or {}
    return BackendResult(
        content=_content_text((choice.get("message") or {}).get("content")),
        tokens_in=int(usage.get("prompt_tokens") or 0),
        tokens_out=int(usage.get("completion_tokens") or 0),
        # Batch answers have no per-request latency worth the name: the job's hours.
        latency_ms=0,
        finish_reason=str(choice.get("finish_reason") or ""),
        model=str(body.get("model") or model),
    )
