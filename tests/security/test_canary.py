"""Canaries and whole ID numbers, over every GET route of the permission matrix (tests/test_permissions.py).

Unique markers are planted in 宁都县's data (a person's name, ID and phone, a household head, an enrolment
note, a facility, the name of an uploaded file); a 瑞金市 clerk, by session and by API token, must never
meet one: not on any page, list, search, export, error page or API answer, whatever the query names
(the marker itself as the search text, or 宁都县's ids as filters). Exports are unpacked before searching.

Whole ID numbers: roles that may not see them (赣州市 reviewer, province officer, system administrator)
must not meet one anywhere, and no list (page or API) shows one to anybody.
"""

import re
import tempfile
import zipfile
from io import BytesIO
from unittest import mock
from urllib.parse import urlencode

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.authtoken.models import Token

from beneficiaries.models import Person
from beneficiaries.services import household_register, person_register
from imports.services import import_create
from programs.enrollments import check_application, enrollment_apply
from programs.facilities import facility_create
from tests.beneficiaries.factories import household_data, location, person_data
from tests.beneficiaries.permission_rows import registry_objects
from tests.cast import NINGDU, CastTestCase
from tests.exports.permission_rows import export_objects
from tests.imports.permission_rows import import_objects
from tests.imports.rosters import person_row, workbook
from tests.programs.permission_rows import program_objects
from tests.test_permissions import EXPECTATIONS

