"""Database helpers the ORM does not offer."""

from collections.abc import Sequence

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model


def insert_unless_exists(model: type[Model], *, unique_field: str | None, **values) -> int | None:
    """Inserts one row and returns its primary key, or None if `unique_field` already holds it
    (with `unique_field=None`: if any unique constraint of the table refuses it).

    One `INSERT … ON CONFLICT DO NOTHING RETURNING` statement: no savepoint and no second query,
    which `create()` inside `try/except IntegrityError` needs. Field defaults, `auto_now_add` and
    value conversion are applied as `save()` applies them. Databases without `RETURNING` (SQLite
    before 3.35) take the `create()` way.
    """
    meta = model._meta
    if unique_field is not None and not meta.get_field(unique_field).unique:
        raise ValueError(f"{meta.label}.{unique_field} is not unique")
    connection = connections[router.db_for_write(model)]
    if not connection.features.can_return_columns_from_insert:
        return create_unless_exists(model, using=connection.alias, **values)

    quote = connection.ops.quote_name
    instance = model(**values)
    fields = [
        field
        for field in meta.local_concrete_fields
        if field is not meta.auto_field and not field.generated
    ]
    params = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    conflict = f"({quote(meta.get_field(unique_field).column)})" if unique_field else ""
    # Only quoted identifiers from the model's metadata are interpolated; values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT {conflict} DO NOTHING "
        f"RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def create_unless_exists(model: type[Model], *, using: str = "default", **values) -> int | None:
    """What `insert_unless_exists` does, the ORM's way: a savepoint around `create()`."""
    try:
        with transaction.atomic(using=using):
            return model.objects.using(using).create(**values).pk
    except IntegrityError:
        return None


def connections_close_if_broken() -> None:
    """Closes the database connections that an error left unusable (PostgreSQL restarted, or the
    connection was ended with `pg_terminate_backend`), so that the next query opens a new one
    instead of failing the same way.

    Django does this around each request and Celery's Django fixup around each task; this is for
    work that must still reach the database after such an error within one task (releasing a
    lease). A connection inside a transaction is left alone: the transaction must end first.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def update_each(model: type[Model], instances: list[Model], fields: Sequence[str]) -> int:
    """Saves `fields` of each instance, each with its own values, and returns how many rows
    were updated.

    `bulk_update()` writes one `CASE WHEN pk = … THEN …` per field with a branch per row, which
    PostgreSQL reads branch by branch for every row: 10,000 rows take seconds. On PostgreSQL this
    is one `UPDATE … FROM unnest(…)` joining the rows by primary key, one array parameter per
    column. Other databases take `bulk_update()`. Fields are written as given: no `auto_now`.
    """
    if not instances:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return model.objects.bulk_update(instances, fields, batch_size=500)
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    arrays = [
        [
            column.get_db_prep_save(getattr(instance, column.attname), connection)
            for instance in instances
        ]
        for column in columns
    ]
    # Only quoted identifiers and types from the model's metadata are interpolated.
    sql = (
        f"UPDATE {quote(meta.db_table)} AS target SET "  # noqa: S608
        + ", ".join(f"{quote(c.column)} = rows.{quote(c.column)}" for c in columns[1:])
        + " FROM unnest("
        + ", ".join(f"%s::{c.db_type(connection)}[]" for c in columns)
        + f") AS rows ({', '.join(quote(c.column) for c in columns)})"
        + f" WHERE target.{quote(meta.pk.column)} = rows.{quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount
