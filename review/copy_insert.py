"""Insert many new rows of one model at once: PostgreSQL's COPY, bulk_create elsewhere.

An import of 2,000 reports and the opening of a study (6,000 assignments for 2,000
reports × 3 reviewers) spent most of their insert time in bulk_create's SQL compilation
(a VALUES list of every parameter) rather than in the database; then, with COPY, in building
a model instance per row. The rows now go as tuples of the columns the caller has, and each
column gets what bulk_create would write: the given value through the field's own
adaptation (JSON, foreign keys), the others the field's default or auto_now date, so the
rows read back the same either way (tests/review/test_copy_insert.py).
"""

from collections.abc import Callable, Iterable, Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model
from django.db.models import fields as model_fields
from django.db.models.fields.related import ForeignKey
from django.utils import timezone

# Fields whose value, of the exact type named (or None), reaches the database as it is:
# their `get_db_prep_save` returns it unchanged (the FK: its target's integer). A
# study's opening writes 6,000 assignments of 15 columns; preparing each value through the
# field cost ~0.3 s of the ~0.5 s it took. Any other value (a lazy string, a bool in an
# integer column, a date) goes through the field as before.
_AS_IS: dict[type[Field], type] = {
    model_fields.CharField: str,
    model_fields.TextField: str,
    model_fields.IntegerField: int,
    model_fields.PositiveIntegerField: int,
    model_fields.PositiveBigIntegerField: int,
    model_fields.BigIntegerField: int,
    model_fields.SmallIntegerField: int,
    ForeignKey: int,
    # A date or time not set yet (an assignment's submitted_at): None is NULL as it is.
    model_fields.DateTimeField: type(None),
    model_fields.DateField: type(None),
}


def rows_insert(model: type[Model], *, fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert new rows of `model` given as tuples of the columns `fields` (attnames, such as
    "study_id"), the other columns taking what a new instance would hold: the field's
    default (a callable one called for each row: codes), now for auto_now dates, "" for
    text, NULL; a column with none of these must be given (ValueError before any write).
    Returns the number of rows. For the largest inserts (a study's opening: one
    assignment per report and reviewer), where building a model instance per row cost
    about as much as the whole COPY; PostgreSQL only, bulk_create elsewhere."""
    opts = model._meta
    by_attname = {field.attname: field for field in opts.concrete_fields}
    unknown = [name for name in fields if name not in by_attname]
    if unknown:
        raise ValueError(f"{model.__name__} has no column {', '.join(unknown)}")
    stamped = [name for name in fields if _auto_now(by_attname[name])]
    if stamped:
        # A save would overwrite them with the time of the insert; so does this.
        raise ValueError(f"{model.__name__}.{stamped[0]} is set to the time of the insert")
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=1000
        )
        return len(rows)
    database = connections[DEFAULT_DB_ALIAS]
    given = [by_attname[name] for name in fields]
    # The columns not given: one value for every row, or a callable default per row.
    constants: list[tuple[Field, object]] = []
    per_row: list[tuple[Field, Callable[[], object]]] = []
    now = timezone.now()
    for field in opts.concrete_fields:
        if field.primary_key or field.attname in fields or field.has_db_default():
            continue  # the database fills a db_default itself
        if _auto_now(field):
            constants.append((field, field.get_db_prep_save(now, database)))
        elif field.has_default() and callable(field.default):
            per_row.append((field, field.default))
        else:
            # What a new instance holds: the default, "" for text, None otherwise.
            default = field.get_default()
            if default is None and not field.null:
                raise ValueError(f"{model.__name__}.{field.attname} has no default: give it")
            constants.append((field, field.get_db_prep_save(default, database)))
    adapt = [_value_adapter(field, database) for field in given]
    columns = [*given, *(field for field, _value in constants), *(field for field, _f in per_row)]
    fixed = [value for _field, value in constants]
    made = [(_value_adapter(field, database), make) for field, make in per_row]
    names = ", ".join(connection.ops.quote_name(str(field.column)) for field in columns)
    table = connection.ops.quote_name(opts.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    *(convert(value) for convert, value in zip(adapt, row, strict=True)),
                    *fixed,
                    *(convert(make()) for convert, make in made),
                ]
            )
    return len(rows)


def _value_adapter(field: Field, database) -> Callable[[object], object]:
    """A value of `field` as the database takes it: as it is when of the type `_AS_IS`
    names (or None), through the field's own preparation otherwise."""
    prepared = field.get_db_prep_save
    expected = _AS_IS.get(type(field))

    def value(raw: object) -> object:
        if raw is None or (expected is not None and type(raw) is expected):
            return raw
        return prepared(raw, database)

    return value


def _auto_now(field: Field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
