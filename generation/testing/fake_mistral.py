"""A local fake of the Mistral chat completions API, for tests and benchmarks.

It speaks `POST /v1/chat/completions` as the real API does (enough for the official SDK)
and can inject faults, per request in a scripted order and/or at random with a seed:

* "ok"          — a valid JSON report (narrative with the expected sections + annotations);
* "429"         — Too Many Requests with a `Retry-After` header;
* "500", "503"  — server errors;
* "slow"        — waits `slow_seconds` before answering (beyond the client's timeout);
* "malformed"   — prose instead of JSON in the message content;
* "wrong_shape" — JSON that does not match the output schema;
* "length"      — a truncated answer with `finish_reason: "length"`.

It also speaks the Batch API as the SDK uses it: `POST /v1/files` (multipart upload of a
JSONL file), `POST /v1/batch/jobs`, `GET /v1/batch/jobs/{id}`, `POST
/v1/batch/jobs/{id}/cancel` and `GET /v1/files/{id}/content`. A job is RUNNING at its
first poll and reaches `batch_job_outcome` (SUCCESS, TIMEOUT_EXCEEDED, FAILED, CANCELLED)
at the second, answering each input line as the chat endpoint would; lines whose
custom_id is in `batch_line_errors` go to the error file (HTTP 500), those in
`batch_line_malformed` get prose instead of JSON, and with TIMEOUT_EXCEEDED only the first
`batch_lines_before_expiry` lines are answered. `batch_line_errors_by_kind` ({kind:
custom_ids}) fails a line only in the jobs of that kind of call (a two-pass batch's
narrative, extraction or verdict jobs); `batch_job_outcomes` (a list) gives the outcome of
each successive job, `batch_job_outcome` once it is used up. `script(kind, *contents,
batch_only=True)` queues contents that only batch-job lines are served (direct calls
running at the same time do not take them).

With `rate_limit_per_second=N` the server also enforces a global limit, as the real API
does: a request arriving when N requests already arrived in the last second is answered
429 at once (recorded with fault "rate_limited"), whatever the scripted faults say.

Every request is recorded (arrival time, model, fault served, and the request body), so a
test or a benchmark can check the global rate limit from the server's side, and a test can
check what a call was (not) told — e.g. that the judge never saw a report's source.

An "ok" answer depends on the kind of call, read from the request as the real API would see
it: no `response_format` → a narrative in plain text (pass 1); JSON schema named
`extraction` → annotations of that narrative (pass 2); `verdict` → a conform verdict (the
critique); `rating` → scores (the judge as a rater); anything else → the one-pass report.
`script(kind, *contents)` queues exact contents for a kind (a planted inconsistency, a
scripted verdict, a verdict that does not parse).

    with FakeMistral(faults=["429", "ok"]) as fake:
        settings.MISTRAL_SERVER_URL = fake.url
        ...
        fake.requests  # [RecordedRequest(...), ...]

Also runnable on its own for manual tries and the bench:
`python -m generation.testing.fake_mistral --port 8765 --fault-rate 429=0.1,500=0.05`
(`--latency 2 --rate-limit 5` for the generation benchmark).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("ok", "429", "500", "503", "slow", "malformed", "wrong_shape", "length")
# Recorded for a request refused by the server's own rate limit (not an injectable fault).
RATE_LIMITED = "rate_limited"

OK_NARRATIVE = (
    "Centre hospitalier de Test\nService d'oncologie médicale\n\n"
    "Motif d'hospitalisation\nPatient hospitalisé pour la prise en charge de sa maladie.\n\n"
    "Antécédents\nHypertension artérielle traitée.\n\n"
    "Mode de vie\nAncien fumeur, vit en couple.\n\n"
    "Histoire de la maladie\nDiagnostic récent, dossier discuté en réunion de concertation "
    "pluridisciplinaire.\n\n"
    "Examen clinique\nPoids 70 kg, apyrétique, examen sans particularité.\n\n"
    "Examens complémentaires\nBiologie sans anomalie notable.\n\n"
    "Évolution\nSéjour sans complication.\n\n"
    "Conclusion\nSortie à domicile, consultation de suivi dans trois semaines.\n"
)


def ok_content() -> str:
    return json.dumps(
        {
            "narrative": OK_NARRATIVE,
            "annotations": [
                {
                    "field": "hospital",
                    "value": "Centre hospitalier de Test",
                    "segments": ["Centre hospitalier de Test"],
                },
                {
                    "field": "comorbidity",
                    "value": "hypertension",
                    "segments": ["Hypertension artérielle"],
                },
                {"field": "smoking", "value": "former", "segments": ["Ancien fumeur"]},
            ],
        },
        ensure_ascii=False,
    )


# Pass 2's default answer for OK_NARRATIVE (tests script their own narratives with
# repeated phrases to exercise the occurrence index).
def ok_extraction() -> str:
    return json.dumps(
        {
            "annotations": [
                {
                    "field": "hospital",
                    "value": "Centre hospitalier de Test",
                    "segment": "Centre hospitalier de Test",
                    "occurrence": 1,
                },
                {
                    "field": "comorbidity",
                    "value": "hypertension",
                    "segment": "Hypertension artérielle",
                    "occurrence": 1,
                },
                {
                    "field": "smoking",
                    "value": "former",
                    "segment": "Ancien fumeur",
                    "occurrence": 1,
                },
                {"field": "weight", "value": "70 kg", "segment": "Poids 70 kg", "occurrence": 1},
            ]
        },
        ensure_ascii=False,
    )


def ok_verdict() -> str:
    return json.dumps({"conform": True, "anomalies": []})


def ok_rating(domains: list[str]) -> str:
    return json.dumps({"scores": [{"domain": key, "score": 7} for key in domains]})


KINDS = ("report", "narrative", "extraction", "verdict", "rating")


@dataclass(frozen=True)
class RecordedRequest:
    at: float  # time.time() when the request arrived
    model: str
    fault: str
    has_json_schema: bool
    random_seed: int | None = None
    answered: float | None = None  # time.time() when the answer was sent
    kind: str = "report"
    body: dict[str, Any] | None = None  # the JSON body exactly as received

    @property
    def prompt_text(self) -> str:
        """Every message's content joined: what the model was told."""
        return "\n".join(str(m.get("content", "")) for m in (self.body or {}).get("messages", []))


