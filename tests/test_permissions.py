"""Every URL pattern, every member of the cast, the status each one must get.

Besides the cast, an agency system holding a 瑞金市 clerk's API token (no session): on the API it gets
what that clerk gets; a page does not take the token, so there it is an anonymous visitor.

A new URL pattern without a row here fails `test_every_url_pattern_has_an_expectation`: decide who may
reach it before it ships.
"""

import tempfile

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from .beneficiaries.permission_rows import REGISTRY_API, REGISTRY_PAGES, registry_objects
from .cast import GANZHOU, NINGDU, RUIJIN, CastTestCase
from .exports.permission_rows import EXPORT_PAGES, export_objects
from .imports.permission_rows import IMPORT_API, IMPORT_PAGES, import_objects
from .permission_table import (
    GANZHOU_READERS,
    LOGIN,
    NINGDU_READERS,
    ROLES,
    RUIJIN_READERS,
    Case,
    everyone,
    scoped,
)
from .programs.permission_rows import PROGRAM_API, PROGRAM_PAGES, program_objects
from .reporting.dashboard_rows import DASHBOARD_PAGES
from .reporting.permission_rows import REPORTING_API, reporting_objects

CORE: dict[str, list[Case]] = {
    "": [Case("/", everyone(200, anonymous=LOGIN))],
    "accounts/login/": [Case("/accounts/login/", everyone(302, anonymous=200))],
    "accounts/logout/": [
        Case("/accounts/logout/", everyone(302), method="post"),
        Case("/accounts/logout/", everyone(405)),
    ],
    "areas/": [Case("/areas/", everyone(302, unassigned=403))],
    "areas/<str:code>/": [
        Case(f"/areas/{RUIJIN}/", scoped(RUIJIN_READERS, LOGIN)),
        Case(f"/areas/{NINGDU}/", scoped(NINGDU_READERS, LOGIN)),
        Case(f"/areas/{GANZHOU}/", scoped(GANZHOU_READERS, LOGIN)),
        Case(f"/areas/{RUIJIN}100/", scoped(RUIJIN_READERS, LOGIN)),
        Case("/areas/360000/", scoped({"province_officer", "sysadmin"}, LOGIN)),
        Case("/areas/999999/", {**everyone(404, anonymous=LOGIN), "unassigned": 403}),
    ],
    "healthz": [Case("/healthz", everyone((200, 503)))],
    "api/v1/auth/token/": [
        Case("/api/v1/auth/token/", everyone(400), method="post"),
        Case("/api/v1/auth/token/", everyone(405)),
    ],
    "api/v1/me/": [Case("/api/v1/me/", everyone(200, anonymous=401))],
    "api/v1/^areas/$": [
        Case("/api/v1/areas/", everyone(200, anonymous=401, unassigned=403)),
        # Nobody writes areas: the permission check answers before the method check.
        Case("/api/v1/areas/", everyone(403, anonymous=401), method="post"),
    ],
    "api/v1/^areas/(?P<code>\\d{6}|\\d{9}|\\d{12})/$": [
        Case(f"/api/v1/areas/{RUIJIN}/", scoped(RUIJIN_READERS, 401)),
        Case(f"/api/v1/areas/{NINGDU}/", scoped(NINGDU_READERS, 401)),
        Case(f"/api/v1/areas/{RUIJIN}/", everyone(403, anonymous=401), method="delete"),
    ],
    "api/schema/": [Case("/api/schema/", everyone(200, anonymous=401))],
    "api/docs/": [Case("/api/docs/", everyone(200, anonymous=401))],
    # The admin is for system administrators; others are sent to its login page.
    "admin/*": [
        Case("/admin/", everyone(302, sysadmin=200)),
        Case("/admin/accounts/user/", everyone(302, sysadmin=200)),
        Case("/admin/areas/area/", everyone(302, sysadmin=200)),
        # The administrator manages accounts; the registry is not theirs to read.
        Case("/admin/beneficiaries/person/", everyone(302, sysadmin=403)),
    ],
}

EXPECTATIONS: dict[str, list[Case]] = {
    **CORE,
    **REGISTRY_PAGES,
    **REGISTRY_API,
    **IMPORT_PAGES,
    **PROGRAM_PAGES,
    **IMPORT_API,
    **PROGRAM_API,
    **DASHBOARD_PAGES,
    **REPORTING_API,
    **EXPORT_PAGES,
}


def iter_routes(patterns=None, prefix=""):
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route == "admin/":
                yield "admin/*"
                continue
            yield from iter_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def test_every_url_pattern_has_an_expectation():
    routes = set(iter_routes())
    missing = sorted(routes - set(EXPECTATIONS))
    assert not missing, f"URL patterns with no permission expectation: {missing}"
    stale = sorted(set(EXPECTATIONS) - routes)
    assert not stale, f"Expectations for URL patterns that no longer exist: {stale}"


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="matrix-media-"))
class PermissionMatrixTest(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        from accounts.models import User

        cls.cast["unassigned"] = User.objects.create_user(username="unassigned", password="x")
        cls.objects = {
            **registry_objects(cls.cast),
            **import_objects(cls.cast),
            **program_objects(cls.cast),
            **reporting_objects(cls.cast),
            **export_objects(cls.cast),
        }

    TOKEN_ROLE = "ruijin_token"

    def request(self, case: Case, **headers):
        call = getattr(self.client, case.method)
        url = case.url.format(**self.objects)
        if case.method == "get":
            return call(url, **headers)
        # A body may name the matrix's objects too: {"person": "{ruijin_person}"}.
        data = {k: v.format(**self.objects) if isinstance(v, str) else v for k, v in case.data.items()}
        return call(url, data, content_type="application/json", **headers)

    def request_undone(self, case: Case, **headers):
        """Each request starts from the same data: a write that succeeds must not change what the next
        role meets."""
        savepoint = transaction.savepoint()
        try:
            return self.request(case, **headers)
        finally:
            transaction.savepoint_rollback(savepoint)

    def test_matrix_with_an_api_token(self):
        from rest_framework.authtoken.models import Token

        token = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=self.cast['ruijin_clerk']).key}"}
        checked = 0
        for route, cases in EXPECTATIONS.items():
            acts_as = "ruijin_clerk" if route.startswith("api/") else None
            for case in cases:
                with self.subTest(route=route, url=case.url, method=case.method, role=self.TOKEN_ROLE):
                    self.login(None)
                    response = self.request_undone(case, **token)
                    expected = case.status_for(acts_as)
                    allowed = expected if isinstance(expected, tuple) else (expected,)
                    self.assertIn(response.status_code, allowed)
                    checked += 1
        self.assertEqual(checked, sum(len(cases) for cases in EXPECTATIONS.values()))

    def test_matrix(self):
        checked = 0
        for route, cases in EXPECTATIONS.items():
            for case in cases:
                for role in ROLES:
                    with self.subTest(route=route, url=case.url, method=case.method, role=role):
                        self.login(role)
                        response = self.request_undone(case)
                        expected = case.status_for(role)
                        allowed = expected if isinstance(expected, tuple) else (expected,)
                        self.assertIn(response.status_code, allowed)
                        checked += 1
        self.assertGreaterEqual(checked, len(EXPECTATIONS) * len(ROLES))


@pytest.mark.django_db
def test_anonymous_pages_redirect_to_the_login_page(client):
    response = client.get(f"/areas/{RUIJIN}/")
    assert response["Location"] == f"/accounts/login/?next=/areas/{RUIJIN}/"
