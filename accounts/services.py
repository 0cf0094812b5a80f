from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from areas.models import Area

from .models import Role, User


class AccountError(Exception):
    """A request about accounts that cannot be carried out; the message is for the user."""


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: Role,
    area_code: str,
    full_name: str = "",
    check_password: bool = True,
) -> User:
    area = Area.objects.filter(code=area_code).first()
    if area is None:
        raise AccountError(_("No area has the code %(code)s.") % {"code": area_code})
    if User.objects.filter(username=username).exists():
        raise AccountError(_("The username %(username)s is taken.") % {"username": username})
    user = User(username=username, role=role, area=area, first_name=full_name)
    _validate(user, password, check_password)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_update_role(*, user: User, role: Role, area_code: str, password: str | None = None) -> User:
    """Bring an existing account to the given role and area (and password, when one is given)."""
    area = Area.objects.filter(code=area_code).first()
    if area is None:
        raise AccountError(_("No area has the code %(code)s.") % {"code": area_code})
    user.role, user.area = role, area
    _validate(user, password, check_password=password is not None)
    if password is not None:
        user.set_password(password)
    user.save()
    return user


def _validate(user: User, password: str | None, check_password: bool) -> None:
    try:
        user.full_clean(exclude=["password"])
        if check_password and password is not None:
            validate_password(password, user)
    except ValidationError as exc:
        raise AccountError("; ".join(exc.messages)) from exc


@transaction.atomic
def user_set_active(*, user: User, active: bool) -> User:
    """Open or close an account. Closing it ends its sessions and API token at once (see
    `end_user_sessions`), so that opening it again later revives none of them."""
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user


def end_user_sessions(user: User) -> int:
    """Delete the user's live sessions and API token; returns how many sessions went.

    Sessions are stored signed and encoded, not by user: each live one is read. There are few (30 idle
    minutes end them, and beat clears them hourly), so reading them all is cheap.
    """
    Token.objects.filter(user=user).delete()
    ids = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    Session.objects.filter(pk__in=ids).delete()
    return len(ids)


def end_sessions_of_inactive_user(sender, instance: User, **kwargs) -> None:
    """Whatever closed the account (the service, the admin, a script saving the user): end its sessions."""
    if not instance.is_active and instance.pk:
        end_user_sessions(instance)
