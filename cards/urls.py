"""The card's routes, mounted at `card/`."""

from django.urls import include, path

from . import views

app_name = "cards"

urlpatterns = [
    path("", views.card, name="card"),
    path("signin", views.sign_in, name="sign-in"),
    path("oauth/callback", views.oauth_callback, name="oauth-callback"),
    path("session", views.session, name="session"),
    path("signout", views.sign_out, name="sign-out"),
    path("fragments/insight", views.insight_fragment, name="insight"),
    path("intent/feedback", views.intent_feedback, name="intent-feedback"),
    path("drafts/<int:draft_id>/use", views.draft_use, name="draft-use"),
    path("drafts/<int:draft_id>/feedback", views.draft_feedback, name="draft-feedback"),
    path("drafts/regenerate", views.drafts_regenerate, name="drafts-regenerate"),
    path("", include("cards.urls_orders")),
]
