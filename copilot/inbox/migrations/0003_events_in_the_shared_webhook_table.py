"""Kustomer's events move to the table every vendor's webhooks share (webhooks.WebhookEvent)."""

import hashlib

import django.db.models.deletion
from django.db import migrations, models


def copy_events(apps, schema_editor):
    KustomerEvent = apps.get_model("inbox", "KustomerEvent")
    WebhookEvent = apps.get_model("webhooks", "WebhookEvent")
    InboundMessage = apps.get_model("inbox", "InboundMessage")
    for old in KustomerEvent.objects.iterator():
        new = WebhookEvent.objects.create(
            source="kustomer",
            external_id=old.event_id,
            topic=old.name,
            # The raw body was not kept: a fingerprint no delivery can have.
            body_sha256=hashlib.sha256(f"kustomer event {old.event_id}".encode()).hexdigest(),
            status="ignored" if old.status == "ignored" else "processed",
            detail=old.ignore_reason[:500],
            data={},
        )
        WebhookEvent.objects.filter(pk=new.pk).update(received_at=old.received_at)
        InboundMessage.objects.filter(event_id=old.pk).update(shared_event=new.pk)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0002_inboundmessage_task_at"),
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="inboundmessage",
            name="shared_event",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(copy_events, migrations.RunPython.noop),
        migrations.RemoveField(model_name="inboundmessage", name="event"),
        migrations.DeleteModel(name="KustomerEvent"),
        migrations.RenameField(
            model_name="inboundmessage", old_name="shared_event", new_name="event"
        ),
        migrations.AlterField(
            model_name="inboundmessage",
            name="event",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to="webhooks.webhookevent",
            ),
        ),
    ]
