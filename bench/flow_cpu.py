"""CPU per rated item of the rating flow, in one process: for comparing two checkouts.

The side-by-side runs (bench/peer/) measure whole servers, and on a shared 2-core machine
their absolute figures drift by tens of percent between runs. This script drives Django's
WSGI handler directly (no network, no gunicorn) through one reviewer's flow and prints the
process's CPU plus the PostgreSQL backends' CPU per item, after five warm-up items:

- browser: the rating page, six htmx saves, POST the submit with the form's fields as a
  browser posts them (its radio buttons: the six scores; the comment; the reading time; the
  "answer" rate.js sets), which answers with the next report's page (a checkout from before
  that answers 302, and the next item GETs the page);
- api: GET /api/v1/me/next/, POST the submit with the six scores (`Prefer: return=minimal`;
  BENCH_API_SUBMIT=separate: PUT the six scores, then POST the submit);
- beat: one reading-time beat of the rating page (POST /r/<code>/heartbeat/), the request a
  reader's page sends while no save carries the reading time (per beat, not per item).

Old against new, alternated so that the machine's drift hits both (each run takes a
reviewer of its own: a study has 64, each with ~90 reports):

    .venv/bin/python bench/flow_cpu.py seed                     # the study, once
    git worktree add /tmp/old <commit>
    for i in 0 1 2 3; do
      (cd /tmp/old && REPO=/tmp/old $PWD/.venv/bin/python $PWD/bench/flow_cpu.py browser $((2*i)))
      .venv/bin/python bench/flow_cpu.py browser $((2*i+1))
    done

On a machine whose speed drifts, count the Python process's instructions instead (the
items only; PostgreSQL's CPU is not counted: compare its statements per item):

    BENCH_CALLGRIND=1 valgrind --tool=callgrind --instr-atstart=no \
      --callgrind-out-file=/tmp/cg.flow .venv/bin/python bench/flow_cpu.py browser 0
    grep ^totals: /tmp/cg.flow

REPO is the checkout whose code runs (default: this one); both share the database
BENCH_FLOW_DATABASE (default sr_flow_cpu), seeded by bench_rating's `seed_study` (2,000
reports of 2,500 characters x 3 raters) with a token per reviewer for the API.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = Path(os.environ.get("REPO", HERE.parent)).resolve()
sys.path[:0] = [str(REPO), str(REPO / "bench" / "peer")]

from bench import harness  # noqa: E402 (the checkout under test first on the path)

DATABASE = os.environ.get("BENCH_FLOW_DATABASE", "sr_flow_cpu")
STATE = HERE.parent / ".bench-flow-cpu.json"  # study code, sessions, tokens (git-ignored)
ITEMS = int(os.environ.get("BENCH_FLOW_ITEMS", "40"))
WARM_UP = 5
# The API flow's submit: "combined" (the scores in the submit's body, one request) or
# "separate" (PUT .../ratings/ then POST .../submit/: the flow of checkouts before that).
API_SUBMIT = os.environ.get("BENCH_API_SUBMIT", "combined")


def seed() -> None:
    from psycopg import sql

    harness.database_drop(DATABASE)
    with harness._admin_connection() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    env = harness.server_environment(harness.database_url(DATABASE), BENCH_REPORTS="2000")
    harness.migrate(env)
    harness.django_setup(env)
    from peer_side_by_side import make_report

    import bench.bench_rating as rating

    # The peer comparison's reports (2,500 characters), in bench_rating's study.
    rating.report_text = make_report
    study_code, sessions = rating.seed_study()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    reviewers = get_user_model().objects.filter(username__startswith="bench-reviewer")
    tokens = [Token.objects.create(user=user).key for user in reviewers.order_by("username")]
    STATE.write_text(json.dumps({"study": study_code, "sessions": sessions, "tokens": tokens}))


class Client:
    """Requests straight into Django's WSGI handler, as gunicorn would hand them over."""

    def __init__(self, *, headers: dict[str, str]) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.headers = headers

    def __call__(
        self, method: str, path: str, body: bytes = b"", query: str = "", **extra: str
    ) -> tuple[int, dict[str, str], bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(body)),
            **self.headers,
            **extra,
        }
        answer: dict = {}

        def start_response(status: str, headers: list, exc_info: object = None) -> None:
            answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

        content = b"".join(self.handler(environ, start_response))
        return answer["status"], answer["headers"], content


