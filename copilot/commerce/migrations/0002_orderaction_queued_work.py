"""Order actions become queued work (copilot.queueing): the two fields the sweep reads, and
whether the note of the current status is still owed.

Existing rows start with no note pending: a note that was never written before is not written
now, long after the fact.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderaction",
            name="needs_queueing",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="orderaction",
            name="task_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="orderaction",
            name="note_pending",
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name="orderaction",
            index=models.Index(
                condition=models.Q(("note_pending", True)),
                fields=["task_at"],
                name="commerce_note_pending",
            ),
        ),
    ]
