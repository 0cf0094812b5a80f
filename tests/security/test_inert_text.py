"""Text that looks like markup, SQL or a spreadsheet formula is stored as it was typed and shown as text
everywhere: escaped on every page that shows it, a string cell (never a formula) in the export, and no
page can run a script the Content-Security-Policy does not allow.

Already covered elsewhere: the CSP header on every page for every role (tests/test_offline.py), the
formula defence of each export cell type (tests/beneficiaries/test_roster_workbooks.py).
"""

import html
import re
from datetime import date
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from openpyxl import load_workbook

from beneficiaries.models import Household, LifeStatus, Person
from beneficiaries.services import (
    household_deactivate,
    household_register,
    household_update,
    person_register,
    person_set_life_status,
    person_update,
    transfer_request,
)
from tests.beneficiaries.factories import household_data, location, person_data
from tests.cast import NINGDU, RUIJIN, CastTestCase

MARKUP = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</textarea><svg onload=alert(1)>"]
SQL = ["'; DROP TABLE beneficiaries_person; --", "钟' OR '1'='1"]
FORMULAS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1", "＝1+1"]
TEMPLATE = ["{{ 7|add:7 }}{% now 'Y' %}"]
PAYLOADS = MARKUP + SQL + FORMULAS + TEMPLATE


class ActiveContent(HTMLParser):
    """What a browser would run: scripts without src, event-handler attributes, javascript: URLs, and the
    elements the payloads would inject."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") or tag in ("img", "svg", "iframe", "object"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}>")


def active_content(page: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(page)
    return parser.found


def escaped(text: str) -> str:
    """How Django's autoescape writes the text into a page."""
    return html.escape(text, quote=True)


