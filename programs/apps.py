from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = _("Measures and targets")

    def ready(self):
        from . import enrollment_sheet  # noqa: F401  registers the enrolment sheet kind
