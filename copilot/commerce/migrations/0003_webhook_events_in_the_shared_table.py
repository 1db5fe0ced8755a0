"""Shopify's webhook events move to the table every vendor's webhooks share."""

import hashlib

from django.db import migrations


def copy_events(apps, schema_editor):
    Old = apps.get_model("commerce", "WebhookEvent")
    New = apps.get_model("webhooks", "WebhookEvent")
    for old in Old.objects.iterator():
        fingerprint = f"shopify event {old.source} {old.external_id}".encode()
        new, created = New.objects.get_or_create(
            source=old.source,
            external_id=old.external_id,
            defaults={
                "topic": old.topic,
                "account": old.shop_domain,
                # The raw body was not kept: a fingerprint no delivery can have.
                "body_sha256": hashlib.sha256(fingerprint).hexdigest(),
                "triggered_at": old.triggered_at,
                "data": old.data,
                "status": old.status,
                "detail": old.detail,
                "processed_at": old.processed_at,
            },
        )
        if created:
            New.objects.filter(pk=new.pk).update(received_at=old.received_at)


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0002_orderaction_queued_work"),
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_events, migrations.RunPython.noop),
        migrations.DeleteModel(name="WebhookEvent"),
    ]