class FakeMistral:
    def __init__(
        self,
        *,
        faults: Iterable[str] = (),
        fault_rate: dict[str, float] | None = None,
        seed: int = 0,
        slow_seconds: float = 5.0,
        retry_after: float = 1.0,
        latency_seconds: float = 0.0,
        rate_limit_per_second: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        unknown = [f for f in [*faults, *(fault_rate or {})] if f not in FAULTS]
        if unknown:
            raise ValueError(f"Unknown fault(s) {unknown}; known: {FAULTS}")
        self._script: deque[str] = deque(faults)
        self._contents: dict[str, deque[str]] = {kind: deque() for kind in KINDS}
        self._batch_contents: dict[str, deque[str]] = {kind: deque() for kind in KINDS}
        self.fault_rate = dict(fault_rate or {})
        self._rng = random.Random(seed)
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.latency_seconds = latency_seconds
        self.rate_limit_per_second = rate_limit_per_second
        self._recent_arrivals: deque[float] = deque()
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        # Batch API state: uploaded files by id, jobs by id, and the scripted behaviour.
        self.files: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.batch_job_outcome = "SUCCESS"
        self.batch_line_errors: set[str] = set()
        self.batch_line_malformed: set[str] = set()
        self.batch_line_errors_by_kind: dict[str, set[str]] = {}
        self.batch_job_outcomes: list[str] = []
        self.batch_lines_before_expiry = 0
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> FakeMistral:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeMistral:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour --------------------------------------------------------------------------

    def push(self, *faults: str) -> None:
        with self._lock:
            self._script.extend(faults)

    def script(self, kind: str, *contents: str, batch_only: bool = False) -> None:
        """Queue exact answer contents for one kind of call (served in order, then defaults)."""
        if kind not in KINDS:
            raise ValueError(f"Unknown kind {kind!r}; known: {KINDS}")
        with self._lock:
            (self._batch_contents if batch_only else self._contents)[kind].extend(contents)

    def _next_content(self, kind: str, *, batch: bool = False) -> str | None:
        with self._lock:
            if batch and self._batch_contents[kind]:
                return self._batch_contents[kind].popleft()
            return self._contents[kind].popleft() if self._contents[kind] else None

    def requests_of(self, kind: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.kind == kind]

    # -- Batch API ---------------------------------------------------------------------------

    def _file_create(self, content: bytes, *, purpose: str) -> dict[str, Any]:
        with self._lock:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = content
        return {
            "id": file_id,
            "object": "file",
            "size_bytes": len(content),
            "created_at": int(time.time()),
            "filename": f"{file_id}.jsonl",
            "purpose": purpose,
            "sample_type": "batch_request" if purpose == "batch" else "batch_result",
            "source": "upload",
            "num_lines": content.count(b"\n"),
        }

    def _job_json(self, job: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in job.items() if not key.startswith("_")}

    def _job_create(self, body: dict[str, Any]) -> dict[str, Any]:
        lines = []
        for file_id in body.get("input_files") or []:
            lines += [json.loads(x) for x in self.files.get(file_id, b"").splitlines() if x]
        with self._lock:
            job_id = f"job-{len(self.jobs) + 1}"
            self.jobs[job_id] = {
                "id": job_id,
                "object": "batch",
                "input_files": list(body.get("input_files") or []),
                "endpoint": body.get("endpoint", "/v1/chat/completions"),
                "model": body.get("model"),
                "metadata": body.get("metadata"),
                "errors": [],
                "status": "QUEUED",
                "created_at": int(time.time()),
                "total_requests": len(lines),
                "completed_requests": 0,
                "succeeded_requests": 0,
                "failed_requests": 0,
                "output_file": None,
                "error_file": None,
                "_lines": lines,
                "_polls": 0,
            }
            if self.batch_job_outcomes:
                self.jobs[job_id]["_outcome"] = self.batch_job_outcomes.pop(0)
            return self._job_json(self.jobs[job_id])

    def _job_cancel(self, job: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if job["status"] in ("QUEUED", "RUNNING"):
                job["status"] = "CANCELLATION_REQUESTED"
                job["_cancel"] = True
            return self._job_json(job)

    def _job_poll(self, job: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            job["_polls"] += 1
            if job["status"] == "QUEUED":
                job["status"] = "RUNNING"
                return self._job_json(job)
            if job["status"] not in ("RUNNING", "CANCELLATION_REQUESTED"):
                return self._job_json(job)
            if job.get("_cancel"):
                final = "CANCELLED"
            elif "_outcome" in job:
                final = job["_outcome"]
            else:
                final = self.batch_job_outcome
        lines = job["_lines"]
        if final == "TIMEOUT_EXCEEDED":
            lines = lines[: self.batch_lines_before_expiry]
        elif final in ("FAILED", "CANCELLED"):
            lines = []
        outputs, errors = [], []
        for number, line in enumerate(lines):
            custom_id = str(line.get("custom_id"))
            body = line.get("body") or {}
            kind = _kind(body)
            if custom_id in self.batch_line_errors or custom_id in (
                self.batch_line_errors_by_kind.get(kind, set())
            ):
                errors.append(
                    {
                        "id": f"err-{number}",
                        "custom_id": custom_id,
                        "response": {"status_code": 500, "body": {"message": "Internal error"}},
                        "error": {"message": "Internal error", "code": 500},
                    }
                )
                continue
            content = self._next_content(kind, batch=True) or _default_content(kind, body)
            if custom_id in self.batch_line_malformed:
                content = "Voici le compte rendu demandé : le patient va bien."
            prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
            outputs.append(
                {
                    "id": f"out-{number}",
                    "custom_id": custom_id,
                    "response": {
                        "status_code": 200,
                        "body": {
                            "id": f"fake-batch-{number}",
                            "object": "chat.completion",
                            "model": body.get("model") or job.get("model") or "fake",
                            "usage": {
                                "prompt_tokens": prompt_chars // 4,
                                "completion_tokens": len(content) // 4,
                                "total_tokens": prompt_chars // 4 + len(content) // 4,
                            },
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": content},
                                    "finish_reason": "stop",
                                }
                            ],
                        },
                    },
                    "error": None,
                }
            )
        with self._lock:
            job["status"] = final
            job["completed_requests"] = len(outputs) + len(errors)
            job["succeeded_requests"] = len(outputs)
            job["failed_requests"] = len(errors)
            job["completed_at"] = int(time.time())
        if outputs:
            job["output_file"] = self._file_create(_jsonl(outputs), purpose="batch")["id"]
        if errors:
            job["error_file"] = self._file_create(_jsonl(errors), purpose="batch")["id"]
        return self._job_json(job)

    def _next_fault(self) -> str:
        with self._lock:
            if self._script:
                return self._script.popleft()
            roll = self._rng.random()
            for fault, rate in self.fault_rate.items():
                if roll < rate:
                    return fault
                roll -= rate
            return "ok"

    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests) - 1

    def _answered(self, index: int) -> None:
        with self._lock:
            self.requests[index] = replace(self.requests[index], answered=time.time())

    def _over_rate_limit(self, arrived: float) -> bool:
        """Moving window of one second over arrivals (admitted or not, as real limits count)."""
        if self.rate_limit_per_second <= 0:
            return False
        with self._lock:
            while self._recent_arrivals and self._recent_arrivals[0] <= arrived - 1.0:
                self._recent_arrivals.popleft()
            over = len(self._recent_arrivals) >= self.rate_limit_per_second
            if not over:
                self._recent_arrivals.append(arrived)
            return over

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _send(self, status: int, body: dict | str, headers: dict | None = None) -> None:
                payload = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                arrived = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0].rstrip("/")
                if path.startswith(("/v1/files", "/v1/batch/jobs")):
                    self._batch_api("POST", path, raw, arrived)
                    return
                if path != "/v1/chat/completions":
                    self._send(404, {"detail": "Not Found"})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(422, {"detail": "invalid JSON body"})
                    return
                limited = fake._over_rate_limit(arrived)
                fault = RATE_LIMITED if limited else fake._next_fault()
                response_format = body.get("response_format") or {}
                seed = body.get("random_seed")
                index = fake._record(
                    RecordedRequest(
                        at=arrived,
                        model=str(body.get("model", "")),
                        fault=fault,
                        has_json_schema=response_format.get("type") == "json_schema"
                        and bool((response_format.get("json_schema") or {}).get("schema")),
                        random_seed=seed if isinstance(seed, int) else None,
                        kind=_kind(body),
                        body=body,
                    )
                )
                try:
                    self._answer(body, fault=fault, arrived=arrived)
                finally:
                    fake._answered(index)

            def do_GET(self) -> None:
                path = self.path.split("?")[0].rstrip("/")
                if path.startswith(("/v1/files", "/v1/batch/jobs")):
                    self._batch_api("GET", path, b"", time.time())
                    return
                self._send(404, {"detail": "Not Found"})

            def _batch_api(self, method: str, path: str, raw: bytes, arrived: float) -> None:
                kind = "files" if path.startswith("/v1/files") else "batch_jobs"
                fake._record(
                    RecordedRequest(
                        at=arrived,
                        model="",
                        fault="ok",
                        has_json_schema=False,
                        kind=kind,
                        body={"method": method, "path": path},
                    )
                )
                parts = path.strip("/").split("/")
                if method == "POST" and path == "/v1/files":
                    content = _multipart_file(self.headers.get("Content-Type", ""), raw)
                    self._send(200, fake._file_create(content, purpose="batch"))
                elif method == "GET" and len(parts) == 4 and parts[3] == "content":
                    stored = fake.files.get(parts[2])
                    if stored is None:
                        self._send(404, {"detail": "Not Found"})
                        return
                    content = stored
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                elif method == "POST" and path == "/v1/batch/jobs":
                    self._send(200, fake._job_create(json.loads(raw or b"{}")))
                elif len(parts) >= 4 and parts[:3] == ["v1", "batch", "jobs"]:
                    job = fake.jobs.get(parts[3])
                    if job is None:
                        self._send(404, {"detail": "Not Found"})
                    elif method == "POST" and parts[-1] == "cancel":
                        self._send(200, fake._job_cancel(job))
                    else:
                        self._send(200, fake._job_poll(job))
                else:
                    self._send(404, {"detail": "Not Found"})

            def _answer(self, body: dict, *, fault: str, arrived: float) -> None:
                if fault == RATE_LIMITED:
                    self._send(
                        429,
                        {"message": "Requests rate limit exceeded"},
                        {"Retry-After": str(fake.retry_after)},
                    )
                    return
                if fake.latency_seconds:
                    time.sleep(fake.latency_seconds)
                if fault == "429":
                    self._send(
                        429,
                        {"message": "Requests rate limit exceeded"},
                        {"Retry-After": str(fake.retry_after)},
                    )
                    return
                if fault in ("500", "503"):
                    self._send(int(fault), {"message": "Internal error"})
                    return
                if fault == "slow":
                    time.sleep(fake.slow_seconds)
                kind = _kind(body)
                content, finish = fake._next_content(kind) or _default_content(kind, body), "stop"
                if fault == "malformed":
                    content = "Voici le compte rendu demandé : le patient va bien."
                elif fault == "wrong_shape":
                    content = json.dumps({"report": "texte", "labels": []})
                elif fault == "length":
                    content, finish = content[:120], "length"
                prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
                self._send(
                    200,
                    {
                        "id": f"fake-{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": int(arrived),
                        "model": body.get("model", "fake"),
                        "usage": {
                            "prompt_tokens": prompt_chars // 4,
                            "completion_tokens": len(content) // 4,
                            "total_tokens": prompt_chars // 4 + len(content) // 4,
                        },
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": finish,
                            }
                        ],
                    },
                )

        return Handler


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def _multipart_file(content_type: str, raw: bytes) -> bytes:
    """The `file` part of a multipart/form-data body (what the SDK's upload sends)."""
    boundary = content_type.partition("boundary=")[2].strip('"').encode()
    for part in raw.split(b"--" + boundary):
        head, _sep, body = part.partition(b"\r\n\r\n")
        if b'name="file"' in head:
            return body.rsplit(b"\r\n", 1)[0]
    return b""


