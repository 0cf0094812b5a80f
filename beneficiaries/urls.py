from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("", views.registry_home, name="home"),
    path("people/", views.person_list, name="person-list"),
    path("export.xlsx", views.registry_export, name="export"),
    path("people/new/", views.person_create, name="person-create"),
    path("people/<int:pk>/", views.person_detail, name="person-detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person-edit"),
    path("people/<int:pk>/status/", views.person_status, name="person-status"),
    path("people/<int:pk>/history/", views.person_history, name="person-history"),
    path("people/<int:pk>/transfer/", views.person_transfer, name="person-transfer"),
    path("check/", views.person_live_check, name="live-check"),
    path("area-options/", views.area_options, name="area-options"),
    path("households/", views.household_list, name="household-list"),
    path("households/new/", views.household_create, name="household-create"),
    path("households/<int:pk>/", views.household_detail, name="household-detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household-edit"),
    path("households/<int:pk>/history/", views.household_history, name="household-history"),
    path("households/<int:pk>/deactivate/", views.household_deactivate_page, name="household-deactivate"),
    path("transfers/", views.transfer_list, name="transfer-list"),
    path("transfers/<int:pk>/answer/", views.transfer_answer, name="transfer-answer"),
]
