import csv
import io
from datetime import date

import tablib

from accounts.models import User
from beneficiaries.models import Person
from beneficiaries.resources import PERSON_COLUMNS, PersonExportResource, PersonResource
from beneficiaries.services import person_register
from beneficiaries.validation import make_id_number
from tests.cast import NINGDU, RUIJIN, CastTestCase

from .factories import location, person_data

HEADERS = [
    "县",
    "乡镇",
    "村",
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "残疾证号",
    "残疾类别",
    "残疾等级",
    "联系电话",
]
EXPORT_URL = "/admin/beneficiaries/person/export/"
CSV_FORMAT = "1"  # the admin offers XLSX, then CSV


def register(actor, county: str, sequence: int, **extra) -> Person:
    return person_register(actor=actor, data=person_data(county, sequence=sequence, **extra))


def export_form(**overrides) -> dict:
    fields = {f"personexportresource_{name}": "on" for name in PERSON_COLUMNS}
    return {"format": CSV_FORMAT, **fields, **overrides}


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


class PersonResourceTest(CastTestCase):
    def setUp(self):
        self.man = register(self.cast["ruijin_clerk"], RUIJIN, 7, name="钟长生")
        self.woman = register(
            self.cast["ruijin_clerk"], RUIJIN, 8, name="钟秀英", category=1, level=3, phone=""
        )

    def test_an_export_has_the_roster_columns_and_values(self):
        dataset = PersonResource().export(queryset=Person.objects.order_by("id"))
        self.assertEqual(dataset.headers, HEADERS)
        man, woman = dataset.dict
        place = location(RUIJIN)
        self.assertEqual(
            man,
            {
                "县": RUIJIN, "乡镇": place["township_code"], "村": place["village_code"], "姓名": "钟长生",
                "性别": "男", "出生日期": "1975-03-14", "身份证号": self.man.id_number,
                "残疾证号": f"{self.man.id_number}42", "残疾类别": "肢体", "残疾等级": "二级",
                "联系电话": "13907970001",
            },
        )  # fmt: skip
        self.assertEqual(
            (woman["性别"], woman["残疾类别"], woman["残疾等级"], woman["联系电话"]),
            ("女", "视力", "三级", ""),
        )

    def test_the_admin_export_masks_the_numbers(self):
        row = PersonExportResource().export(queryset=Person.objects.filter(pk=self.man.pk)).dict[0]
        self.assertEqual(row["身份证号"], f"{RUIJIN}********{self.man.id_number[-4:]}")
        self.assertEqual(row["残疾证号"], f"{RUIJIN}********{self.man.id_number[-4:]}**")

    def test_an_import_derives_gender_birth_date_and_county_and_reports_a_bad_id(self):
        place = location(NINGDU)
        good = make_id_number(NINGDU, date(1980, 6, 2), 11)
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        dataset = tablib.Dataset(
            headers=["乡镇", "村", "姓名", "身份证号", "残疾证号", "残疾类别", "残疾等级", "联系电话"]
        )
        for number in (good, bad):
            dataset.append(
                [place["township_code"], place["village_code"], "黄桂兰", number, "", "4", "一级", ""]
            )

        result = PersonResource().import_data(dataset, dry_run=False, use_transactions=True)

        self.assertEqual((result.totals["new"], result.totals["invalid"]), (1, 1))
        self.assertIn("id_number", result.invalid_rows[0].error_dict)
        person = Person.objects.get(id_number=good)
        self.assertEqual(
            (person.county_code, person.gender, person.birth_date, person.certificate_number),
            (NINGDU, "M", date(1980, 6, 2), None),
        )
        self.assertEqual((person.disability_category, person.disability_level), (4, 1))


class AdminExportTest(CastTestCase):
    """The admin lets in staff only (others go to its login page); inside, exporting takes the
    permission to view the records, and gives the user's own area only."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        register(cls.cast["ruijin_clerk"], RUIJIN, 7, name="钟长生")
        register(cls.cast["ningdu_clerk"], NINGDU, 9, name="黄桂兰")
        ruijin = cls.cast["ruijin_clerk"].area
        cls.ruijin_admin = User.objects.create_superuser("ruijin_admin", password="x", area=ruijin)

    def test_a_user_who_may_view_people_exports_those_of_their_area(self):
        self.client.force_login(self.ruijin_admin)
        self.assertEqual(self.client.get(EXPORT_URL).status_code, 200)
        response = self.client.post(EXPORT_URL, export_form())
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response["Content-Disposition"])
        rows = csv_rows(response)
        self.assertEqual([row["姓名"] for row in rows], ["钟长生"])
        self.assertEqual(list(rows[0]), HEADERS)
        self.assertIn("********", rows[0]["身份证号"])

    def test_the_administrator_without_the_view_permission_is_refused(self):
        self.login("sysadmin")
        self.assertEqual(self.client.get(EXPORT_URL).status_code, 403)
        self.assertEqual(self.client.post(EXPORT_URL, export_form()).status_code, 403)

    def test_the_export_follows_the_view_permission(self):
        from django.contrib.auth.models import Permission

        sysadmin = self.login("sysadmin")
        sysadmin.user_permissions.add(Permission.objects.get(codename="view_person"))
        rows = csv_rows(self.client.post(EXPORT_URL, export_form()))
        self.assertEqual(sorted(row["姓名"] for row in rows), ["钟长生", "黄桂兰"])  # the province's

    def test_staff_only_the_others_are_sent_to_the_admin_login(self):
        for name in ("ruijin_clerk", "province_officer", None):
            with self.subTest(name):
                self.login(name)
                response = self.client.get(EXPORT_URL)
                self.assertEqual(response.status_code, 302)
                self.assertTrue(response["Location"].startswith("/admin/login/"))

    def test_household_export_responds(self):
        self.client.force_login(self.ruijin_admin)
        self.assertEqual(self.client.get("/admin/beneficiaries/household/export/").status_code, 200)