def _kind(body: dict) -> str:
    response_format = body.get("response_format") or {}
    if not response_format:
        return "narrative"
    name = str((response_format.get("json_schema") or {}).get("name", ""))
    return name if name in KINDS else "report"


def _default_content(kind: str, body: dict) -> str:
    if kind == "narrative":
        return OK_NARRATIVE
    if kind == "extraction":
        return ok_extraction()
    if kind == "verdict":
        return ok_verdict()
    if kind == "rating":
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema", {})
        # The rating schema lists the study's domain keys as an enum: answer each once.
        domains = (
            schema.get("$defs", {}).get("DomainScore", {}).get("properties", {}).get("domain", {})
        ).get("enum", [])
        return ok_rating(list(domains))
    return ok_content()


def _parse_rates(text: str) -> dict[str, float]:
    rates = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        fault, _sep, rate = part.partition("=")
        rates[fault] = float(rate)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake Mistral API server.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fault-rate", default="", help="e.g. 429=0.1,500=0.05")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--rate-limit", type=float, default=0.0, help="requests per second; 429 beyond"
    )
    args = parser.parse_args()
    fake = FakeMistral(
        port=args.port,
        fault_rate=_parse_rates(args.fault_rate),
        latency_seconds=args.latency,
        rate_limit_per_second=args.rate_limit,
        seed=args.seed,
    ).start()
    print(f"Fake Mistral listening on {fake.url} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
