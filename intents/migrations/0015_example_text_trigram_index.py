"""A trigram index for the dataset page's "Text contains" filter on PostgreSQL.

Django's `icontains` is `UPPER(text) LIKE UPPER('%…%')`, which no B-tree index can serve: at
100,000 examples it read every row twice (the count and the page). A GIN index of trigrams on
`UPPER(text)` serves that very expression. It needs PostgreSQL's pg_trgm extension (trusted
since PostgreSQL 13, so the database's owner may create it); other databases get nothing.
"""

from django.db import migrations

INDEX = "labeledexample_text_upper_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON intents_labeledexample "
        "USING gin (UPPER(text) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("intents", "0014_training_ui_indexes")]

    operations = [migrations.RunPython(create, drop)]
