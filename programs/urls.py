from django.urls import path

from . import views

app_name = "programs"

urlpatterns = [
    path("", views.target_list, name="target-list"),
    path("<int:pk>/split/", views.target_split_page, name="target-split"),
    path("<int:pk>/split/remainder/", views.target_split_remainder, name="target-remainder"),
]