class InertTextTest(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        clerk = cls.cast["ruijin_clerk"]
        cls.people, cls.households = [], []
        for n, payload in enumerate(PAYLOADS):
            household = household_register(actor=clerk, data=household_data(RUIJIN, head_name=payload[:50]))
            person = person_register(
                actor=clerk,
                data=person_data(RUIJIN, sequence=101 + 2 * n, name=payload[:50], household=household.pk)
                | {"relation_to_head": "head"},
            )
            # An edit, so that the payload is also a "before" or "after" on the history pages.
            person = person_update(
                actor=clerk,
                person=person,
                data=person_data(RUIJIN, sequence=101 + 2 * n, name=payload[:50], phone="13800000000")
                | {"household": household.pk, "relation_to_head": "head"},
                expected_version=person.version,
            )
            cls.people.append(person)
            cls.households.append(household)
        # Reasons and notes are free text too.
        cls.moved = person_register(actor=clerk, data=person_data(RUIJIN, sequence=301, name="钟秀兰"))
        transfer_request(actor=clerk, person=cls.moved, data=location(NINGDU), reason=MARKUP[1])
        cls.deceased = person_register(actor=clerk, data=person_data(RUIJIN, sequence=303, name="钟根生"))
        person_set_life_status(
            actor=clerk,
            person=cls.deceased,
            status=LifeStatus.DECEASED,
            effective_date=date(2018, 5, 1),
            reason=MARKUP[0],
            expected_version=cls.deceased.version,
        )
        empty = household_register(actor=clerk, data=household_data(RUIJIN, head_name="钟长生"))
        household_deactivate(actor=clerk, household=empty, reason=MARKUP[2], expected_version=empty.version)
        cls.empty = empty
        changed = household_register(actor=clerk, data=household_data(RUIJIN, head_name="钟福生"))
        household_update(
            actor=clerk,
            household=changed,
            data=household_data(RUIJIN, head_name=SQL[0]),
            expected_version=changed.version,
        )
        cls.changed = changed

    def test_the_text_is_stored_as_typed(self):
        stored = [Person.objects.get(pk=p.pk).name for p in self.people]
        self.assertEqual(stored, [p[:50].strip() for p in PAYLOADS])
        self.assertEqual(Household.objects.get(pk=self.changed.pk).head_name, SQL[0])
        self.assertTrue(Person.objects.filter(county_code=RUIJIN).exists())  # no table was dropped

    def pages(self) -> dict[str, str]:
        urls = ["/registry/people/", "/registry/households/", "/registry/transfers/"]
        urls += ["/registry/people/?q=" + quote(p.strip()[:8]) for p in MARKUP + SQL]
        for person in [*self.people, self.moved, self.deceased]:
            urls += [f"/registry/people/{person.pk}/", f"/registry/people/{person.pk}/history/"]
        for household in [*self.households, self.empty, self.changed]:
            urls += [f"/registry/households/{household.pk}/", f"/registry/households/{household.pk}/history/"]
        pages = {}
        for url in urls:
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, url)
            pages[url] = response.content.decode()
        return pages

    def test_every_page_shows_the_text_escaped(self):
        for role in ("ruijin_clerk", "ganzhou_reviewer", "province_officer"):
            self.login(role)
            pages = self.pages()
            for url, page in pages.items():
                with self.subTest(role=role, url=url):
                    self.assertEqual(active_content(page), [])
                    for payload in MARKUP + SQL:
                        raw = payload.strip()
                        if raw in page:
                            self.assertEqual(escaped(raw), raw, f"{raw!r} unescaped")
            everywhere = "".join(pages.values())
            for payload in PAYLOADS:
                with self.subTest(role=role, payload=payload):
                    self.assertIn(escaped(payload[:50].strip()), everywhere)

    def test_the_export_holds_each_text_as_a_text_cell(self):
        self.login("ruijin_clerk")
        response = self.client.get("/registry/export.xlsx")
        self.assertEqual(response.status_code, 200)
        book = load_workbook(BytesIO(response.content))
        cells = [cell for row in book.active.iter_rows() for cell in row if isinstance(cell.value, str)]
        self.assertFalse([c.coordinate for c in book.active._cells.values() if c.data_type == "f"])
        for payload in PAYLOADS:
            value = payload[:50].strip()
            with self.subTest(payload=payload):
                found = [c for c in cells if c.value == value]
                self.assertTrue(found, f"{value!r} is not in the export")
                for cell in found:
                    self.assertEqual(cell.data_type, "s")
                    if value.startswith(("=", "+", "-", "@", "＝")):
                        self.assertTrue(cell.quotePrefix, f"{cell.coordinate} {value!r} has no quote prefix")

    def test_the_api_answers_json_that_is_not_sniffed(self):
        self.login("ruijin_clerk")
        response = self.client.get(f"/api/v1/persons/{self.people[0].pk}/")
        self.assertEqual(response.json()["name"], MARKUP[0])
        self.assertEqual(response["Content-Type"], "application/json")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")


def test_no_template_needs_unsafe_inline():
    """The policy allows scripts and styles from this site only: a template with an inline script, an
    event-handler attribute, a javascript: URL, a style attribute or element would break or need
    'unsafe-inline'."""
    offending = []
    patterns = [
        r"<script(?![^>]*\bsrc=)[^>]*>",
        r"\son[a-z]+\s*=",
        r"javascript:",
        r"\sstyle\s*=",
        r"<style\b",
        r"\shx-on(:|-|\s*=)",
    ]
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(directory).rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for pattern in patterns:
                for match in re.finditer(pattern, text, re.IGNORECASE):
                    line = text.count("\n", 0, match.start()) + 1
                    offending.append(f"{path.relative_to(directory)}:{line}: {match.group(0)!r}")
    assert offending == []


def test_the_policy_forbids_inline_code():
    from poverty_relief.middleware import POLICY

    directives = dict(d.split(" ", 1) for d in POLICY.split("; "))
    for directive in ("default-src", "script-src", "style-src"):
        assert directives[directive] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in POLICY
