import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intents", "0008_training_log"),
    ]

    operations = [
        migrations.CreateModel(
            name="ModelVersionDataset",
            fields=[
                (
                    "version",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="dataset",
                        serialize=False,
                        to="intents.modelversion",
                    ),
                ),
                ("examples", models.JSONField(default=list)),
                ("label_issues", models.JSONField(blank=True, default=list)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
