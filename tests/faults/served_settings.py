"""Production settings (DEBUG off) for the app served in a fault test, but for static files: the manifest
storage needs a collectstatic of several minutes, which is not what these tests are about."""

from poverty_relief.settings import *  # noqa: F403
from poverty_relief.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
