"""Insert many new rows of one model at once: PostgreSQL's COPY, bulk_create elsewhere.

An import of 2,000 reports and the opening of a study (6,000 assignments for 2,000
reports × 3 reviewers) spent most of their insert time in bulk_create's SQL compilation
(a VALUES list of every parameter) rather than in the database. COPY streams the rows
instead, for about a third of the client CPU (measured for issue 21). Each column gets
what bulk_create would write: the field's `pre_save` (auto_now_add dates, defaults) and
its own adaptation (JSON, foreign keys), so the rows read back the same either way.
"""

from collections.abc import Callable, Iterable, Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model, fields
from django.db.models.fields.related import ForeignKey
from django.utils import timezone

# Fields whose value, of the exact type named (or None), reaches the database as it is:
# their `get_db_prep_save` returns it unchanged (the FK: its target's integer). A
# study's opening writes 6,000 assignments of 15 columns; preparing each value through the
# field cost ~0.3 s of the ~0.5 s it took. Any other value (a lazy string, a bool in an
# integer column, a date) goes through the field as before.
_AS_IS: dict[type[Field], type] = {
    fields.CharField: str,
    fields.TextField: str,
    fields.IntegerField: int,
    fields.PositiveIntegerField: int,
    fields.PositiveBigIntegerField: int,
    fields.BigIntegerField: int,
    fields.SmallIntegerField: int,
    ForeignKey: int,
    # A date or time not set yet (an assignment's submitted_at): None is NULL as it is.
    fields.DateTimeField: type(None),
    fields.DateField: type(None),
}


def _column_value(field: Field, database) -> Callable[[Model], object]:
    prepared = field.get_db_prep_save
    expected = _AS_IS.get(type(field))
    auto_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    if expected is None or auto_now:
        return lambda instance: prepared(field.pre_save(instance, True), database)
    attname = field.attname

    def value(instance: Model) -> object:
        raw = instance.__dict__[attname]
        if raw is None or type(raw) is expected:
            return raw
        return prepared(field.pre_save(instance, True), database)

    return value


def objects_insert(objects: Sequence[Model], *, batch_size: int = 1000) -> None:
    """Insert `objects` (new instances of one model, primary keys left to the database).
    Their primary keys are not set afterwards: callers that need them read them back."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objects, batch_size=batch_size)
        return
    columns_of = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in columns_of)
    table = connection.ops.quote_name(model._meta.db_table)
    # The connection itself, not the `connection` proxy, whose every attribute read goes
    # through a thread-local lookup (tens of thousands per insert here).
    database = connections[DEFAULT_DB_ALIAS]
    values = [_column_value(field, database) for field in columns_of]
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for instance in objects:
            copy.write_row([value(instance) for value in values])


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
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
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
