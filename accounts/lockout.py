from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

LOCKED_STATUS = 429


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login gets: JSON for the API, the Chinese lockout page for the browser."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Too many failed logins: this account is locked for 30 minutes.")},
            status=LOCKED_STATUS,
        )
    return render(request, "accounts/locked_out.html", status=LOCKED_STATUS)
