from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.services import user_create

pytestmark = pytest.mark.django_db

PASSWORD = "ruijin-clerk-2018"


@pytest.fixture
def clerk():
    return user_create(username="ruijin", password=PASSWORD, role=Role.COUNTY_CLERK, area_code="360781")


def login(client, password, username="ruijin"):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_login_page_is_in_chinese(client):
    response = client.get(reverse("accounts:login"))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in page
    for text in ("登录", "用户名", "密码"):
        assert text in page


def test_a_clerk_logs_in_and_lands_on_the_county_home(client, clerk):
    response = login(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    page = client.get(reverse("home")).content.decode()
    assert "瑞金市" in page
    assert "县级经办" in page


def test_a_wrong_password_says_so_in_chinese(client, clerk):
    response = login(client, "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_fifth_failure_locks_the_account_even_for_the_right_password(client, clerk):
    for _ in range(4):
        assert login(client, "wrong-password").status_code == 200
    locked = login(client, "wrong-password")
    assert locked.status_code == 429
    assert "锁定" in locked.content.decode()
    assert AccessAttempt.objects.get(username="ruijin").failures_since_start == 5
    right = login(client, PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_lifts_after_thirty_minutes(client, clerk):
    for _ in range(5):
        login(client, "wrong-password")
    AccessAttempt.objects.filter(username="ruijin").update(
        attempt_time=timezone.now() - timedelta(minutes=31)
    )
    response = login(client, PASSWORD)
    assert response.status_code == 302


def test_api_token_and_its_lockout(client, clerk):
    url = reverse("api:token")
    ok = client.post(url, {"username": "ruijin", "password": PASSWORD}, content_type="application/json")
    assert ok.status_code == 200
    token = ok.json()["token"]
    me = client.get(reverse("api:me"), HTTP_AUTHORIZATION=f"Token {token}")
    assert me.json() == {
        "username": "ruijin",
        "role": "county_clerk",
        "area_code": "360781",
        "area_name": "瑞金市",
    }
    for _ in range(4):
        bad = client.post(url, {"username": "ruijin", "password": "nope"}, content_type="application/json")
        assert bad.status_code == 400
        assert bad.json()["detail"] == "用户名或密码错误。"
    fifth = client.post(url, {"username": "ruijin", "password": "nope"}, content_type="application/json")
    assert fifth.status_code == 429
    locked = client.post(url, {"username": "ruijin", "password": PASSWORD}, content_type="application/json")
    assert locked.status_code == 429
    assert "锁定" in locked.json()["detail"]


def test_api_token_request_needs_both_fields(client):
    response = client.post(reverse("api:token"), {"username": "ruijin"}, content_type="application/json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_failures_through_the_ui_and_the_api_add_up(client, clerk):
    for _ in range(3):
        login(client, "wrong-password")
    for _ in range(2):
        client.post(
            reverse("api:token"), {"username": "ruijin", "password": "nope"}, content_type="application/json"
        )
    assert login(client, PASSWORD).status_code == 429


def test_sessions_are_in_the_database_and_expire_after_thirty_idle_minutes(client, clerk, settings):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    login(client, PASSWORD)
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    # Each request pushes the expiry on: the timeout counts idle time, not time since login.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=5))
    client.get(reverse("home"))
    assert Session.objects.get(pk=session.pk).expire_date - timezone.now() > timedelta(minutes=29)


def test_an_idle_session_is_over(client, clerk):
    login(client, PASSWORD)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_logout_ends_the_session(client, clerk):
    login(client, PASSWORD)
    key = client.session.session_key
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("home")).status_code == 302


def test_logout_by_get_is_refused(client, clerk):
    login(client, PASSWORD)
    assert client.get(reverse("accounts:logout")).status_code == 405
