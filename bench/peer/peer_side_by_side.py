#!/usr/bin/env python3
"""Load harness for a "physician rates reports on six 1-10 scales" web app (side-by-side copy).

Copy of peer_labelstudio.py with two synthreports adapters added ('synthreports': its reviewer
API with tokens; 'synthreports-browser': its htmx pages with a session) and small generic hooks,
none of which changes what the Label Studio adapter does:
  - adapter.configure(raters, args) after construction (synthreports needs the reviewer names);
  - per-rater item lists in the page phase (adapter.page_ids_for), since a synthreports reviewer
    may open only their own assignments;
  - adapter.submit_ok(resp) to judge a submit (the browser flow's submit answers 200 with the next page, or 302);
  - per-request sub-operation timings (adapter.substats_*) for operations made of several requests;
  - the load average and, with --pg-own-db, the transactions of OTHER databases on the shared
    PostgreSQL server during each phase (to tell whether the postmaster's CPU was all ours);
    with --pg-postmaster too, a /proc sampler splits the backends' CPU by database
    (pg_own/pg_other_backends_cpu_s) and db_own_est_cpu_s = postmaster tree - other databases.
How it was run side by side: results-side-by-side.md.

Measures, against a server on the loopback interface only:
  setup   create a project and import N generated report texts (timed, one request)
  rate    rater loop: get the next item to rate, then submit six 1-10 ratings for it;
          latency of both calls, p50/p95/p99, throughput
  page    latency of fetching the labeling page HTML for an item, plus (once) the byte size
          of the page and the JS/CSS/fonts/images it references (same-origin only)
  export  time to export all annotations as CSV (once)

Everything app-specific lives in one adapter class (LabelStudioAdapter below); to target
another app, write a class with the same methods and pick it with --adapter.

Every loop is bounded by a request count AND a wall-clock deadline, and the harness refuses
any base URL that is not on the loopback interface (127.0.0.0/8, localhost, ::1).

Example (Label Studio 1.23 on 127.0.0.1:8080, 16 rater accounts in raters.json):
  python peer_side_by_side.py --base-url http://127.0.0.1:8080 --token ADMIN_TOKEN \
      --raters-file raters.json --phases setup,rate,page,export --concurrency 1,16 \
      --requests 500 --max-seconds 300 --json-out results.json
synthreports on 127.0.0.1:8001 (coordinator token + login, 16 reviewers from sr_make_raters.py):
  python peer_side_by_side.py --adapter synthreports --base-url http://127.0.0.1:8001 \
      --token COORD_TOKEN --admin-email COORD_USER --admin-password COORD_PASSWORD \
      --raters-file sr-raters.json --raters-per-report 3 --phases setup,rate,page,export ...

Requires: Python 3.9+, httpx.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import io
import ipaddress
import json
import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Optional
from urllib.parse import urljoin, urlparse

import httpx

SCALES = ['accuracy', 'completeness', 'clarity', 'relevance', 'safety', 'overall']


# --------------------------------------------------------------------------------------
# Safety: loopback only
# --------------------------------------------------------------------------------------
def is_loopback_url(url: str) -> bool:
    host = urlparse(url).hostname or ''
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_loopback(url: str) -> None:
    if not is_loopback_url(url):
        raise SystemExit(f'refusing non-loopback target: {url}')


# --------------------------------------------------------------------------------------
# Synthetic clinical-ish report text
# --------------------------------------------------------------------------------------
_W = {
    'finding': ['mild cardiomegaly', 'a small left pleural effusion', 'no focal consolidation',
                'bibasilar atelectasis', 'a 6 mm pulmonary nodule', 'degenerative changes of the spine',
                'hepatic steatosis', 'a simple renal cyst', 'no acute intracranial hemorrhage',
                'trace pericardial fluid', 'patchy ground-glass opacities', 'an old healed rib fracture'],
    'site': ['right lower lobe', 'left upper lobe', 'mediastinum', 'liver', 'left kidney',
             'lumbar spine', 'frontal lobe', 'aortic arch', 'gallbladder', 'pelvis'],
    'verb': ['demonstrates', 'shows', 'reveals', 'is notable for', 'redemonstrates', 'suggests'],
    'cmp': ['unchanged from the prior study', 'slightly increased compared with prior',
            'decreased in size since the previous examination', 'new since the prior study',
            'stable over the interval'],
    'rec': ['Clinical correlation is recommended.', 'Follow-up imaging in 3 months is suggested.',
            'No further imaging is required.', 'Consider CT for further characterization.',
            'Findings were communicated to the referring physician.'],
    'hist': ['shortness of breath', 'chest pain', 'fever and cough', 'abdominal pain',
             'headache after a fall', 'follow-up of known malignancy', 'preoperative assessment'],
}


def make_report(rng: random.Random, n_chars: int = 2500) -> str:
    parts = [f'CLINICAL HISTORY: {rng.randint(24, 91)}-year-old patient with {rng.choice(_W["hist"])}. '
             f'TECHNIQUE: {rng.choice(["PA and lateral chest radiographs", "CT with contrast", "MRI without contrast", "ultrasound"])}. FINDINGS: ']
    size = len(parts[0])
    while size < n_chars - 120:
        s = (f'The {rng.choice(_W["site"])} {rng.choice(_W["verb"])} {rng.choice(_W["finding"])}, '
             f'{rng.choice(_W["cmp"])}. ')
        if rng.random() < 0.25:
            s += rng.choice(_W['rec']) + ' '
        parts.append(s)
        size += len(s)
    parts.append('IMPRESSION: ' + rng.choice(_W['finding']).capitalize() + '. ' + rng.choice(_W['rec']))
    return ''.join(parts)[:n_chars]


# --------------------------------------------------------------------------------------
# Adapter for Label Studio 1.23 (all Label-Studio-specific calls live here)
# --------------------------------------------------------------------------------------
@dataclass
class Rater:
    token: str
    email: Optional[str] = None
    password: Optional[str] = None


class LabelStudioAdapter:
    """Label Studio >= 1.20 community edition, legacy API tokens ('Authorization: Token ...')."""

    name = 'label-studio'

    def __init__(self, base_url: str, admin: Rater):
        self.base = base_url.rstrip('/')
        self.admin = admin
        self.project_id: Optional[int] = None

    def headers(self, r: Rater) -> dict:
        return {'Authorization': f'Token {r.token}'}

    def label_config(self) -> str:
        rows = ''.join(f'<Header value="{s.capitalize()}"/><Rating name="{s}" toName="report" '
                       f'maxRating="10" required="true"/>' for s in SCALES)
        return f'<View><Text name="report" value="$text"/>{rows}</View>'

    async def create_project(self, c: httpx.AsyncClient, title: str) -> int:
        r = await c.post(f'{self.base}/api/projects/', headers=self.headers(self.admin),
                         json={'title': title, 'label_config': self.label_config()})
        r.raise_for_status()
        self.project_id = r.json()['id']
        return self.project_id

    async def import_items(self, c: httpx.AsyncClient, texts: list) -> dict:
        r = await c.post(f'{self.base}/api/projects/{self.project_id}/import',
                         headers=self.headers(self.admin), json=[{'text': t} for t in texts])
        r.raise_for_status()
        return r.json()

    async def login_browser(self, c: httpx.AsyncClient, r: Rater) -> bool:
        """Log a per-rater client in with a session cookie (the labeling page is a Django view)."""
        if not (r.email and r.password):
            return False
        g = await c.get(f'{self.base}/user/login/')
        csrf = c.cookies.get('csrftoken') or ''
        p = await c.post(f'{self.base}/user/login/', data={
            'csrfmiddlewaretoken': csrf, 'email': r.email, 'password': r.password},
            headers={'Referer': f'{self.base}/user/login/'})
        return g.status_code == 200 and p.status_code in (200, 302) and 'sessionid' in c.cookies

    async def next_item(self, c: httpx.AsyncClient, r: Rater) -> tuple:
        """-> (httpx.Response, item_id or None)"""
        resp = await c.get(f'{self.base}/api/projects/{self.project_id}/next/', headers=self.headers(r))
        return resp, (resp.json().get('id') if resp.status_code == 200 else None)

    async def submit(self, c: httpx.AsyncClient, r: Rater, item_id: int, scores: list) -> httpx.Response:
        result = [{'from_name': s, 'to_name': 'report', 'type': 'rating', 'value': {'rating': v},
                   'origin': 'manual'} for s, v in zip(SCALES, scores)]
        body = {'result': result, 'lead_time': round(random.uniform(20, 90), 3), 'project': self.project_id,
                'was_cancelled': False, 'ground_truth': False}
        return await c.post(f'{self.base}/api/tasks/{item_id}/annotations/?project={self.project_id}',
                            headers=self.headers(r), json=body)

    def page_url(self, item_id: int) -> str:
        # what the "Label" button / a shared task link opens in the browser
        return f'{self.base}/projects/{self.project_id}/data?task={item_id}'

    async def item_ids(self, c: httpx.AsyncClient, limit: int) -> list:
        r = await c.get(f'{self.base}/api/tasks/', headers=self.headers(self.admin),
                        params={'project': self.project_id, 'page_size': limit, 'fields': 'all'})
        r.raise_for_status()
        data = r.json()
        tasks = data['tasks'] if isinstance(data, dict) else data
        return [t['id'] for t in tasks]

    async def count_annotations(self, c: httpx.AsyncClient) -> int:
        r = await c.get(f'{self.base}/api/projects/{self.project_id}/', headers=self.headers(self.admin))
        r.raise_for_status()
        return int(r.json().get('total_annotations_number') or 0)

    async def export_csv(self, c: httpx.AsyncClient) -> httpx.Response:
        return await c.get(f'{self.base}/api/projects/{self.project_id}/export',
                           headers=self.headers(self.admin), params={'exportType': 'CSV'})




# --------------------------------------------------------------------------------------
# Adapters for synthreports (the app measured side by side with Label Studio)
# --------------------------------------------------------------------------------------
def _fake_response(status: int) -> httpx.Response:
    """A stand-in answer when a two-request operation has nothing to return (e.g. no unrated
    assignment left: 404, which the rater loop reads as 'queue exhausted')."""
    return httpx.Response(status, content=b'')


class SynthreportsAdapter:
    """synthreports reviewer API (/api/v1/, DRF token auth: 'Authorization: Token ...').

    Setup mirrors the Label Studio adapter over HTTP with the project's own endpoints and
    services: POST /api/v1/studies/ (name, raters_per_report, the 16 reviewers by username),
    POST /api/v1/imports/ (the reports as one JSONL file), POST .../add-reports/, POST .../open/
    (allocation: each report to k distinct reviewers, one queue per reviewer).

    next item  = GET /api/v1/me/next/?study=CODE (the first assignment not submitted, with its
                 blinded text and six domains, in one request: what LS's /next/ returns;
                 204 when the queue is done)
    submit     = POST /api/v1/me/assignments/{code}/submit/ {"scores": {six domains}} with
                 "Prefer: return=minimal" (204: the client already has the assignment from
                 next): the scores saved and the report submitted in one request, as LS's
                 POST of an annotation (SR_SUBMIT=separate: PUT .../ratings/ then POST
                 .../submit/, the flow before the submit took its scores)
    page       = GET /r/{code}/, the rating page as the browser gets it (session cookie from
                 POST /accounts/login/); each rater opens their own assignments
    export     = GET /coordinate/results/{study}/ratings.csv (coordinator session), long format:
                 one row per rating (six per submitted report)
    The two requests of next and of submit are timed together as one operation; each request
    is also timed on its own (sub_ops in the JSON).
    """

    name = 'synthreports'

    def __init__(self, base_url: str, admin: Rater):
        self.base = base_url.rstrip('/')
        self.admin = admin
        self.project_id: Optional[int] = None  # the study's id
        self.study_code: Optional[str] = None
        self.raters: list = []
        self.raters_per_report = 3
        self.domain_keys: Optional[list] = None
        self.sub: dict = {}
        self.recording = False

    # -- harness hooks (peer_side_by_side.py only) --
    def configure(self, raters: list, args) -> None:
        self.raters = raters
        self.raters_per_report = args.raters_per_report

    def substats_reset(self) -> None:
        self.sub = {}
        self.recording = True

    def substats_summary(self, wall_s: float) -> list:
        self.recording = False
        return [s.summary(wall_s) for s in self.sub.values()]

    async def _timed_sub(self, name: str, coro, ok_statuses=(200,)):
        t0 = time.perf_counter()
        resp = await coro
        if self.recording:
            st = self.sub.setdefault(name, OpStats(name))
            st.add((time.perf_counter() - t0) * 1000.0, resp.status_code, resp.status_code in ok_statuses,
                   len(resp.content))
        return resp

    def headers(self, r: Rater) -> dict:
        return {'Authorization': f'Token {r.token}'}

    async def _study_code(self, c: httpx.AsyncClient) -> str:
        if self.study_code is None:  # own client: a session cookie on `c` would override the token
            async with httpx.AsyncClient(timeout=60) as c2:
                r = await c2.get(f'{self.base}/api/v1/studies/{self.project_id}/', headers=self.headers(self.admin))
            r.raise_for_status()
            self.study_code = r.json()['code']
        return self.study_code

    # -- setup --
    async def create_project(self, c: httpx.AsyncClient, title: str) -> int:
        usernames = [r.email for r in self.raters]
        r = await c.post(f'{self.base}/api/v1/studies/', headers=self.headers(self.admin),
                         json={'name': title, 'raters_per_report': self.raters_per_report, 'seed': 8,
                               'reviewers': usernames})
        r.raise_for_status()
        self.project_id, self.study_code = r.json()['id'], r.json()['code']
        return self.project_id

    async def import_items(self, c: httpx.AsyncClient, texts: list) -> dict:
        body = ''.join(json.dumps({'text': t}) + '\n' for t in texts).encode()
        steps = {}
        t0 = time.perf_counter()
        r = await c.post(f'{self.base}/api/v1/imports/', headers=self.headers(self.admin),
                         files={'file': ('reports.jsonl', body, 'application/x-ndjson')},
                         data={'file_format': 'jsonl', 'language': 'en'})
        r.raise_for_status()
        codes = r.json()['report_codes']
        steps['import_jsonl_s'] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        r = await c.post(f'{self.base}/api/v1/studies/{self.project_id}/add-reports/',
                         headers=self.headers(self.admin), json={'report_codes': codes})
        r.raise_for_status()
        steps['add_reports_s'] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        r = await c.post(f'{self.base}/api/v1/studies/{self.project_id}/open/', headers=self.headers(self.admin))
        r.raise_for_status()
        steps['open_s'] = round(time.perf_counter() - t0, 3)
        return {'reports': len(codes), 'study': self.study_code, 'raters_per_report': self.raters_per_report,
                'steps': steps}

    # -- browser login (rating page, export) --
    async def login_browser(self, c: httpx.AsyncClient, r: Rater) -> bool:
        if not (r.email and r.password):
            return False
        g = await c.get(f'{self.base}/accounts/login/')
        csrf = c.cookies.get('csrftoken') or ''
        p = await c.post(f'{self.base}/accounts/login/', data={
            'csrfmiddlewaretoken': csrf, 'username': r.email, 'password': r.password},
            headers={'Referer': f'{self.base}/accounts/login/'})
        return g.status_code == 200 and p.status_code == 302 and 'sessionid' in c.cookies

    # -- rater loop --
    async def next_item(self, c: httpx.AsyncClient, r: Rater) -> tuple:
        code = await self._study_code(c)
        a = await self._timed_sub('next_GET', c.get(f'{self.base}/api/v1/me/next/', params={'study': code},
                                                    headers=self.headers(r)))
        if a.status_code == 204:
            return _fake_response(404), None  # every assignment submitted
        if a.status_code != 200:
            return a, None
        data = a.json()
        if self.domain_keys is None:
            self.domain_keys = [d['key'] for d in data['domains']]
        return a, data['code']

    async def submit(self, c: httpx.AsyncClient, r: Rater, item_id: str, scores: list) -> httpx.Response:
        keys = self.domain_keys or []
        # Prefer: return=minimal (RFC 7240): the client has the text and domains from next,
        # so it does not ask for the assignment back (204 instead of 200 + the assignment).
        minimal = {**self.headers(r), 'Prefer': 'return=minimal'}
        if os.environ.get('SR_SUBMIT', 'combined') != 'separate':
            return await self._timed_sub('submit_POST', c.post(
                f'{self.base}/api/v1/me/assignments/{item_id}/submit/', headers=minimal,
                json={'scores': dict(zip(keys, scores))}), ok_statuses=(204,))
        p = await self._timed_sub('ratings_PUT', c.put(
            f'{self.base}/api/v1/me/assignments/{item_id}/ratings/', headers=minimal,
            json={'scores': dict(zip(keys, scores))}), ok_statuses=(204,))
        if p.status_code != 204:
            return p
        return await self._timed_sub('submit_POST', c.post(
            f'{self.base}/api/v1/me/assignments/{item_id}/submit/', headers=minimal),
            ok_statuses=(204,))

    def submit_ok(self, resp: httpx.Response) -> bool:
        return resp.status_code == 204

    # -- page --
    def page_url(self, item_id: str) -> str:
        return f'{self.base}/r/{item_id}/'

    async def page_ids_for(self, c: httpx.AsyncClient, r: Rater, limit: int) -> list:
        """A rater can open only their own assignments: the first `limit` of their queue."""
        code = await self._study_code(c)
        q = await c.get(f'{self.base}/api/v1/me/queue/', params={'study': code}, headers=self.headers(r))
        q.raise_for_status()
        return [e['code'] for e in q.json()][:limit]

    async def item_ids(self, c: httpx.AsyncClient, limit: int) -> list:
        return await self.page_ids_for(c, self.raters[0], limit)

    # -- export --
    async def count_annotations(self, c: httpx.AsyncClient) -> int:
        # the export is a coordinator page: log this client in (untimed) before export_csv
        await self.login_browser(c, self.admin)
        r = await c.get(f'{self.base}/api/v1/studies/{self.project_id}/progress/', headers=self.headers(self.admin))
        r.raise_for_status()
        return sum(int(x['submitted']) for x in r.json()['reviewers'])

    async def export_csv(self, c: httpx.AsyncClient) -> httpx.Response:
        return await c.get(f'{self.base}/coordinate/results/{self.project_id}/ratings.csv')


class SynthreportsBrowserAdapter(SynthreportsAdapter):
    """synthreports as a physician's browser drives it (htmx pages, session cookie):
    next item = GET /r/{code}/ of the page that the previous submit redirected to (the first
                time: GET /s/{study}/continue/ -> 302 -> GET /r/{code}/)
    submit    = six htmx score saves POST /r/{code}/score/{domain}/ (one per click) +
                POST /r/{code}/submit/ with the form's fields as a browser sends them (its
                radio buttons: the six scores; the comment; the reading time; the "answer"
                rate.js sets), answered with the next report's page, which the next item
                then takes without a request (a checkout from before that answers 302 to the
                next report, not followed here: the next item GETs it)
    The rater logs in once (POST /accounts/login/) during the unrecorded warm-up."""

    name = 'synthreports-browser'

    def __init__(self, base_url: str, admin: Rater):
        super().__init__(base_url, admin)
        self._next_loc: dict = {}
        self._next_page: dict = {}  # the page a submit answered with, per client
        self._logged: set = set()

    async def _ensure_session(self, c: httpx.AsyncClient, r: Rater) -> None:
        if id(c) not in self._logged:
            if not await self.login_browser(c, r):
                raise RuntimeError('browser login failed')
            self._logged.add(id(c))

    async def next_item(self, c: httpx.AsyncClient, r: Rater) -> tuple:
        await self._ensure_session(c, r)
        answered = self._next_page.pop(id(c), None)
        if answered is not None:
            return answered  # the previous submit's answer: no request
        loc = self._next_loc.pop(id(c), None)
        if loc is None:
            code = await self._study_code(c)
            cont = await self._timed_sub('continue_GET', c.get(f'{self.base}/s/{code}/continue/'), (302,))
            if cont.status_code != 302:
                return cont, None
            loc = cont.headers.get('location', '')
        if not loc.startswith('/r/'):
            return _fake_response(404), None  # redirected home: every report rated
        page = await self._timed_sub('page_GET', c.get(f'{self.base}{loc}'))
        code = loc.rstrip('/').split('/')[-1]
        if page.status_code == 200 and self.domain_keys is None:
            self.domain_keys = re.findall(r'data-domain="([^"]+)"', page.text)
        return page, (code if page.status_code == 200 else None)

    async def submit(self, c: httpx.AsyncClient, r: Rater, item_id: str, scores: list) -> httpx.Response:
        csrf = c.cookies.get('csrftoken') or ''
        hdr = {'HX-Request': 'true', 'X-CSRFToken': csrf, 'Referer': f'{self.base}/r/{item_id}/'}
        for key, v in zip(self.domain_keys or [], scores):
            s = await self._timed_sub('score_POST', c.post(f'{self.base}/r/{item_id}/score/{key}/',
                                                           data={f'score-{key}': str(v)}, headers=hdr))
            if s.status_code != 200:
                return s
        form = {'csrfmiddlewaretoken': csrf, 'active_ms': '30000', 'comment': '', 'answer': 'next-page',
                **{f'score-{key}': str(v) for key, v in zip(self.domain_keys or [], scores)}}
        sub = await self._timed_sub('submit_POST', c.post(f'{self.base}/r/{item_id}/submit/', data=form,
                                                          headers={'X-CSRFToken': csrf,
                                                                   'Referer': f'{self.base}/r/{item_id}/'}),
                                    (200, 302))
        if sub.status_code == 302:
            self._next_loc[id(c)] = sub.headers.get('location', '')
        elif sub.status_code == 200:
            url = re.search(r'data-url="(/r/[^"]+)"', sub.text)
            if url:
                self._next_page[id(c)] = (sub, url.group(1).rstrip('/').split('/')[-1])
        return sub

    def submit_ok(self, resp: httpx.Response) -> bool:
        return resp.status_code in (200, 302)


ADAPTERS = {'label-studio': LabelStudioAdapter, 'synthreports': SynthreportsAdapter,
            'synthreports-browser': SynthreportsBrowserAdapter}


# --------------------------------------------------------------------------------------
# Generic measurement machinery
# --------------------------------------------------------------------------------------
def pct(sorted_vals: list, p: float) -> float:
    if not sorted_vals:
        return float('nan')
    k = (len(sorted_vals) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


@dataclass
class OpStats:
    name: str
    lat_ms: list = field(default_factory=list)
    errors: int = 0
    statuses: dict = field(default_factory=dict)
    nbytes: int = 0

    def add(self, ms: float, status: int, ok: bool, nbytes: int = 0):
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if ok:
            self.lat_ms.append(ms)
            self.nbytes += nbytes
        else:
            self.errors += 1

    def summary(self, wall_s: float) -> dict:
        v = sorted(self.lat_ms)
        return {'op': self.name, 'n_ok': len(v), 'errors': self.errors, 'statuses': self.statuses,
                'p50_ms': round(pct(v, 50), 1), 'p95_ms': round(pct(v, 95), 1),
                'p99_ms': round(pct(v, 99), 1), 'mean_ms': round(statistics.fmean(v), 1) if v else None,
                'max_ms': round(v[-1], 1) if v else None,
                'throughput_rps': round(len(v) / wall_s, 2) if wall_s > 0 else None,
                'avg_bytes': int(self.nbytes / len(v)) if v else None}


def new_client(timeout: float) -> httpx.AsyncClient:
    # one keep-alive connection per simulated rater; redirects are NOT followed (a redirect to a
    # login page must not be counted as a served labeling page)
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                             limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))


WATCH_PIDS = {}  # label -> pid, from --watch-pid label=PID (e.g. server=1234 db=5678)


def _tree_cpu_s(root: int) -> Optional[float]:
    """CPU seconds of a process, its live descendants and its reaped children (Linux /proc)."""
    import os
    procs = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open(f'/proc/{d}/stat') as f:
                    st = f.read().rsplit(')', 1)[1].split()
                procs[int(d)] = (int(st[1]), sum(int(x) for x in st[11:15]))  # ppid, utime+stime+cutime+cstime
            except (OSError, IndexError, ValueError):
                pass
    if root not in procs:
        return None
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += procs[p][1]
        todo.extend(c for c, (pp, _) in procs.items() if pp == p)
    return total / os.sysconf('SC_CLK_TCK')


PG_OWN_DB = None  # --pg-own-db NAME: count transactions of the other databases during a phase
PG_SAMPLER = None  # PgBackendSampler, with --pg-own-db and --pg-postmaster


class PgBackendSampler:
    """CPU of a shared PostgreSQL server's backends, split by database, read from /proc every
    `interval` s in a thread (a backend's process title names its database; CPU from
    /proc/PID/schedstat, in ns). 'own' = backends of the database under test, 'other' = backends
    of any other database. Exact for kept-alive connections; a backend that lives for one request
    is seen late or not at all, so for one connection per request (Label Studio's CONN_MAX_AGE=0)
    'own' is a lower bound: use the postmaster's tree (which includes reaped backends) minus
    'other' there."""

    BG = ('checkpointer', 'writer', 'autovacuum', 'logical', 'stats', 'archiver', 'walsender',
          'walreceiver', 'startup')

    def __init__(self, postmaster: int, dbname: str, interval: float = 0.02):
        import threading
        self.pm, self.db, self.interval = postmaster, dbname, interval
        self.kind, self.ns, self.skip = {}, {}, set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _classify(self, pid: int) -> Optional[str]:
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                parts = f.read().replace(b'\0', b' ').decode(errors='replace').split()
        except OSError:
            return None
        if not parts or parts[0] != 'postgres:':
            return None  # title not set yet: look again next time
        for i in range(1, min(len(parts) - 1, 4)):  # 'postgres: [cluster:] user db host(port) state'
            if '(' in parts[i + 1] or parts[i + 1] == '[local]':
                return 'own' if parts[i] == self.db else 'other'
        if any(w in ' '.join(parts) for w in self.BG):
            return 'bg'
        return None

    def _scan(self) -> None:
        import os
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            pid = int(d)
            try:
                with open(f'/proc/{d}/stat') as f:
                    st = f.read().rsplit(')', 1)[1].split()
            except (OSError, IndexError):
                continue
            key = (pid, st[19])  # pid + start time: a reused pid is a new process
            if key in self.skip:
                continue
            if key not in self.kind:
                if int(st[1]) != self.pm:
                    self.skip.add(key)
                    continue
                k = self._classify(pid)
                if k is None:
                    continue
                self.kind[key] = k
            try:
                with open(f'/proc/{d}/schedstat') as f:
                    ns = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            with self.lock:
                self.ns[key] = ns

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._scan()
            except Exception:  # noqa: BLE001 - keep sampling
                pass
            self.stop.wait(self.interval)

    def totals_s(self) -> dict:
        out = {'own': 0, 'other': 0, 'bg': 0}
        with self.lock:
            for key, ns in self.ns.items():
                out[self.kind[key]] += ns
        return {k: v / 1e9 for k, v in out.items()}


def pg_xacts() -> Optional[dict]:
    """{database: committed + rolled-back transactions} from pg_stat_database (via psql)."""
    if not PG_OWN_DB:
        return None
    import subprocess
    try:
        out = subprocess.run(['psql', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-At', '-F', ' ', '-c',
                              'select datname, xact_commit + xact_rollback from pg_stat_database '
                              'where datname is not null'], capture_output=True, text=True, timeout=20).stdout
        return {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if len(line.split()) == 2}
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def loadavg() -> Optional[list]:
    try:
        with open('/proc/loadavg') as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return None


def cpu_snapshot() -> tuple:
    """(machine busy CPU s from /proc/stat or None, this process's CPU s, {label: tree CPU s},
    load average, {database: transactions} or None)."""
    busy = None
    try:
        with open('/proc/stat') as f:
            v = [int(x) for x in f.readline().split()[1:]]
        busy = (sum(v) - v[3] - (v[4] if len(v) > 4 else 0)) / 100.0  # minus idle and iowait (USER_HZ=100)
    except OSError:
        pass
    trees = {k: _tree_cpu_s(p) for k, p in WATCH_PIDS.items()}
    if PG_SAMPLER is not None:
        PG_SAMPLER._scan()
        for k, v in PG_SAMPLER.totals_s().items():
            trees[f'pg_{k}_backends'] = v
    return busy, time.process_time(), trees, loadavg(), pg_xacts()


def cpu_delta(a: tuple, b: tuple) -> dict:
    d = {'harness_cpu_s': round(b[1] - a[1], 2)}
    for k in a[2]:
        if a[2][k] is not None and b[2].get(k) is not None:
            d[f'{k}_cpu_s'] = round(b[2][k] - a[2][k], 2)
    if a[0] is not None and b[0] is not None:
        d['machine_busy_cpu_s'] = round(b[0] - a[0], 2)
        d['other_cpu_s'] = round((b[0] - a[0]) - (b[1] - a[1]), 2)  # ~ server + database
    d['loadavg_start'], d['loadavg_end'] = a[3], b[3]
    if 'db_cpu_s' in d and 'pg_other_backends_cpu_s' in d:  # the postmaster's tree less the other databases
        d['db_own_est_cpu_s'] = round(d['db_cpu_s'] - d['pg_other_backends_cpu_s'], 2)
    if a[4] is not None and b[4] is not None:
        d['own_db_xacts'] = b[4].get(PG_OWN_DB, 0) - a[4].get(PG_OWN_DB, 0)
        d['other_db_xacts'] = {k: b[4][k] - a[4].get(k, 0) for k in b[4]
                               if k != PG_OWN_DB and b[4][k] - a[4].get(k, 0) > 0}
    return d


def calibrate_ms() -> float:
    """Machine-speed yardstick: min of 3 timings of a fixed pure-Python loop (ms). Shared hosts drift;
    compare runs of different apps only when this figure is similar."""
    best = float('inf')
    for _ in range(3):
        t = time.perf_counter()
        x = 0
        for i in range(3_000_000):
            x += i
        best = min(best, (time.perf_counter() - t) * 1000)
    return round(best, 1)


class Gate:
    """All workers finish login/warm-up, then the clock starts together (deadline set at release)."""

    def __init__(self, n: int, deadline_s: float, on_release=None):
        self.n, self.deadline_s, self.arrived = n, deadline_s, 0
        self.ev = asyncio.Event()
        self.stop_at = float('inf')
        self.on_release = on_release

    async def wait(self):
        self.arrived += 1
        if self.arrived >= self.n:
            if self.on_release:
                self.on_release()
            self.stop_at = time.monotonic() + self.deadline_s
            self.ev.set()
        await self.ev.wait()

    def open(self) -> bool:
        return time.monotonic() < self.stop_at


async def timed(coro):
    t0 = time.perf_counter()
    res = await coro
    return res, (time.perf_counter() - t0) * 1000.0


async def phase_rate(ad, raters, conc, n_requests, deadline_s, warmup, timeout, rng) -> dict:
    """Rater loop: next -> submit. n_requests bounds the number of loop iterations."""
    st_next, st_sub = OpStats('next_item'), OpStats('submit_6_ratings')
    counter = {'started': 0}
    exhausted = asyncio.Event()
    gate = Gate(conc, deadline_s, on_release=getattr(ad, 'substats_reset', None))
    submit_ok = getattr(ad, 'submit_ok', lambda resp: resp.status_code in (200, 201))

    async def worker(i: int):
        r = raters[i % len(raters)]
        async with new_client(timeout) as c:
            try:  # warm-up iterations (not recorded)
                for _ in range(warmup):
                    resp, tid = await ad.next_item(c, r)
                    if tid is not None:
                        await ad.submit(c, r, tid, [rng.randint(1, 10) for _ in SCALES])
            except Exception as e:  # never leave the gate waiting
                print(f'warm-up error (worker {i}): {e!r}', file=sys.stderr)
            await gate.wait()
            while gate.open() and counter['started'] < n_requests and not exhausted.is_set():
                counter['started'] += 1
                try:
                    (resp, tid), ms = await timed(ad.next_item(c, r))
                except Exception as e:  # noqa: BLE001 - count, keep going
                    st_next.add(0, type(e).__name__, False)
                    continue
                st_next.add(ms, resp.status_code, resp.status_code == 200, len(resp.content))
                if tid is None:
                    if resp.status_code == 404:
                        exhausted.set()
                    continue
                try:
                    resp2, ms2 = await timed(ad.submit(c, r, tid, [rng.randint(1, 10) for _ in SCALES]))
                    st_sub.add(ms2, resp2.status_code, submit_ok(resp2), len(resp2.content))
                except Exception as e:  # noqa: BLE001 - count, keep going
                    st_sub.add(0, type(e).__name__, False)
            return time.perf_counter()

    t_start = time.perf_counter()
    tasks = [asyncio.create_task(worker(i)) for i in range(conc)]
    await asyncio.wait_for(gate.ev.wait(), timeout=timeout * (2 * warmup + 4) + 120)
    t0, cpu0 = time.perf_counter(), cpu_snapshot()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=deadline_s + timeout + 600)
    wall, cpu = time.perf_counter() - t0, cpu_delta(cpu0, cpu_snapshot())
    out = {'phase': 'rate', 'concurrency': conc, 'iterations': counter['started'], 'wall_s': round(wall, 2),
           'ops': [st_next.summary(wall), st_sub.summary(wall)],
           'combined_rps': round((len(st_next.lat_ms) + len(st_sub.lat_ms)) / wall, 2),
           'hit_deadline': not gate.open(), 'queue_exhausted': exhausted.is_set(),
           'setup_s': round(t0 - t_start, 2), 'cpu': cpu}
    if hasattr(ad, 'substats_summary'):
        out['sub_ops'] = ad.substats_summary(wall)
    return out


async def phase_page(ad, raters, item_ids, conc, n_requests, deadline_s, warmup, timeout) -> dict:
    st = OpStats('labeling_page_html')
    counter = {'started': 0}
    login_ok = []
    gate = Gate(conc, deadline_s)

    async def worker(i: int):
        r = raters[i % len(raters)]
        async with new_client(timeout) as c:
            hdrs = {}
            ids = item_ids
            try:
                if hasattr(ad, 'page_ids_for'):  # per-rater items (before login: token request)
                    ids = await ad.page_ids_for(c, r, len(item_ids))
                ok = await ad.login_browser(c, r)
                login_ok.append(ok)
                hdrs = {} if ok else ad.headers(r)
                for k in range(warmup):
                    await c.get(ad.page_url(ids[(i + k) % len(ids)]), headers=hdrs)
            except Exception as e:
                print(f'login/warm-up error (worker {i}): {e!r}', file=sys.stderr)
            await gate.wait()
            while gate.open() and counter['started'] < n_requests:
                k = counter['started']
                counter['started'] += 1
                url = ad.page_url(ids[k % len(ids)])
                try:
                    resp, ms = await timed(c.get(url, headers=hdrs))
                except Exception as e:  # noqa: BLE001 - count, keep going
                    st.add(0, type(e).__name__, False)
                    continue
                st.add(ms, resp.status_code, resp.status_code == 200, len(resp.content))

    tasks = [asyncio.create_task(worker(i)) for i in range(conc)]
    await asyncio.wait_for(gate.ev.wait(), timeout=timeout * (2 * warmup + 4) + 120)
    t0, cpu0 = time.perf_counter(), cpu_snapshot()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=deadline_s + timeout + 600)
    wall, cpu = time.perf_counter() - t0, cpu_delta(cpu0, cpu_snapshot())
    return {'phase': 'page', 'concurrency': conc, 'requests': counter['started'], 'wall_s': round(wall, 2),
            'browser_login_ok': all(login_ok) if login_ok else False,
            'ops': [st.summary(wall)], 'hit_deadline': not gate.open(), 'cpu': cpu}


class _AssetParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets = []  # (kind, url)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        rel = (a.get('rel') or '').lower()
        if tag == 'script' and a.get('src'):
            self.assets.append(('js', a['src']))
        elif tag == 'link' and a.get('href') and any(x in rel for x in ('stylesheet', 'preload', 'modulepreload', 'icon')):
            kind = 'css' if 'stylesheet' in rel else ('js' if 'modulepreload' in rel else a.get('as') or 'icon')
            self.assets.append((kind, a['href']))
        elif tag == 'img' and a.get('src') and not a['src'].startswith('data:'):
            self.assets.append(('img', a['src']))


_CSS_URL = re.compile(r'url\(\s*[\'"]?([^\'")]+)[\'"]?\s*\)')


async def page_weight(ad, rater, item_id, timeout) -> dict:
    """Cold-cache weight of the labeling page: HTML + statically referenced assets (+ url() refs in CSS).
    Counts decoded bytes and on-the-wire bytes (with Accept-Encoding: gzip, br as httpx sends)."""
    async with new_client(timeout) as c:
        logged_in = await ad.login_browser(c, rater)
        page = await c.get(ad.page_url(item_id), headers={} if logged_in else ad.headers(rater))
        base_url = str(page.url)
        p = _AssetParser()
        p.feed(page.text)
        seen, rows, skipped = set(), [], []
        queue = [(k, urljoin(base_url, u)) for k, u in p.assets]
        while queue:
            kind, url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            if not is_loopback_url(url):
                skipped.append(url)
                continue
            resp = await c.get(url)
            rows.append({'kind': kind, 'url': url, 'status': resp.status_code, 'bytes': len(resp.content),
                         'wire_bytes': resp.num_bytes_downloaded,
                         'encoding': resp.headers.get('content-encoding', '')})
            if kind == 'css' and resp.status_code == 200:
                for u in _CSS_URL.findall(resp.text):
                    if not u.startswith('data:'):
                        queue.append(('css-ref', urljoin(url, u)))
        total = len(page.content) + sum(r['bytes'] for r in rows if r['status'] == 200)
        wire = page.num_bytes_downloaded + sum(r['wire_bytes'] for r in rows if r['status'] == 200)
        return {'page_status': page.status_code, 'html_bytes': len(page.content), 'assets': rows,
                'not_fetched_non_loopback': skipped, 'total_bytes': total, 'total_wire_bytes': wire}


async def run(args) -> dict:
    require_loopback(args.base_url)
    rng = random.Random(args.seed)
    random.seed(args.seed)
    raters = []
    if args.raters_file:
        for d in json.load(open(args.raters_file)):
            raters.append(Rater(d['token'], d.get('email'), d.get('password')))
    for t in (args.rater_token or []):
        raters.append(Rater(t))
    admin = Rater(args.token, args.admin_email, args.admin_password)
    if not raters:
        raters = [admin]
    ad = ADAPTERS[args.adapter](args.base_url, admin)
    if hasattr(ad, 'configure'):
        ad.configure(raters, args)
    results = {'adapter': ad.name, 'base_url': args.base_url, 'n_raters': len(raters), 'runs': [],
               'loadavg_start': loadavg(), 'calib_loop_ms_start': calibrate_ms()}
    phases = [p.strip() for p in args.phases.split(',') if p.strip()]
    concs = [int(x) for x in args.concurrency.split(',')]

    async with httpx.AsyncClient(timeout=max(args.timeout, 600)) as c:
        if 'setup' in phases:
            await ad.create_project(c, args.project_title)
            texts = [make_report(rng, args.text_chars) for _ in range(args.items)]
            body_mb = len(json.dumps([{'text': t} for t in texts])) / 1e6
            cpu0 = cpu_snapshot()
            info, ms = await timed(ad.import_items(c, texts))
            cpu = cpu_delta(cpu0, cpu_snapshot())
            results['setup'] = {'project_id': ad.project_id, 'items': args.items, 'chars_per_item': args.text_chars,
                                'request_body_MB': round(body_mb, 2), 'import_s': round(ms / 1000, 2),
                                'items_per_s': round(args.items / (ms / 1000), 1), 'cpu': cpu, 'server_reply': info}
            print(json.dumps(results['setup']), file=sys.stderr)
        else:
            ad.project_id = args.project

    for conc in concs:
        if 'rate' in phases:
            res = await phase_rate(ad, raters, conc, args.requests, args.max_seconds, args.warmup, args.timeout, rng)
            results['runs'].append(res)
            print(json.dumps(res), file=sys.stderr)
    if 'page' in phases:
        async with httpx.AsyncClient(timeout=args.timeout) as c:
            ids = await ad.item_ids(c, 200)
        results['page_weight'] = await page_weight(ad, raters[0], ids[0], args.timeout)
        pw = results['page_weight']
        print(json.dumps({k: pw[k] for k in ('page_status', 'html_bytes', 'total_bytes', 'total_wire_bytes')}),
              file=sys.stderr)
        for conc in concs:
            res = await phase_page(ad, raters, ids, conc, args.requests, args.max_seconds, args.warmup, args.timeout)
            results['runs'].append(res)
            print(json.dumps(res), file=sys.stderr)
    if 'export' in phases:
        async with httpx.AsyncClient(timeout=max(args.timeout, 600)) as c:
            n_ann = await ad.count_annotations(c)
            cpu0 = cpu_snapshot()
            resp, ms = await timed(ad.export_csv(c))
            cpu = cpu_delta(cpu0, cpu_snapshot())
            rows = None
            if resp.status_code == 200:
                rows = sum(1 for _ in csv.reader(io.StringIO(resp.text))) - 1
            results['export'] = {'annotations_in_db': n_ann, 'status': resp.status_code, 'export_s': round(ms / 1000, 3),
                                 'bytes': len(resp.content), 'csv_rows': rows, 'cpu': cpu}
            print(json.dumps(results['export']), file=sys.stderr)
    results['calib_loop_ms_end'] = calibrate_ms()
    results['loadavg_end'] = loadavg()
    return results


def print_table(res: dict) -> None:
    print(f"\n{'phase':6} {'conc':>4} {'op':22} {'n':>5} {'err':>4} {'p50ms':>8} {'p95ms':>8} {'p99ms':>8} "
          f"{'req/s':>7} {'wall_s':>7} {'srv+db_cpu_s':>12}")
    for run_ in res['runs']:
        for op in run_['ops']:
            print(f"{run_['phase']:6} {run_['concurrency']:>4} {op['op']:22} {op['n_ok']:>5} {op['errors']:>4} "
                  f"{op['p50_ms']:>8} {op['p95_ms']:>8} {op['p99_ms']:>8} {op['throughput_rps']:>7} "
                  f"{run_['wall_s']:>7} {run_['cpu'].get('other_cpu_s', ''):>12}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--base-url', required=True, help='e.g. http://127.0.0.1:8080 (loopback only)')
    ap.add_argument('--token', required=True, help='admin/API token (project setup, export)')
    ap.add_argument('--adapter', default='label-studio', choices=sorted(ADAPTERS))
    ap.add_argument('--raters-file', help='JSON list of {token, email?, password?}; worker i uses rater i %% n')
    ap.add_argument('--rater-token', action='append', help='extra rater token (repeatable)')
    ap.add_argument('--admin-email')
    ap.add_argument('--admin-password')
    ap.add_argument('--project', type=int, help='existing project id (when "setup" is not in --phases)')
    ap.add_argument('--project-title', default='bench-six-scales')
    ap.add_argument('--phases', default='rate,page,export', help='comma list of setup,rate,page,export')
    ap.add_argument('--items', type=int, default=2000)
    ap.add_argument('--text-chars', type=int, default=2500)
    ap.add_argument('--concurrency', default='1,16')
    ap.add_argument('--requests', type=int, default=500, help='per phase and concurrency level (upper bound)')
    ap.add_argument('--max-seconds', type=float, default=300, help='per phase and concurrency level (upper bound)')
    ap.add_argument('--warmup', type=int, default=2, help='unrecorded iterations per worker before timing')
    ap.add_argument('--timeout', type=float, default=60, help='per-request timeout, seconds')
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--watch-pid', action='append', default=[],
                    help='label=PID of a local server/db process tree whose CPU time to report (repeatable)')
    ap.add_argument('--raters-per-report', type=int, default=3, help='synthreports: reviewers per report (k)')
    ap.add_argument('--pg-own-db', help='database of the app under test on a shared PostgreSQL server')
    ap.add_argument('--pg-postmaster', type=int, help='PostgreSQL postmaster pid: sample the CPU of the '
                    'backends of --pg-own-db only (own_db_backends_cpu_s)')
    ap.add_argument('--json-out')
    args = ap.parse_args(argv)
    global PG_OWN_DB, PG_SAMPLER
    PG_OWN_DB = args.pg_own_db
    if args.pg_own_db and args.pg_postmaster:
        PG_SAMPLER = PgBackendSampler(args.pg_postmaster, args.pg_own_db)
    if args.requests > 100000 or args.max_seconds > 3600:
        raise SystemExit('bounds too large')
    for w in args.watch_pid:
        k, _, v = w.partition('=')
        WATCH_PIDS[k] = int(v)
    res = asyncio.run(run(args))
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump(res, f, indent=1)
    print_table(res)
    print('calibration loop ms (start, end):', res.get('calib_loop_ms_start'), res.get('calib_loop_ms_end'))
    for k in ('setup', 'export'):
        if k in res:
            print(k, json.dumps({kk: vv for kk, vv in res[k].items() if kk != 'server_reply'}))
    if 'page_weight' in res:
        pw = res['page_weight']
        print('page_weight', json.dumps({k: pw[k] for k in ('page_status', 'html_bytes', 'total_bytes', 'total_wire_bytes')}))


if __name__ == '__main__':
    main()
