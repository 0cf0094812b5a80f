import logging
import sys

import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerUnreachable

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30

# Scripts, styles, images and fonts only from this site: county offices are on an intranet, and a page
# that pulls from elsewhere is a page that can be made to run someone else's code.
POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response


# PostgreSQL or Redis out of reach: a state to say "try later" about (503), not a fault of the page (500).
OUTAGES = (OperationalError, InterfaceError, redis.RedisError, BrokerUnreachable)


def _outage_message(exc: BaseException) -> str:
    if isinstance(exc, (redis.RedisError, BrokerUnreachable)):
        return _("The task queue is not answering, so this cannot be done now. Try again in a few minutes.")
    return _("The database is not answering, so this page cannot be shown or saved now. Try again shortly.")


def service_unavailable(request, exc: BaseException) -> HttpResponse:
    """503 with a Retry-After, as JSON for the API and as a page of its own elsewhere. The page is rendered
    without the request's context: its processors would ask the database that just failed."""
    logger.warning("%s %s: %s out of reach", request.method, request.path, type(exc).__name__, exc_info=exc)
    message = _outage_message(exc)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    """A view that finds PostgreSQL or Redis out of reach answers 503; nothing else is caught."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OUTAGES):
            return service_unavailable(request, exception)
        return None


def _outage_behind(exc: BaseException | None) -> BaseException | None:
    """The outage that caused `exc`, if one did: Django re-raises some failures as errors of its own."""
    while exc is not None:
        if isinstance(exc, OUTAGES):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def server_error(request):
    """handler500: an outage met outside a view is a 503 too."""
    if (outage := _outage_behind(sys.exc_info()[1])) is not None:
        return service_unavailable(request, outage)
    return defaults.server_error(request)


def bad_request(request, exception):
    """handler400: a session that could not be saved after the view, because the database went away
    meanwhile, reaches here as "session interrupted"; that is an outage as well."""
    if (outage := _outage_behind(exception)) is not None:
        return service_unavailable(request, outage)
    return defaults.bad_request(request, exception)
