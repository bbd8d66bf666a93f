from django.urls import path

from ecrf.views import studies

app_name = "ecrf"

urlpatterns = [
    path("", studies.home, name="home"),
    path("studies/<str:study_code>/", studies.study_detail, name="study_detail"),
    path("studies/<str:study_code>/team/", studies.study_team, name="study_team"),
    path("studies/<str:study_code>/sites/<str:site_code>/", studies.site_detail, name="site_detail"),
]
