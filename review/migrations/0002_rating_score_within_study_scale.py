"""A database trigger that keeps every score inside its study's scale.

A CHECK constraint cannot look at another table, and the bounds live on the study; the
trigger rejects an out-of-range score with an integrity error on PostgreSQL and SQLite
alike, whatever code path wrote it.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION review_rating_score_in_scale() RETURNS trigger AS $$
DECLARE
    low smallint;
    high smallint;
BEGIN
    SELECT s.scale_min, s.scale_max INTO low, high
    FROM review_assignment a JOIN review_study s ON s.id = a.study_id
    WHERE a.id = NEW.assignment_id;
    IF NEW.score < low OR NEW.score > high THEN
        RAISE EXCEPTION 'score % outside the study scale %..%', NEW.score, low, high
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER review_rating_score_in_scale
    BEFORE INSERT OR UPDATE OF score, assignment_id ON review_rating
    FOR EACH ROW EXECUTE FUNCTION review_rating_score_in_scale();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS review_rating_score_in_scale ON review_rating;
DROP FUNCTION IF EXISTS review_rating_score_in_scale();
"""

SQLITE_CHECK = """
SELECT RAISE(ABORT, 'score outside the study scale')
WHERE NEW.score < (SELECT s.scale_min FROM review_assignment a JOIN review_study s
                   ON s.id = a.study_id WHERE a.id = NEW.assignment_id)
   OR NEW.score > (SELECT s.scale_max FROM review_assignment a JOIN review_study s
                   ON s.id = a.study_id WHERE a.id = NEW.assignment_id);
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER review_rating_score_in_scale_ins BEFORE INSERT ON review_rating "
    f"BEGIN {SQLITE_CHECK} END;",
    f"CREATE TRIGGER review_rating_score_in_scale_upd BEFORE UPDATE ON review_rating "
    f"BEGIN {SQLITE_CHECK} END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS review_rating_score_in_scale_ins;",
    "DROP TRIGGER IF EXISTS review_rating_score_in_scale_upd;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("review", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
