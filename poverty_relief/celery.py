import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "poverty_relief.settings")

app = Celery("poverty_relief")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
