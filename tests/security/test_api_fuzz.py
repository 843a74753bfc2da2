"""Fuzz every operation of the OpenAPI schema (/api/schema/) with schemathesis, as a
coordinator and as a reviewer (token authentication): no 5xx, and every response
(status code, content type, body, headers) conforms to the schema.

The WSGI app runs in-process on the test database; ids in paths are drawn from real
rows half of the time so that the fuzzer gets past the 404s. The number of examples per
operation is bounded (SCHEMATHESIS_MAX_EXAMPLES, default 15) to fit in CI.
"""

import json
import os
import zlib

import hypothesis
import hypothesis.stateful
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from generation import services as generation_services
from review.models import Assignment
from tests.conftest import make_open_study
from tests.factories import CoordinatorFactory, ReviewerFactory

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))


@pytest.fixture
def api_world(db):
    coordinator = CoordinatorFactory()
    reviewers = [ReviewerFactory(), ReviewerFactory()]
    study = make_open_study(coordinator=coordinator, reviewers=reviewers)
    batch = generation_services.batch_launch(
        count=2, backend="offline", seed=1, language="fr", created_by=coordinator, enqueue=False
    )
    generation_services.batch_run_in_process(batch=batch)
    assignment = Assignment.objects.filter(reviewer=reviewers[0]).order_by("position").first()
    return {
        "coordinator": Token.objects.create(user=coordinator).key,
        "reviewer": Token.objects.create(user=reviewers[0]).key,
        "ids": {
            "id": study.pk,
            "pk": batch.pk,
            "code": assignment.code,
        },
        "report_code": assignment.report.code,
    }


def _load_schema() -> schemathesis.schemas.BaseSchema:
    """The schema /api/schema/ serves, generated in-process, calling the WSGI app."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@pytest.fixture(autouse=True)
def wsgi_in_test_transaction(settings):
    settings.ALLOWED_HOSTS = ["localhost"]  # the host schemathesis's WSGI calls use
    # As Django's test client does: a request must not close the test's connection (its
    # open transaction is what keeps each test's rows apart).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _realistic(case, world) -> None:
    """Half of the cases use ids that exist (seeded by the case's own data, so shrinking
    stays deterministic)."""
    if not case.path_parameters:
        return
    if zlib.crc32(repr(sorted(case.path_parameters.items())).encode()) % 2:
        return
    for name in list(case.path_parameters):
        if name == "code" and "/reports/" in case.path:
            case.path_parameters[name] = world["report_code"]
        elif name in world["ids"]:
            case.path_parameters[name] = world["ids"][name]


# No 5xx, and status code, content type, headers and body as documented. Not run: the
# checks that judge the API's semantics from generated data alone (e.g. "schema-valid data
# must be accepted", which a submit of an unrated report rightly refuses with 400).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_fuzz_as_coordinator(case, api_world):
    _realistic(case, api_world)
    case.call_and_validate(
        headers={"Authorization": f"Token {api_world['coordinator']}"}, checks=CHECKS
    )


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_fuzz_as_reviewer(case, api_world):
    _realistic(case, api_world)
    case.call_and_validate(
        headers={"Authorization": f"Token {api_world['reviewer']}"}, checks=CHECKS
    )


# --checks all: every built-in check, including those that judge the API's semantics from
# generated data (schema-violating data must be refused, schema-valid data accepted, an
# operation needs its credentials, an undocumented method gets 405).
#
# One exception, per operation: where a schema-valid request can still be refused because
# of what the database holds (a report code that does not exist, a frame or model not
# installed, a file that is not a report, a submit before every domain is scored, a scale
# whose lowest score is not below its highest), "schema-valid data is accepted" cannot
# hold; those operations answer 400 with the reason and run every other check.
STATE_DEPENDENT = {
    ("POST", "/api/v1/studies/{id}/add-reports/"),
    ("POST", "/api/v1/studies/"),
    ("POST", "/api/v1/batches/"),
    ("POST", "/api/v1/imports/"),
    ("POST", "/api/v1/me/assignments/{code}/submit/"),
    ("PUT", "/api/v1/me/assignments/{code}/ratings/"),
}


def _excluded(case) -> list:
    if (case.method.upper(), case.path) in STATE_DEPENDENT:
        return [positive_data_acceptance]
    return []


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_fuzz_all_checks_as_coordinator(case, api_world):
    _realistic(case, api_world)
    case.call_and_validate(
        headers={"Authorization": f"Token {api_world['coordinator']}"},
        excluded_checks=_excluded(case),
    )


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_fuzz_all_checks_as_reviewer(case, api_world):
    _realistic(case, api_world)
    case.call_and_validate(
        headers={"Authorization": f"Token {api_world['reviewer']}"},
        excluded_checks=_excluded(case),
    )


# Stateful: sequences of calls that follow the links inferred from the schema (create a
# study, then open it, add reports, close it, read its progress; launch a batch, then
# cancel it, retry it…), each response under every check.
APIWorkflow = schema.as_state_machine()


class CoordinatorWorkflow(APIWorkflow):  # type: ignore[misc,valid-type]
    token = ""

    def get_call_kwargs(self, case):
        return {"headers": {"Authorization": f"Token {self.token}"}}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(
            response,
            additional_checks=additional_checks,
            excluded_checks=_excluded(case),
            headers={"Authorization": f"Token {self.token}"},
            transport_kwargs=kwargs,
        )


def test_api_stateful_all_checks_as_coordinator(api_world):
    CoordinatorWorkflow.token = api_world["coordinator"]
    hypothesis.stateful.run_state_machine_as_test(
        CoordinatorWorkflow,
        settings=hypothesis.settings(
            max_examples=int(os.environ.get("SCHEMATHESIS_STATEFUL_EXAMPLES", "20")),
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
