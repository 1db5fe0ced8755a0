from django.urls import path

from . import views

app_name = "sandbox_shopify"

urlpatterns = [
    path("admin/api/<str:version>/graphql.json", views.graphql, name="graphql"),
]
