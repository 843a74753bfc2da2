"""How the tables are stored on PostgreSQL (migration 0020): every foreign key leads an
index, no index duplicates another's leading column for nothing, and report texts are
compressed with LZ4."""

import pytest
from django.apps import apps
from django.db import connection, models

from review.models import Report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's catalogue")


def _indexes(table: str) -> dict[str, list[str]]:
    """Each index of `table` with its columns in order (expression columns as "expr")."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname,
                   array(SELECT coalesce(a.attname, 'expr')
                           FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
                           LEFT JOIN pg_attribute a
                             ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                          ORDER BY k.n)
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = %s::regclass
            """,
            [table],
        )
        return dict(cursor.fetchall())


def _foreign_key_columns() -> list[tuple[str, str]]:
    return [
        (model._meta.db_table, field.column)
        for app in ("review", "generation")
        for model in apps.get_app_config(app).get_models()
        if model._meta.managed
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey)
    ]


def test_every_foreign_key_leads_an_index():
    # A delete of the row it points to (PROTECT, CASCADE) looks the key up: without an
    # index that starts with it, a scan of the whole table.
    columns = _foreign_key_columns()
    assert ("review_assignment", "study_id") in columns
    missing = [
        (table, column)
        for table, column in columns
        if not any(index[0] == column for index in _indexes(table).values())
    ]
    assert missing == []


def test_the_keys_a_constraint_serves_have_no_index_of_their_own():
    assert _indexes("review_assignment") == {
        "review_assignment_pkey": ["id"],
        "review_assignment_code_key": ["code"],
        "review_assignment_code_23425602_like": ["code"],
        "review_assignment_report_id_bbcaeac6": ["report_id"],
        "assignment_unique_report": ["study_id", "reviewer_id", "report_id", "kind"],
        "assignment_unique_position": ["study_id", "reviewer_id", "position"],
        "assign_queue": ["reviewer_id", "study_id", "status", "position"],
        "assign_next_unrated": ["reviewer_id", "study_id", "position"],
    }
    assert _indexes("review_rating") == {
        "review_rating_pkey": ["id"],
        "rating_unique": ["assignment_id", "domain_id"],
        "review_rating_domain_id_cc981166": ["domain_id"],
    }
    assert sorted(_indexes("review_studyreport")) == [
        "review_studyreport_pkey",
        "review_studyreport_report_id_999c6558",
        "studyreport_unique",
    ]


def test_the_content_hash_has_one_index_and_no_like_index():
    hash_indexes = {
        name: columns
        for name, columns in _indexes("review_report").items()
        if "content_hash" in columns
    }
    assert hash_indexes == {"report_content_hash": ["content_hash"]}


def test_report_texts_are_compressed_with_lz4_where_postgresql_has_it():
    with connection.cursor() as cursor:
        # Migration 0020 sets LZ4 only where the server was built with it (Debian's and the
        # official image's are); elsewhere the texts keep the default, pglz.
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        has_lz4 = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT attname, attcompression FROM pg_attribute
             WHERE attrelid = 'review_report'::regclass AND attname IN ('text', 'original_text')
             ORDER BY attname
            """
        )
        column_method = "l" if has_lz4 else ""
        assert cursor.fetchall() == [("original_text", column_method), ("text", column_method)]
    text = "Compte rendu d'hospitalisation. " * 200  # past TOAST's 2 kB: compressed
    report = Report.objects.create(text=text, original_text=text, source=Report.Source.REAL)
    stored_method = "lz4" if has_lz4 else "pglz"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(text), pg_column_compression(original_text),"
            " text = %s FROM review_report WHERE id = %s",
            [text, report.pk],
        )
        assert cursor.fetchone() == (stored_method, stored_method, True)