def browser_item(
    client: Client, location: str, csrf: str, page: bytes | None
) -> tuple[str, bytes | None]:
    """One report: its page (unless the previous submit answered with it), six saves, the
    submit. Returns the next report's address and, when the submit answered with it, page."""
    if page is None:
        status, _headers, page = client("GET", location)
        assert status == 200, (status, location)
    code = location.rstrip("/").split("/")[-1]
    keys = re.findall(r'data-domain="([^"]+)"', page.decode())
    for key in keys:
        status, _h, _b = client(
            "POST",
            f"/r/{code}/score/{key}/",
            f"score-{key}=7&active_ms=3000".encode(),
            HTTP_HX_REQUEST="true",
        )
        assert status == 200, status
    # As rate.js sends it: "answer=next-page" asks for the next report's page in the
    # answer; a checkout from before that answers 302, and the next item GETs the page.
    form = f"csrfmiddlewaretoken={csrf}&active_ms=30000&comment=&answer=next-page&" + "&".join(
        f"score-{key}=7" for key in keys
    )
    status, headers, body = client("POST", f"/r/{code}/submit/", form.encode())
    if status == 200:
        return re.search(rb'data-url="([^"]+)"', body).group(1).decode(), body
    assert status == 302, status
    return headers["Location"], None


def api_item(client: Client, study_code: str) -> None:
    status, _h, body = client("GET", "/api/v1/me/next/", query=f"study={study_code}")
    assert status == 200, status
    assignment = json.loads(body)
    scores = json.dumps({"scores": {domain["key"]: 7 for domain in assignment["domains"]}})
    path = f"/api/v1/me/assignments/{assignment['code']}"
    if API_SUBMIT == "separate":
        status, _h, _b = client("PUT", f"{path}/ratings/", scores.encode())
        assert status == 204, status
        status, _h, _b = client("POST", f"{path}/submit/")
    else:
        status, _h, _b = client("POST", f"{path}/submit/", scores.encode())
    assert status == 204, status


def measure(flow: str, reviewer: int) -> None:
    state = json.loads(STATE.read_text())
    env = harness.server_environment(harness.database_url(DATABASE))
    harness.django_setup(env)
    if flow in ("browser", "beat"):
        # A signed-in browser: its session cookie, the CSRF cookie and header, the first
        # report of its queue.
        csrf = "b" * 32
        client = Client(
            headers={
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                "HTTP_COOKIE": f"sessionid={state['sessions'][reviewer]}; csrftoken={csrf}",
                "HTTP_X_CSRFTOKEN": csrf,
                "HTTP_REFERER": "http://127.0.0.1/",
            }
        )
        _s, headers, _b = client("GET", f"/s/{state['study']}/continue/")
        location = headers["Location"]
    if flow == "browser":
        page = None

        def item() -> None:
            nonlocal location, page
            location, page = browser_item(client, location, csrf, page)
    elif flow == "beat":
        client("GET", location)  # the page opens the visit the beats add to
        code = location.rstrip("/").split("/")[-1]
        beat_ms = 0

        def item() -> None:
            nonlocal beat_ms
            beat_ms += 60_000
            status, _h, _b = client(
                "POST",
                f"/r/{code}/heartbeat/",
                f"active_ms={beat_ms}".encode(),
                HTTP_HX_REQUEST="true",
            )
            assert status == 204, status
    else:
        client = Client(
            headers={
                "CONTENT_TYPE": "application/json",
                "HTTP_AUTHORIZATION": f"Token {state['tokens'][reviewer]}",
                "HTTP_PREFER": "return=minimal",
            }
        )

        def item() -> None:
            api_item(client, state["study"])

    for _ in range(WARM_UP):
        item()
    database_before = harness.postgres_backend_cpu(DATABASE)
    started = time.process_time()
    harness.callgrind_instrument(on=True)
    for _ in range(ITEMS):
        item()
    harness.callgrind_instrument(on=False)
    python_ms = (time.process_time() - started) * 1000 / ITEMS
    database_after = harness.postgres_backend_cpu(DATABASE)
    database_ms = harness.cpu_delta_seconds(database_before, database_after) * 1000 / ITEMS
    print(
        f"{flow} reviewer {reviewer} ({REPO}): {python_ms + database_ms:.2f} ms CPU per item "
        f"= {python_ms:.2f} Python + {database_ms:.2f} PostgreSQL, {ITEMS} items"
    )


def main() -> int:
    if sys.argv[1:2] == ["seed"]:
        seed()
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in ("browser", "api", "beat"):
        print(__doc__)
        return 2
    measure(sys.argv[1], int(sys.argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