MARKERS = {
    "person": "宁哨兵甲",
    "head": "宁哨兵乙",
    "phone": "19930730731",
    "note": "宁都哨兵备注丙",
    "facility": "宁都哨兵托养中心丁",
    "file": "宁都哨兵花名册戊",
}
WHOLE_ID = re.compile(rb"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
NO_WHOLE_NUMBERS = ("ganzhou_reviewer", "province_officer", "sysadmin")


def readable(response) -> bytes:
    """The body as text can be searched: an .xlsx (a zip) is unpacked, every part joined."""
    body = response.content if not response.streaming else b"".join(response.streaming_content)
    headers = "".join(f"{k}: {v}\n" for k, v in response.items()).encode()
    if body[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(BytesIO(body)) as archive:
            body = b"".join(archive.read(name) for name in archive.namelist())
    return headers + body


def get_urls(objects) -> list[str]:
    return sorted(
        {
            case.url.format(**objects)
            for cases in EXPECTATIONS.values()
            for case in cases
            if case.method == "get"
        }
    )


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="canary-media-"))
class CanaryTest(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        from accounts.models import User

        cls.cast["unassigned"] = User.objects.create_user(username="unassigned", password="x")
        cls.objects = {**registry_objects(cls.cast), **import_objects(cls.cast), **program_objects(cls.cast)}
        clerk = cls.cast["ningdu_clerk"]
        household = household_register(actor=clerk, data=household_data(NINGDU, head_name=MARKERS["head"]))
        person = person_register(
            actor=clerk,
            data=person_data(NINGDU, sequence=731, name=MARKERS["person"], phone=MARKERS["phone"])
            | {"household": household.pk, "relation_to_head": "head"},
        )
        facility = facility_create(
            actor=clerk,
            data={**location(NINGDU), "name": MARKERS["facility"], "kind": "sheltered", "capacity": 9},
        )
        application = check_application(
            actor=clerk, data={"benefit_type": "M09-RURAL-TRAINING", "year": 2018, "note": MARKERS["note"]},
            person=person,
        )  # fmt: skip
        enrollment = enrollment_apply(actor=clerk, application=application)
        upload = SimpleUploadedFile(f"{MARKERS['file']}.xlsx", workbook([person_row(3, NINGDU)]))
        with mock.patch("imports.tasks.read_import.delay"):
            job = import_create(actor=clerk, kind="roster", upload=upload)
        cls.canary = {
            "person": person.pk, "household": household.pk, "facility": facility.pk,
            "enrollment": enrollment.pk, "job": job.pk, "township": person.township_code,
        }  # fmt: skip
        cls.id_number = person.id_number
        # Written after the canaries are planted, so that 宁都县's export file holds them.
        cls.objects.update(export_objects(cls.cast))
        cls.ruijin_token = Token.objects.create(user=cls.cast["ruijin_clerk"]).key

    def variants(self, url: str) -> list[str]:
        """A list as listed, searched for the markers, and filtered by 宁都县's records. The searches are
        beginnings of the markers (name searches match beginnings), so that a page echoing the search
        box is not taken for a leak: only a record's whole marker is one."""
        if re.search(r"/\d+/|\.xlsx$|/new/", url):
            return [url]
        join = "&" if "?" in url else "?"
        ids = self.canary
        searches = {"q": "宁哨兵", "search": "宁都哨兵", "name": "宁都哨兵"}
        filters = {
            "q": self.id_number[:10], "person": ids["person"], "household": ids["household"],
            "facility": ids["facility"], "county": NINGDU, "township": ids["township"], "job": ids["job"],
        }  # fmt: skip
        return [url] + [f"{url}{join}{urlencode(query)}" for query in (searches, filters)]

    def leaks(self, body: bytes) -> list[str]:
        found = [name for name, marker in MARKERS.items() if marker.encode() in body]
        if self.id_number.encode() in body:
            found.append("id_number")
        return found

    def direct_urls(self) -> list[str]:
        ids = self.canary
        return [
            f"/registry/people/{ids['person']}/", f"/registry/people/{ids['person']}/history/",
            f"/registry/households/{ids['household']}/", f"/api/v1/persons/{ids['person']}/",
            f"/api/v1/persons/{ids['person']}/eligibility/", f"/api/v1/households/{ids['household']}/",
            f"/facilities/{ids['facility']}/", f"/api/v1/facilities/{ids['facility']}/",
            f"/enrollments/{ids['enrollment']}/", f"/api/v1/enrollments/{ids['enrollment']}/",
            f"/imports/{ids['job']}/", f"/api/v1/imports/{ids['job']}/",
        ]  # fmt: skip

    def test_no_canary_reaches_a_ruijin_clerk(self):
        self.login("ruijin_clerk")
        token = {"HTTP_AUTHORIZATION": f"Token {self.ruijin_token}"}
        checked = 0
        for url in get_urls(self.objects):
            for variant in self.variants(url):
                responses = [self.client.get(variant, follow=True)]
                if variant.startswith("/api/v1/"):
                    self.client.logout()
                    responses.append(self.client.get(variant, **token))
                    self.login("ruijin_clerk")
                for response in responses:
                    with self.subTest(url=variant):
                        self.assertEqual(self.leaks(readable(response)), [])
                    checked += 1
        # The detail pages and API answers of 宁都县's own canaries: 404, and silent.
        for url in self.direct_urls():
            response = self.client.get(url)
            with self.subTest(url=url):
                self.assertEqual(response.status_code, 404)
                self.assertEqual(self.leaks(readable(response)), [])
        self.assertGreater(checked, 250)

    def test_the_canaries_are_there_to_be_found(self):
        """The same sweep finds every marker for 宁都县's clerk: the markers are where the sweep looks."""
        self.login("ningdu_clerk")
        found = set()
        lists = [url for url in get_urls(self.objects) if not re.search(r"/\d+/", url)]
        for url in [*lists, *self.direct_urls()]:
            found.update(self.leaks(readable(self.client.get(url))))
        self.assertEqual(found, {*MARKERS, "id_number"})

    def test_no_whole_id_number_reaches_a_role_that_may_not_see_it(self):
        self.assertTrue(Person.objects.filter(county_code__in=["360781", NINGDU]).count() >= 3)
        for role in NO_WHOLE_NUMBERS:
            self.login(role)
            for url in get_urls(self.objects):
                response = self.client.get(url, follow=True)
                with self.subTest(role=role, url=url):
                    self.assertEqual(WHOLE_ID.findall(readable(response)), [])

    def test_no_list_shows_a_whole_id_number_to_anyone(self):
        lists = [url for url in get_urls(self.objects) if not re.search(r"/\d+/", url)]
        lists += ["/registry/people/?q=3607", "/api/v1/persons/?q=3607", "/registry/people/?q=360730"]
        self.assertIn("/api/v1/persons/", lists)
        for role in ("ruijin_clerk", "ningdu_clerk"):  # a supervisor's lists are a clerk's
            self.login(role)
            for url in lists:
                response = self.client.get(url)
                if response.get("Content-Type", "").split(";")[0] not in ("text/html", "application/json"):
                    continue  # the county's own exports carry whole numbers, and are logged
                with self.subTest(role=role, url=url):
                    self.assertEqual(WHOLE_ID.findall(readable(response)), [])
