"""The export page and its downloads, under the study's URL."""

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("studies/<str:study_code>/exports/", views.export_page, name="page"),
    path("studies/<str:study_code>/exports/<int:job_id>/download/", views.download, name="download"),
]
