#!/usr/bin/env python3
"""Cold-cache weight of the labeling page as a real browser loads it (headless Chromium).

Side-by-side copy of browser_page_weight.py: takes its adapters from peer_side_by_side.py
(label-studio, synthreports) and passes the raters to the adapter (synthreports: a reviewer opens
only their own assignments, so the item is the first of raters[0]'s queue).

Complements peer_labelstudio.py's static count (HTML + <script>/<link> references): a single-page
app also lazy-loads JS/CSS chunks and calls its API, which only a browser run reveals.

Logs in through the harness adapter (httpx), hands the session cookies to Chromium, opens the
page for one item, waits until the network is idle (bounded), and sums what was transferred.
Any request to a non-loopback host is aborted and listed (nothing leaves the machine).

  pip install playwright httpx   # Chromium from Debian: apt-get install chromium
  python browser_page_weight.py --base-url http://127.0.0.1:8080 --token T --raters-file raters.json \
      --project 5 --json-out weight.json
"""

import argparse
import asyncio
import json
import time
from collections import defaultdict
from urllib.parse import urlparse

import httpx
from playwright.async_api import async_playwright

from peer_side_by_side import ADAPTERS, Rater, is_loopback_url, require_loopback


async def main(a):
    require_loopback(a.base_url)
    raters = json.load(open(a.raters_file)) if a.raters_file else []
    r = (
        Rater(raters[0]["token"], raters[0].get("email"), raters[0].get("password"))
        if raters
        else Rater(a.token)
    )
    ad = ADAPTERS[a.adapter](a.base_url, Rater(a.token))
    ad.project_id = a.project
    if hasattr(ad, "configure"):
        ad.configure([Rater(x["token"], x.get("email"), x.get("password")) for x in raters], a)
    async with httpx.AsyncClient(timeout=60) as c:
        ids = await ad.item_ids(c, 5)
        ok = await ad.login_browser(c, r)
        cookies = [{"name": k, "value": v, "url": a.base_url} for k, v in c.cookies.items()]
    url = ad.page_url(ids[0])
    rows, blocked = [], []
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=a.chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        ctx = await b.new_context()
        await ctx.add_cookies(cookies)
        page = await ctx.new_page()

        async def route(rt):
            if is_loopback_url(rt.request.url) or rt.request.url.startswith(("data:", "blob:")):
                await rt.continue_()
            else:
                blocked.append(rt.request.url)
                await rt.abort()

        await page.route("**/*", route)

        async def on_done(req):
            try:
                s = await req.sizes()
                resp = await req.response()
                rows.append(
                    {
                        "url": req.url,
                        "type": req.resource_type,
                        "status": resp.status if resp else None,
                        "body_bytes": s["responseBodySize"],
                        "header_bytes": s["responseHeadersSize"],
                    }
                )
            except Exception as e:  # noqa: BLE001
                rows.append({"url": req.url, "type": req.resource_type, "error": repr(e)})

        page.on("requestfinished", lambda req: asyncio.ensure_future(on_done(req)))
        t0 = time.perf_counter()
        await page.goto(url, wait_until="load", timeout=60000)
        t_load = time.perf_counter() - t0
        try:
            await page.wait_for_load_state("networkidle", timeout=a.idle_timeout * 1000)
        except Exception:  # noqa: BLE001
            pass
        t_idle = time.perf_counter() - t0
        await asyncio.sleep(0.5)
        # does the editor show the rating widgets? (count of elements mentioning one scale name)
        text = await page.inner_text("body")
        await b.close()
    by_type = defaultdict(lambda: [0, 0])
    for x in rows:
        if "body_bytes" in x:
            by_type[x["type"]][0] += 1
            by_type[x["type"]][1] += x["body_bytes"]
    out = {
        "url": url,
        "browser_login_ok": ok,
        "requests": len(rows),
        "total_body_bytes": sum(x.get("body_bytes", 0) for x in rows),
        "total_with_headers": sum(x.get("body_bytes", 0) + x.get("header_bytes", 0) for x in rows),
        "by_type": {k: {"n": v[0], "bytes": v[1]} for k, v in by_type.items()},
        "load_event_s": round(t_load, 2),
        "network_idle_s": round(t_idle, 2),
        "page_mentions_scale": any(
            w in text for w in ("Accuracy", "accuracy", "Completeness", "completeness")
        ),
        "blocked_non_loopback": blocked,
        "rows": sorted(rows, key=lambda x: -x.get("body_bytes", 0)),
    }
    if a.json_out:
        json.dump(out, open(a.json_out, "w"), indent=1)
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--raters-file")
    ap.add_argument("--project", type=int, required=True)
    ap.add_argument("--adapter", default="label-studio")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--idle-timeout", type=float, default=30)
    ap.add_argument("--raters-per-report", type=int, default=3)
    ap.add_argument("--json-out")
    asyncio.run(main(ap.parse_args()))
