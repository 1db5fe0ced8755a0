"""Seeds the store policies and reply templates of copilot/replies/defaults.py, once.

Existing rows (same key, or same intent, language and name) are left as they are, so running it
on a database that already has edited versions changes nothing.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from copilot.replies import defaults

    StorePolicy = apps.get_model("replies", "StorePolicy")
    ReplyTemplate = apps.get_model("replies", "ReplyTemplate")
    for key, title, text in defaults.POLICIES:
        StorePolicy.objects.get_or_create(key=key, defaults={"title": title, "text": text})
    for intent, language, name, text in defaults.TEMPLATES:
        ReplyTemplate.objects.get_or_create(
            intent=intent, language=language, name=name, defaults={"text": text}
        )


def unseed(apps, schema_editor):
    from copilot.replies import defaults

    StorePolicy = apps.get_model("replies", "StorePolicy")
    ReplyTemplate = apps.get_model("replies", "ReplyTemplate")
    for key, title, text in defaults.POLICIES:
        StorePolicy.objects.filter(key=key, text=text).delete()
    for intent, language, name, text in defaults.TEMPLATES:
        ReplyTemplate.objects.filter(intent=intent, language=language, name=name, text=text).delete()


class Migration(migrations.Migration):
    dependencies = [("replies", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
