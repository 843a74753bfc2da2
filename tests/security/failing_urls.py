"""Views that fail inside PostgreSQL with a patient's data in the error (DETAIL, CONTEXT,
the primary message), mounted beside the project's URLs for the log hygiene tests."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

PATIENT = "Quenouille Jeanne née le 03/04/1951 IPP 8812345"

FAILING_SQL = {
    # 22P05: the CONTEXT quotes the JSON document ("JSON data, line 1: {…").
    "json-nul": [("SELECT %s::jsonb", ['{"patient": "' + PATIENT + '", "note": "\\u0000"}'])],
    # 22P02: the primary message quotes the value.
    "integer": [("SELECT %s::integer", [PATIENT])],
    # 23505: the DETAIL quotes the key's value.
    "unique": [
        ("CREATE TEMP TABLE IF NOT EXISTS t_unique (v text UNIQUE)", []),
        ("INSERT INTO t_unique VALUES (%s), (%s)", [PATIENT, PATIENT]),
    ],
}


def fail(request: HttpRequest, kind: str) -> HttpResponse:
    with connection.cursor() as cursor:
        for sql, params in FAILING_SQL[kind]:
            cursor.execute(sql, params)
    return HttpResponse("unreachable")


def fail_python(request: HttpRequest) -> HttpResponse:
    int(PATIENT)
    return HttpResponse("unreachable")


urlpatterns = [
    path("test-failures/db/<str:kind>/", fail),
    path("test-failures/python/", fail_python),
    path("", include("synthreports.urls")),
]
