"""The study dashboard's pages, downloads and JSON, under the study's URL."""

from django.urls import path

from analysis.views import dashboard

app_name = "analysis"

urlpatterns = [
    path("studies/<str:study_code>/dashboard/", dashboard.overview, name="dashboard"),
    path("studies/<str:study_code>/dashboard/survival/", dashboard.survival, name="survival"),
    path("studies/<str:study_code>/dashboard/labs/", dashboard.labs, name="labs"),
    path("studies/<str:study_code>/dashboard/safety/", dashboard.safety, name="safety"),
    path("studies/<str:study_code>/dashboard/baseline/", dashboard.baseline, name="baseline"),
    path("studies/<str:study_code>/dashboard/report.json", dashboard.report_json, name="report_json"),
    path(
        "studies/<str:study_code>/dashboard/figures/<slug:figure>.<str:fmt>",
        dashboard.figure_download,
        name="figure",
    ),
    path("studies/<str:study_code>/dashboard/tables/<slug:table>.csv", dashboard.table_download, name="table"),
]
