from django.urls import path

from . import views

app_name = "areas"

urlpatterns = [
    path("", views.OwnAreaView.as_view(), name="detail-own"),
    path("<str:code>/", views.AreaDetailView.as_view(), name="detail"),
]
