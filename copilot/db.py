"""Database helpers the ORM does not offer."""

from django.db import connections, router
from django.db.models import Model


def insert_unless_exists(model: type[Model], *, unique_field: str, **values) -> int | None:
    """Inserts one row and returns its primary key, or None if `unique_field` already holds it.

    One `INSERT … ON CONFLICT DO NOTHING RETURNING` statement (PostgreSQL, SQLite ≥ 3.35): no
    savepoint and no second query, which `create()` inside `try/except IntegrityError` needs.
    Field defaults, `auto_now_add` and value conversion are applied as `save()` applies them.
    """
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    instance = model(**values)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    params = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    # Only quoted identifiers from the model's metadata are interpolated; values are parameters.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote(model._meta.get_field(unique_field).column)}) DO NOTHING "
        f"RETURNING {quote(model._meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None
