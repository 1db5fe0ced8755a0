"""The training UI's routes, mounted at `training/`."""

from django.urls import path

from . import dataset_views, history_views, suggestion_views, views

app_name = "intents"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("queue/", views.queue, name="queue"),
    path("queue/next", views.queue_next, name="queue-next"),
    path("queue/decide", views.queue_decide, name="queue-decide"),
    path("queue/undo", views.queue_undo, name="queue-undo"),
    path(
        "queue/conversation/<str:conversation_id>",
        history_views.queue_conversation,
        name="queue-conversation",
    ),
    path("dataset/", views.dataset, name="dataset"),
    path("dataset/bulk", views.dataset_bulk, name="dataset-bulk"),
    path("dataset/<int:example_id>/relabel", views.example_relabel, name="example-relabel"),
    path("dataset/<int:example_id>/change", views.example_change, name="example-change"),
    path(
        "dataset/<int:example_id>/history",
        dataset_views.example_history_page,
        name="example-history",
    ),
    path("dataset/import/", dataset_views.dataset_import, name="dataset-import"),
    path(
        "dataset/import/<str:token>/",
        dataset_views.dataset_import_report,
        name="dataset-import-report",
    ),
    path(
        "dataset/import/<str:token>/confirm",
        dataset_views.dataset_import_confirm,
        name="dataset-import-confirm",
    ),
    path(
        "dataset/import/<str:token>/cancel",
        dataset_views.dataset_import_cancel,
        name="dataset-import-cancel",
    ),
    path(
        "dataset/export.<slug:file_format>",
        dataset_views.dataset_export,
        name="dataset-export",
    ),
    path("import/", history_views.history_import_page, name="kustomer-import"),
    path("import/preview", history_views.history_import_preview, name="kustomer-import-preview"),
    path("import/<int:pk>/", history_views.history_import_detail, name="kustomer-import-detail"),
    path("import/<int:pk>/start", history_views.history_import_start, name="kustomer-import-start"),
    path(
        "import/<int:pk>/progress",
        history_views.history_import_progress,
        name="kustomer-import-progress",
    ),
    path(
        "import/<int:pk>/cancel", history_views.history_import_cancel, name="kustomer-import-cancel"
    ),
    path(
        "import/<int:pk>/resume", history_views.history_import_resume, name="kustomer-import-resume"
    ),
    path("intents/", views.intents, name="intents"),
    path("suggestions/", suggestion_views.suggestions_page, name="suggestions"),
    path("suggestions/apply", suggestion_views.suggestion_apply, name="suggestion-apply"),
    path("intents/new", views.intent_create, name="intent-create"),
    path("intents/<int:intent_id>/change", views.intent_change, name="intent-change"),
    path("versions/", views.versions, name="versions"),
    path("versions/compare", views.versions_compare, name="versions-compare"),
    path("versions/train", views.training_start, name="training-start"),
    path("versions/roll-back", views.version_roll_back, name="version-roll-back"),
    path("versions/evaluation-set", views.evaluation_set_freeze, name="evaluation-set-freeze"),
    path("versions/<int:number>/", views.version_detail, name="version-detail"),
    path("versions/<int:number>/progress", views.version_progress, name="version-progress"),
    path(
        "versions/<int:number>/confused",
        dataset_views.version_confused_examples,
        name="version-confused",
    ),
    path("versions/<int:number>/cancel", views.training_cancel, name="training-cancel"),
    path("versions/<int:number>/promote", views.version_promote, name="version-promote"),
    path(
        "versions/<int:number>/training-data.<slug:file_format>",
        dataset_views.version_dataset_export,
        name="version-dataset-export",
    ),
]
