"""No page may load anything from another host: county offices sit on an intranet."""

import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.test import override_settings

from .beneficiaries.permission_rows import registry_objects
from .cast import CastTestCase
from .exports.permission_rows import export_objects
from .imports.permission_rows import import_objects
from .programs.permission_rows import program_objects
from .reporting.permission_rows import reporting_objects
from .test_permissions import EXPECTATIONS, ROLES

URL_ATTRIBUTES = {"src", "href", "action", "srcset", "poster", "data", "formaction", "xlink:href"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")


class ReferenceCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.references: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and name in URL_ATTRIBUTES:
                self.references.extend(v.strip().split(" ")[0] for v in value.split(",") if v.strip())
            if value and name == "style":
                self.references.extend(m.group(1) or m.group(2) for m in CSS_URL.finditer(value))


def foreign(reference: str) -> bool:
    parts = urlsplit(reference)
    return bool(parts.netloc) or parts.scheme not in {"", "data", "mailto"}


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="offline-media-"))
class EveryPageStaysHomeTest(CastTestCase):
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

    def test_every_page_references_only_this_site(self):
        pages = 0
        for cases in EXPECTATIONS.values():
            for case in cases:
                if case.method != "get":
                    continue
                for role in ROLES:
                    self.login(role)
                    response = self.client.get(case.url.format(**self.objects), follow=True)
                    if "text/html" not in response.get("Content-Type", ""):
                        continue
                    collector = ReferenceCollector()
                    collector.feed(response.content.decode())
                    with self.subTest(url=case.url, role=role):
                        self.assertEqual([r for r in collector.references if foreign(r)], [])
                        self.assertIn("default-src 'self'", response["Content-Security-Policy"])
                        self.assertNotIn("unsafe-inline", response["Content-Security-Policy"])
                    pages += 1
        self.assertGreater(pages, 50)

    def test_pages_have_no_inline_scripts(self):
        # The policy forbids them; a page that relied on one would silently break.
        self.login("province_officer")
        for url in ("/", "/areas/360000/", "/api/docs/"):
            page = self.client.get(url).content.decode()
            with self.subTest(url=url):
                self.assertEqual(re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", page), [])

    def test_static_files_reference_only_this_site(self):
        for directory in settings.STATICFILES_DIRS:
            for path in Path(directory).rglob("*.css"):
                text = path.read_text(encoding="utf-8")
                refs = [m.group(1) or m.group(2) for m in CSS_URL.finditer(text)]
                with self.subTest(path=str(path)):
                    self.assertEqual([r for r in refs if foreign(r)], [])
