"""What a request that meets PostgreSQL or Redis out of reach answers: 503 and "try later", whether the
failure came up in the view or after it (Django hands those to the error handlers, sometimes re-raised
as an error of its own); other failures keep their 400 and 500."""

import json

import pytest
import redis
from django.contrib.sessions.exceptions import SessionInterrupted
from django.db import OperationalError
from django.test import RequestFactory
from django.utils.translation import gettext

from poverty_relief.middleware import bad_request, server_error

DATABASE_DOWN = "The database is not answering, so this page cannot be shown or saved now. Try again shortly."
QUEUE_DOWN = "The task queue is not answering, so this cannot be done now. Try again in a few minutes."


def raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    """`exc` as Python leaves it when raised while `cause` was being handled."""
    try:
        try:
            if cause is not None:
                raise cause
        finally:
            raise exc
    except BaseException as caught:  # noqa: BLE001
        return caught


def session_interrupted_by(cause: BaseException) -> BaseException:
    return raised(SessionInterrupted("The session was deleted before the request completed."), cause)


def test_a_session_lost_with_the_database_is_503_not_400():
    request = RequestFactory().get("/registry/people/")
    response = bad_request(request, session_interrupted_by(OperationalError("server closed the connection")))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert '<html lang="zh-Hans">' in page and gettext(DATABASE_DOWN) in page
    assert "暂时无法使用" in page and "数据库暂时没有响应" in page


def test_any_other_bad_request_stays_400():
    request = RequestFactory().get("/registry/people/")
    assert bad_request(request, session_interrupted_by(ValueError("no"))).status_code == 400


@pytest.mark.parametrize(
    ("error", "message"),
    [(OperationalError("connection refused"), DATABASE_DOWN), (redis.ConnectionError("refused"), QUEUE_DOWN)],
)
def test_an_outage_outside_a_view_is_503_json_for_the_api(error, message):
    request = RequestFactory().get("/api/v1/me/")
    try:
        raise error
    except type(error):
        response = server_error(request)
    assert (response.status_code, json.loads(response.content)) == (503, {"detail": gettext(message)})


def test_any_other_server_error_stays_500():
    request = RequestFactory().get("/registry/people/")
    try:
        raise KeyError("x")
    except KeyError:
        assert server_error(request).status_code == 500
