from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BeneficiariesConfig(AppConfig):
    name = "beneficiaries"
    verbose_name = _("Registry")

    def ready(self):
        from . import roster  # noqa: F401  registers the roster sheet kind with the imports pipeline
