"""Everything a study's reviewers can receive, rendered as each of them would receive it.

Through Django's test client, logged in as the reviewer: the home page, every rating page
of their queue, the htmx domain-row partial, the API's queue and assignment endpoints.
Rendering the real views (not the selectors) is the point: a leak can come from a template,
a serializer or a middleware as well as from a read.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.test import Client
from django.urls import reverse

from review.models import Assignment, Study


@dataclass
class Payload:
    reviewer: str
    kind: str  # "home", "queue", "rate", "domain_row", "assignment_api", "queue_entry"
    body: str
    report_id: int | None = None
    source: str | None = None


def _client_for(user) -> Client:
    # A host the settings allow, and secure=True on every request below: outside DEBUG,
    # SECURE_SSL_REDIRECT would otherwise answer every page with a redirect, not its body.
    hosts = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host not in ("*", "")]
    client = Client(HTTP_HOST=hosts[0] if hosts else "localhost")
    client.force_login(user)
    return client


def payloads_collect(study: Study, *, max_reports_per_reviewer: int | None) -> list[Payload]:
    """Every payload each panel reviewer receives; report payloads carry the report's id
    and source (known to the audit, never to the page) for the per-source comparisons."""
    payloads: list[Payload] = []
    reviewers = {seat.reviewer_id: seat.reviewer for seat in study.panel.select_related("reviewer")}
    sources = dict(study.reports.values_list("pk", "source"))
    for reviewer_id, reviewer in sorted(reviewers.items()):
        assignments = list(
            Assignment.objects.filter(study=study, reviewer_id=reviewer_id)
            .select_related("report")
            .order_by("position")
        )
        if not assignments:
            continue
        client = _client_for(reviewer)
        name = reviewer.get_username()
        payloads.append(Payload(name, "home", client.get(reverse("review:home"), secure=True).text))
        queue = client.get(reverse("api-my-queue"), secure=True)
        payloads.append(Payload(name, "queue", queue.text))
        # Each queue entry is also audited on its own, tied to its report: a field that
        # differed by source in the listing would otherwise be lost among the others.
        by_code = {a.code: a for a in assignments}
        for entry in queue.json():
            if entry.get("code") in by_code:
                report_id = by_code[entry["code"]].report_id
                payloads.append(
                    Payload(name, "queue_entry", json.dumps(entry), report_id, sources[report_id])
                )
        domain_key = study.domains.order_by("order", "id").values_list("key", flat=True).first()
        for assignment in assignments[:max_reports_per_reviewer]:
            report_id, source = assignment.report_id, sources[assignment.report_id]
            page = client.get(reverse("review:rate", args=[assignment.code]), secure=True)
            payloads.append(Payload(name, "rate", page.text, report_id, source))
            api = client.get(reverse("api-my-assignment", args=[assignment.code]), secure=True)
            payloads.append(Payload(name, "assignment_api", api.text, report_id, source))
            # The htmx row comes back after a save: posting a score is the only way to get
            # it (the audit's transaction is rolled back, so the score is not kept).
            if domain_key:
                row = client.post(
                    reverse("review:rate_score", args=[assignment.code, domain_key]),
                    {f"score-{domain_key}": str(study.scale_min)},
                    headers={"HX-Request": "true"},
                    secure=True,
                )
                payloads.append(Payload(name, "domain_row", row.text, report_id, source))
    return payloads
