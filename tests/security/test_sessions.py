"""Sessions end when the account closes, whichever way it closes, and lockout counts per account.

Already covered in tests/test_login.py: the fifth failure locks (page and API, counted together), the
lock lifts after 30 minutes, sessions expire after 30 idle minutes and each request pushes the expiry on,
logout ends the session and refuses GET.
"""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework.authtoken.models import Token

from accounts.models import Role, User
from accounts.services import user_create, user_set_active

pytestmark = pytest.mark.django_db

PASSWORD = "ruijin-clerk-2018"


def clerk(username: str) -> User:
    return user_create(username=username, password=PASSWORD, role=Role.COUNTY_CLERK, area_code="360781")


def signed_in(user: User) -> tuple[Client, str]:
    """A browser signed in through the login page, and an API token got through the token endpoint."""
    browser = Client()
    assert (
        browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    )
    answer = Client().post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    return browser, answer.json()["token"]


def still_in(browser: Client, token: str) -> tuple[int, int]:
    return (
        browser.get("/registry/people/").status_code,
        Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code,
    )


@pytest.mark.parametrize("how", ["service", "admin"])
def test_closing_an_account_ends_its_sessions_and_token_at_once(how):
    user, other = clerk("ruijin"), clerk("ruijin2")
    browser, token = signed_in(user)
    other_browser, other_token = signed_in(other)
    assert still_in(browser, token) == (200, 200)

    if how == "service":
        user_set_active(user=user, active=False)
    else:  # the system administrator unticks "active" on the admin's change page
        admin = user_create(username="admin1", password=PASSWORD, role=Role.SYSADMIN, area_code="360000")
        page = Client()
        page.force_login(admin)
        form = {
            "username": user.username, "role": user.role, "area": user.area_id, "first_name": "",
            "last_name": "", "email": "", "last_login_0": "", "last_login_1": "",
            "date_joined_0": "2018-02-24", "date_joined_1": "08:00:00",
        }  # fmt: skip
        response = page.post(f"/admin/accounts/user/{user.pk}/change/", form)
        assert response.status_code == 302, response.content.decode()[:3000]
        assert not User.objects.get(pk=user.pk).is_active

    assert still_in(browser, token) == (302, 401)
    assert not Token.objects.filter(user=user).exists()
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    # Someone else's are untouched.
    assert still_in(other_browser, other_token) == (200, 200)

    # Opening the account again revives nothing: a stolen cookie or token stays dead.
    user_set_active(user=User.objects.get(pk=user.pk), active=True)
    assert still_in(browser, token) == (302, 401)


def test_an_inactive_account_cannot_sign_in_nor_get_a_token():
    user = clerk("ruijin")
    user_set_active(user=user, active=False)
    assert Client().post("/accounts/login/", {"username": "ruijin", "password": PASSWORD}).status_code == 200
    answer = Client().post("/api/v1/auth/token/", {"username": "ruijin", "password": PASSWORD})
    assert answer.status_code == 400


def test_lockout_counts_per_account_and_a_success_starts_the_count_again():
    clerk("ruijin"), clerk("ningdu")
    browser = Client()

    def fail(username):
        return browser.post("/accounts/login/", {"username": username, "password": "wrong-password"})

    for _ in range(4):
        assert fail("ruijin").status_code == 200
    # Four failures, then the right password: in, and the count starts again.
    assert browser.post("/accounts/login/", {"username": "ruijin", "password": PASSWORD}).status_code == 302
    browser.post("/accounts/logout/")
    for _ in range(4):
        assert fail("ruijin").status_code == 200
    assert fail("ruijin").status_code == 429
    # Another account from the same browser (county offices share one address) is not locked.
    assert browser.post("/accounts/login/", {"username": "ningdu", "password": PASSWORD}).status_code == 302


def test_a_locked_account_keeps_its_existing_token_out_of_new_ones_only():
    """The lock is on signing in: an API token got before it goes on working until the account closes."""
    user = clerk("ruijin")
    _browser, token = signed_in(user)
    api = Client()
    for _ in range(5):
        api.post("/api/v1/auth/token/", {"username": "ruijin", "password": "nope"})
    assert api.post("/api/v1/auth/token/", {"username": "ruijin", "password": PASSWORD}).status_code == 429
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
