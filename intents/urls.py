"""The training UI's routes, mounted at `training/`."""

from django.urls import path

from . import views

app_name = "intents"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("queue/", views.queue, name="queue"),
    path("queue/next", views.queue_next, name="queue-next"),
    path("queue/decide", views.queue_decide, name="queue-decide"),
    path("queue/undo", views.queue_undo, name="queue-undo"),
    path("dataset/", views.dataset, name="dataset"),
    path("dataset/bulk", views.dataset_bulk, name="dataset-bulk"),
    path("dataset/<int:example_id>/relabel", views.example_relabel, name="example-relabel"),
    path("intents/", views.intents, name="intents"),
    path("intents/new", views.intent_create, name="intent-create"),
    path("intents/<int:intent_id>/change", views.intent_change, name="intent-change"),
    path("versions/", views.versions, name="versions"),
    path("versions/compare", views.versions_compare, name="versions-compare"),
    path("versions/train", views.training_start, name="training-start"),
    path("versions/roll-back", views.version_roll_back, name="version-roll-back"),
    path("versions/evaluation-set", views.evaluation_set_freeze, name="evaluation-set-freeze"),
    path("versions/<int:number>/", views.version_detail, name="version-detail"),
    path("versions/<int:number>/progress", views.version_progress, name="version-progress"),
    path("versions/<int:number>/cancel", views.training_cancel, name="training-cancel"),
    path("versions/<int:number>/promote", views.version_promote, name="version-promote"),
]
