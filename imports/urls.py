from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("template/<slug:kind>.xlsx", views.template_download, name="template"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/commit/", views.import_commit_view, name="commit"),
    path("<int:pk>/discard/", views.import_discard_view, name="discard"),
    path("<int:pk>/errors.xlsx", views.import_errors_workbook, name="errors"),
]
