"""Insert many new rows of one model at once: PostgreSQL's COPY, bulk_create elsewhere.

An import of 2,000 reports and the opening of a study (6,000 assignments for 2,000
reports × 3 reviewers) spent most of their insert time in bulk_create's SQL compilation
(a VALUES list of every parameter) rather than in the database. COPY streams the rows
instead, for about a third of the client CPU (measured for issue 21). Each column gets
what bulk_create would write: the field's `pre_save` (auto_now_add dates, defaults) and
its own adaptation (JSON, foreign keys), so the rows read back the same either way.
"""

from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def objects_insert(objects: Sequence[Model], *, batch_size: int = 1000) -> None:
    """Insert `objects` (new instances of one model, primary keys left to the database).
    Their primary keys are not set afterwards: callers that need them read them back."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objects, batch_size=batch_size)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    # The connection itself, not the `connection` proxy, whose every attribute read goes
    # through a thread-local lookup (tens of thousands per insert here).
    database = connections[DEFAULT_DB_ALIAS]
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for instance in objects:
            copy.write_row(
                [
                    field.get_db_prep_save(field.pre_save(instance, True), database)
                    for field in fields
                ]
            )
