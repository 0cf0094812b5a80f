from .views import enrollments, facilities, inspections, subsidies, targets

app_name = "programs"

urlpatterns = [
    *targets.urlpatterns,
    *enrollments.urlpatterns,
    *facilities.urlpatterns,
    *subsidies.urlpatterns,
    *inspections.urlpatterns,
]
