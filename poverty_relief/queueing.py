"""Handing a task to the queue from a request: a broker out of reach is the user's "try again later"."""

from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerUnavailable


def enqueue(task, *args, refused: type[Exception]) -> None:
    """`task.delay(*args)`; if the broker cannot be reached, `refused` (the caller's refusal) with the
    message that the background service is not available, to try again in a few minutes."""
    try:
        task.delay(*args)
    except BrokerUnavailable as exc:
        raise refused(_("The background service is not available; try again in a few minutes.")) from exc
