import pytest

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
