import pytest
from django.contrib.auth.models import Permission

from intents.prediction import active_model
from intents.services import examples_import
from tests.factories import labelled_rows


@pytest.fixture(autouse=True)
def _fresh_model_cache(settings):
    # Every check goes to the database, so a test sees an activation at once.
    settings.INTENT_MODEL_REFRESH_SECONDS = 0
    settings.INTENT_MIN_EXAMPLES = 5
    active_model.clear()
    yield
    active_model.clear()


@pytest.fixture
def labelled_examples(db):
    return examples_import(rows=labelled_rows())


@pytest.fixture
def reviewer(django_user_model):
    """A team lead: staff, allowed to label and to train and promote."""
    user = django_user_model.objects.create_user("lead", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_labeledexample",
                "change_labeledexample",
                "change_modelversion",
                "change_intent",
            ]
        )
    )
    return user


@pytest.fixture
def lead_client(client, reviewer):
    client.force_login(reviewer)
    return client
