"""Expected access for every URL: anonymous, reviewer, other reviewer, coordinator.

The table must name every route; adding a URL without an entry fails
`test_every_route_has_an_access_entry`. Reviewer-owned objects belong to reviewer A:
reviewer B ("other") must get 404 for them, never 403, so their existence does not leak.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver, reverse

from generation import catalogue
from review.models import Assignment
from tests.factories import PASSWORD

LOGIN = "login"  # a redirect to the login page


@dataclass(frozen=True)
class Access:
    method: str
    url: object  # callable(ctx) -> str
    anonymous: int | str
    reviewer: int | str
    other: int | str
    coordinator: int | str
    data: dict = field(default_factory=dict)


def _mine(ctx):
    return ctx["assignment"].code


ACCESS: dict[str, Access] = {
    "login": Access("get", lambda c: reverse("login"), 200, 200, 200, 200),
    "logout": Access("post", lambda c: reverse("logout"), 302, 302, 302, 302),
    "set_language": Access(
        "post", lambda c: reverse("set_language"), 302, 302, 302, 302, {"language": "fr"}
    ),
    # Integrators read the schema with a coordinator token.
    # Anonymous: 401 with WWW-Authenticate (token auth); reviewers: the schema documents
    # coordinator fields, which would tell them what a report's source is called.
    "api-schema": Access("get", lambda c: "/api/schema/", 401, 403, 403, 200),
    "api-docs": Access("get", lambda c: "/api/docs/", 401, 403, 403, 200),
    "api-root": Access("get", lambda c: "/api/v1/", 200, 200, 200, 200),
    "api-my-queue": Access("get", lambda c: "/api/v1/me/queue/", 401, 200, 200, 403),
    "api-my-queue-page": Access("get", lambda c: "/api/v1/me/queue/page/", 401, 200, 200, 403),
    # Both reviewers are on the study's panel: each gets their own next assignment.
    "api-my-next": Access(
        "get", lambda c: f"/api/v1/me/next/?study={c['study'].code}", 401, 200, 200, 403
    ),
    "api-my-assignment": Access(
        "get", lambda c: f"/api/v1/me/assignments/{_mine(c)}/", 401, 200, 404, 403
    ),
    "api-my-ratings": Access(
        "put",
        lambda c: f"/api/v1/me/assignments/{_mine(c)}/ratings/",
        401,
        200,
        404,
        403,
        {"scores": {}},
    ),
    "api-my-submit": Access(
        "post", lambda c: f"/api/v1/me/assignments/{_mine(c)}/submit/", 401, 400, 404, 403
    ),
    "study-list": Access("get", lambda c: "/api/v1/studies/", 401, 403, 403, 200),
    "study-detail": Access(
        "get", lambda c: f"/api/v1/studies/{c['study'].pk}/", 401, 403, 403, 200
    ),
    "study-add-reports": Access(
        "post", lambda c: f"/api/v1/studies/{c['study'].pk}/add-reports/", 401, 403, 403, 400
    ),
    "study-open": Access(
        "post", lambda c: f"/api/v1/studies/{c['study'].pk}/open/", 401, 403, 403, 409
    ),
    "study-close": Access(
        "post", lambda c: f"/api/v1/studies/{c['draft'].pk}/close/", 401, 403, 403, 409
    ),
    "study-progress": Access(
        "get", lambda c: f"/api/v1/studies/{c['study'].pk}/progress/", 401, 403, 403, 200
    ),
    "report-list": Access("get", lambda c: "/api/v1/reports/", 401, 403, 403, 200),
    "report-detail": Access(
        "get", lambda c: f"/api/v1/reports/{c['report'].code}/", 401, 403, 403, 200
    ),
    "review:home": Access("get", lambda c: reverse("review:home"), LOGIN, 200, 200, 302),
    "review:continue": Access(
        "get", lambda c: reverse("review:continue", args=[c["study"].code]), LOGIN, 302, 302, 403
    ),
    "review:rate": Access(
        "get", lambda c: reverse("review:rate", args=[_mine(c)]), LOGIN, 200, 404, 403
    ),
    "review:rate_score": Access(
        "post",
        lambda c: reverse("review:rate_score", args=[_mine(c), "completeness"]),
        LOGIN,
        302,
        404,
        403,
        {"score-completeness": "6"},
    ),
    "review:rate_comment": Access(
        "post",
        lambda c: reverse("review:rate_comment", args=[_mine(c)]),
        LOGIN,
        302,
        404,
        403,
        {"comment": "x"},
    ),
    "review:rate_submit": Access(
        "post", lambda c: reverse("review:rate_submit", args=[_mine(c)]), LOGIN, 400, 404, 403
    ),
    "review:rate_heartbeat": Access(
        "post",
        lambda c: reverse("review:rate_heartbeat", args=[_mine(c)]),
        LOGIN,
        204,
        404,
        403,
        {"active_ms": "5"},
    ),
    "review:study_list": Access(
        "get", lambda c: reverse("review:study_list"), LOGIN, 403, 403, 200
    ),
    "review:study_create": Access(
        "get", lambda c: reverse("review:study_create"), LOGIN, 403, 403, 200
    ),
    "review:rate_score_clear": Access(
        "post",
        lambda c: reverse("review:rate_score_clear", args=[_mine(c), "completeness"]),
        LOGIN,
        302,
        404,
        403,
    ),
    "review:rate_cannot_assess": Access(
        "post",
        lambda c: reverse("review:rate_cannot_assess", args=[_mine(c)]),
        LOGIN,
        302,
        404,
        403,
        {"reason": "truncated"},
    ),
    "review:my_reports": Access(
        # "other" sits on the same panel: their own queue of the study.
        "get",
        lambda c: reverse("review:my_reports", args=[c["study"].code]),
        LOGIN,
        200,
        200,
        403,
    ),
    "review:instructions": Access(
        "get",
        lambda c: reverse("review:instructions", args=[c["study"].code]),
        LOGIN,
        200,
        200,
        403,
    ),
    # A preference of one's own: any reviewer may set theirs; coordinators do not rate.
    "review:text_size": Access(
        "post", lambda c: reverse("review:text_size"), LOGIN, 302, 302, 403, {"text_size": "large"}
    ),
    "review:study_guidance": Access(
        "get",
        lambda c: reverse("review:study_guidance", args=[c["study"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    # Browsers ask for it on every page, logged in or not.
    "<unnamed favicon.ico>": Access("get", lambda c: "/favicon.ico", 302, 302, 302, 302),
    "review:study_detail": Access(
        "get", lambda c: reverse("review:study_detail", args=[c["study"].pk]), LOGIN, 403, 403, 200
    ),
    "review:study_domains": Access(
        "get", lambda c: reverse("review:study_domains", args=[c["draft"].pk]), LOGIN, 403, 403, 200
    ),
    "review:study_action": Access(
        "post",
        lambda c: reverse("review:study_action", args=[c["draft"].pk, "close"]),
        LOGIN,
        403,
        403,
        409,
    ),
    "review:study_results": Access(
        "get", lambda c: reverse("review:study_results", args=[c["study"].pk]), LOGIN, 403, 403, 200
    ),
    "review:study_export_csv": Access(
        "get",
        lambda c: reverse("review:study_export_csv", args=[c["study"].pk, "ratings"]),
        LOGIN,
        403,
        403,
        200,
    ),
    "review:study_dataset_jsonl": Access(
        "get",
        lambda c: reverse("review:study_dataset_jsonl", args=[c["study"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    "review:study_dataset_card": Access(
        "get",
        lambda c: reverse("review:study_dataset_card", args=[c["study"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    "review:study_methods": Access(
        "get",
        lambda c: reverse("review:study_methods", args=[c["study"].pk, "fr"]),
        LOGIN,
        403,
        403,
        200,
    ),
    "review:study_figure": Access(
        "get",
        lambda c: reverse("review:study_figure", args=[c["study"].pk, "roc", "svg"]),
        LOGIN,
        403,
        403,
        200,
    ),
    "api-study-results": Access(
        "get", lambda c: f"/api/v1/studies/{c['study'].pk}/results/", 401, 403, 403, 200
    ),
    # An annotation audit's results and verified dataset: coordinators only.
    "api-audit-results": Access(
        "get", lambda c: f"/api/v1/audits/{c['audit'].pk}/results/", 401, 403, 403, 200
    ),
    "api-audit-verified": Access(
        "get", lambda c: f"/api/v1/audits/{c['audit'].pk}/verified/", 401, 403, 403, 200
    ),
    # A coordinator without a file: 400 (the upload itself is tested in test_api_imports).
    "api-report-import": Access("post", lambda c: "/api/v1/imports/", 401, 403, 403, 400),
    "review:report_import": Access(
        "get", lambda c: reverse("review:report_import"), LOGIN, 403, 403, 200
    ),
    "review:report_import_commit": Access(
        "post", lambda c: reverse("review:report_import_commit"), LOGIN, 403, 403, 400
    ),
    "review:blinding_audit": Access(
        "get",
        lambda c: reverse("review:blinding_audit", args=[c["study"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    "generation:batch_list": Access(
        "get", lambda c: reverse("generation:batch_list"), LOGIN, 403, 403, 200
    ),
    "generation:batch_launch": Access(
        "get", lambda c: reverse("generation:batch_launch"), LOGIN, 403, 403, 200
    ),
    "generation:study_judge": Access(
        "get",
        lambda c: reverse("generation:study_judge", args=[c["study"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    "generation:batch_detail": Access(
        "get",
        lambda c: reverse("generation:batch_detail", args=[c["batch"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    "generation:batch_action": Access(
        "post",
        lambda c: reverse("generation:batch_action", args=[c["batch"].pk, "cancel"]),
        LOGIN,
        403,
        403,
        302,
    ),
    "generation:item_report": Access(
        "get",
        lambda c: reverse("generation:item_report", args=[c["item"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    "generation:frame_list": Access(
        "get", lambda c: reverse("generation:frame_list"), LOGIN, 403, 403, 200
    ),
    "generation:frame_download": Access(
        "get",
        lambda c: reverse("generation:frame_download", args=[c["batch"].frame_id]),
        LOGIN,
        403,
        403,
        200,
    ),
    "generation:guideline_list": Access(
        "get", lambda c: reverse("generation:guideline_list"), LOGIN, 403, 403, 200
    ),
    "generation:guideline_download": Access(
        "get",
        lambda c: reverse(
            "generation:guideline_download",
            args=[catalogue.guideline_default_ensure().pk],
        ),
        LOGIN,
        403,
        403,
        200,
    ),
    "api-batch-create": Access(
        "post", lambda c: "/api/v1/batches/", 401, 403, 403, 400, {"count": 0}
    ),
    "api-batch-detail": Access(
        "get", lambda c: f"/api/v1/batches/{c['batch'].pk}/", 401, 403, 403, 200
    ),
    "api-batch-cancel": Access(
        "post", lambda c: f"/api/v1/batches/{c['batch'].pk}/cancel/", 401, 403, 403, 409
    ),
    "api-batch-retry-failed": Access(
        "post", lambda c: f"/api/v1/batches/{c['batch'].pk}/retry-failed/", 401, 403, 403, 409
    ),
    # The invitation link's page answers everyone (a bad or used token says so).
    "password_set": Access("get", lambda c: "/welcome/MQ/bad-token/", 200, 200, 200, 200),
    "review:report_tags": Access(
        "post",
        lambda c: reverse("review:report_tags", args=[c["report"].code]),
        LOGIN,
        403,
        403,
        302,
        {"tags": "pilot"},
    ),
    "review:people": Access("get", lambda c: reverse("review:people"), LOGIN, 403, 403, 200),
    "review:person_action": Access(
        "post",
        lambda c: reverse("review:person_action", args=[c["assignment"].reviewer_id, "activate"]),
        LOGIN,
        403,
        403,
        302,
    ),
    "review:audit_list": Access(
        "get", lambda c: reverse("review:audit_list"), LOGIN, 403, 403, 200
    ),
    "review:report_list": Access(
        "get", lambda c: reverse("review:report_list"), LOGIN, 403, 403, 200
    ),
    "review:report_detail": Access(
        "get",
        lambda c: reverse("review:report_detail", args=[c["report"].code]),
        LOGIN,
        403,
        403,
        200,
    ),
    # Annotation audit studies: the reviewer's own assignment; "other" sits on the same
    # panel and reviews the same report, yet gets 404 on this assignment (and so never sees
    # its verdicts); coordinators do not review. Results, exports and adjudication (which
    # show provenance and every reviewer's verdicts) are the coordinator's only.
    "review:audit": Access(
        "get", lambda c: reverse("review:audit", args=[_audit(c)]), LOGIN, 200, 404, 403
    ),
    "review:audit_verdict": Access(
        "post",
        lambda c: reverse("review:audit_verdict", args=[_audit(c), 0]),
        LOGIN,
        302,
        404,
        403,
        {"verdict": "correct"},
    ),
    "review:audit_add": Access(
        "post",
        lambda c: reverse("review:audit_add", args=[_audit(c)]),
        LOGIN,
        302,
        404,
        403,
        {"field": "age", "value": "", "start": "0", "end": "4"},
    ),
    "review:audit_added_delete": Access(
        "post",
        lambda c: reverse("review:audit_added_delete", args=[_audit(c), c["added"].pk]),
        LOGIN,
        302,
        404,
        403,
    ),
    "review:audit_submit": Access(
        "post", lambda c: reverse("review:audit_submit", args=[_audit(c)]), LOGIN, 302, 404, 403
    ),
    "review:audit_results": Access(
        "get", lambda c: reverse("review:audit_results", args=[c["audit"].pk]), LOGIN, 403, 403, 200
    ),
    "review:audit_adjudication": Access(
        "get",
        lambda c: reverse("review:audit_adjudication", args=[c["audit"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    "review:audit_export_csv": Access(
        "get",
        lambda c: reverse("review:audit_export_csv", args=[c["audit"].pk, "audit_verdicts"]),
        LOGIN,
        403,
        403,
        200,
    ),
    "review:audit_verified_jsonl": Access(
        "get",
        lambda c: reverse("review:audit_verified_jsonl", args=[c["audit"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    "review:audit_verified_archive": Access(
        "get",
        lambda c: reverse("review:audit_verified_archive", args=[c["audit"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
    "review:audit_verified_card": Access(
        "get",
        lambda c: reverse("review:audit_verified_card", args=[c["audit"].pk]),
        LOGIN,
        403,
        403,
        200,
    ),
}


def _audit(ctx):
    return ctx["audit_assignment"].code


def _route_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _route_names(pattern.url_patterns, inner)
        elif pattern.name:
            yield namespace + pattern.name
        else:
            yield f"<unnamed {pattern.pattern}>"


def test_every_route_has_an_access_entry():
    names = set(_route_names(get_resolver().url_patterns))
    assert sorted(names - set(ACCESS)) == []
    assert sorted(set(ACCESS) - names) == []


@pytest.fixture
def ctx(open_study, reviewer, other_reviewer, coordinator):
    from generation import services as generation_services
    from review import services

    draft = services.study_create(name="Draft", created_by=coordinator)
    batch = generation_services.batch_launch(
        count=2, backend="offline", seed=1, language="fr", created_by=coordinator, enqueue=False
    )
    generation_services.batch_run_in_process(batch=batch)
    assignment = (
        Assignment.objects.filter(study=open_study, reviewer=reviewer).order_by("position").first()
    )
    from review.models import AddedAnnotation
    from tests.review.audit_study.conftest import make_audit_study

    audit = make_audit_study(
        coordinator=coordinator, reviewers=[reviewer, other_reviewer], n_reports=1, k=2
    )
    audit_assignment = Assignment.objects.get(study=audit, reviewer=reviewer)
    added = AddedAnnotation.objects.create(
        assignment=audit_assignment, field="lab", value="x", start=0, end=7
    )
    return {
        "audit": audit,
        "audit_assignment": audit_assignment,
        "added": added,
        "study": open_study,
        "draft": draft,
        "assignment": assignment,
        "report": assignment.report,
        "batch": batch,
        "item": batch.items.order_by("index").first(),
    }


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_access(client, ctx, reviewer, other_reviewer, coordinator, name):
    entry = ACCESS[name]
    users = {
        "anonymous": None,
        "reviewer": reviewer,
        "other": other_reviewer,
        "coordinator": coordinator,
    }
    seen = {}
    for role, user in users.items():
        client.logout()
        if user is not None:
            client.login(username=user.username, password=PASSWORD)
        url = entry.url(ctx)
        if entry.method == "put":
            response = client.put(url, data=entry.data, content_type="application/json")
        else:
            response = getattr(client, entry.method)(url, data=entry.data)
        is_login_redirect = response.status_code == 302 and response["Location"].startswith(
            reverse("login") + "?next="
        )
        seen[role] = LOGIN if is_login_redirect else response.status_code
    expected = {role: getattr(entry, role) for role in users}
    assert seen == expected


# --- CSRF on every state-changing request ------------------------------------------------

HTMX_ANSWER = {
    "review:rate_comment": 200,
    "review:rate_score": 200,
    "review:rate_score_clear": 200,
    "review:audit_verdict": 200,
    "review:audit_add": 200,
    "review:audit_added_delete": 200,
}
STATE_CHANGING = sorted(name for name, entry in ACCESS.items() if entry.method in ("post", "put"))


def _allowed_role(entry: Access) -> str:
    for role in ("reviewer", "coordinator", "anonymous"):
        if getattr(entry, role) not in (403, 404, LOGIN):
            return role
    raise AssertionError("no role may use this route")


@pytest.mark.parametrize("name", STATE_CHANGING)
def test_state_changing_request_needs_csrf_token(ctx, reviewer, coordinator, name):
    """Without the token: 403 and nothing done; with it, sent as htmx sends it (the
    X-CSRFToken header from hx-headers on <body>): the route's normal answer."""
    from django.test import Client

    entry = ACCESS[name]
    role = _allowed_role(entry)
    user = {"reviewer": reviewer, "coordinator": coordinator, "anonymous": None}[role]
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    page = client.get(reverse("login") if user is None else reverse("review:home"), follow=True)
    assert page.status_code == 200
    token = client.cookies["csrftoken"].value

    def send(**headers):
        url = entry.url(ctx)
        if entry.method == "put":
            return client.put(url, data=entry.data, content_type="application/json", **headers)
        return client.post(url, data=entry.data, **headers)

    refused = send()
    assert refused.status_code == 403
    assert b"CSRF" in refused.content
    accepted = send(HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    # htmx requests get the swapped partial where a plain form post gets a redirect.
    expected = HTMX_ANSWER.get(name, getattr(entry, role))
    assert accepted.status_code == expected


def test_login_post_needs_csrf_token(reviewer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    credentials = {"username": reviewer.username, "password": PASSWORD}
    refused = client.post(reverse("login"), credentials)
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    client.get(reverse("login"))
    accepted = client.post(
        reverse("login"), {**credentials, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(reviewer.pk)


def test_pages_send_csrf_token_for_htmx_on_body(reviewer_client, ctx):
    html = reviewer_client.get(reverse("review:rate", args=[_mine(ctx)])).content.decode()
    token = reviewer_client.cookies["csrftoken"].value
    assert token
    assert '<body hx-headers=\'{"X-CSRFToken": "' in html


# --- the Django admin and the browsable API are closed to reviewers ---------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/review/report/",
        "/admin/review/rating/",
        "/admin/review/auditevent/",
        "/admin/review/domain/",
        "/admin/review/study/1/history/",
        "/admin/generation/batch/",
    ],
)
def test_reviewer_cannot_use_django_admin(reviewer_client, path):
    response = reviewer_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_reviewer_cannot_open_a_report_in_the_admin(reviewer_client, ctx):
    response = reviewer_client.get(reverse("admin:review_report_change", args=[ctx["report"].pk]))
    assert response.status_code == 302
    assert ctx["report"].text not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        lambda c: "/api/v1/reports/",
        lambda c: f"/api/v1/reports/{c['report'].code}/",
        lambda c: "/api/v1/studies/",
        lambda c: f"/api/v1/studies/{c['study'].pk}/results/",
        lambda c: f"/api/v1/studies/{c['study'].pk}/progress/",
        lambda c: f"/api/v1/batches/{c['batch'].pk}/",
    ],
)
def test_browsable_api_html_refused_to_reviewer(reviewer_client, ctx, url):
    response = reviewer_client.get(url(ctx), HTTP_ACCEPT="text/html")
    assert response.status_code == 403
    body = response.content.decode()
    assert ctx["report"].text[:40] not in body
    assert "synthetic" not in body and '"source"' not in body
