import io
import tempfile
import zipfile
from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from areas.models import Area
from beneficiaries.errors import NotAllowed, RecordInvalid, StaleRecord
from programs.inspections import (
    MAX_EVIDENCE_BYTES,
    evidence_add,
    evidence_download_name,
    finding_add,
    inspection_create,
    is_overdue,
    rectification_add,
    rectification_close,
    rectification_search,
    rectification_update,
)
from programs.models import Evidence, Inspection, Rectification, RectificationStatus
from tests.cast import NINGDU, RUIJIN, CastTestCase

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def office_file(kind: str, *, macros: bool = False) -> bytes:
    if kind == "xlsx":
        book = Workbook()
        book.active["A1"] = "花名册"
        out = io.BytesIO()
        book.save(out)
        content = out.getvalue()
        if not macros:
            return content
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        if macros:
            archive.writestr("word/vbaProject.bin", b"\x00")
    return out.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="inspection-media-"))
class LedgerTestCase(CastTestCase):
    """瑞金's own self-check and 赣州's spot check of 瑞金 and of 宁都, one item each."""

    def setUp(self):
        translation.activate("zh-hans")
        self.addCleanup(translation.deactivate)
        self.today = timezone.localdate()
        self.ruijin_self, self.ruijin_item = self.make("ruijin_supervisor", RUIJIN, "self_check")
        self.ruijin_spot, self.spot_item = self.make("ganzhou_reviewer", RUIJIN, "spot_check")
        self.ningdu_spot, self.ningdu_item = self.make("ganzhou_reviewer", NINGDU, "spot_check")

    def make(self, actor, area, kind, *, deadline=None, issue="补齐两项补贴发放台帐"):
        actor = self.cast[actor]
        inspection = inspection_create(
            actor=actor,
            data={
                "area": area,
                "kind": kind,
                "date": self.today - timedelta(days=30),
                "team": "督查组",
                "subject": "脱贫攻坚工作督查",
            },
        )
        finding = finding_add(actor=actor, inspection=inspection, data={"description": "台帐不全"})
        item = self.add_item(actor, finding, area, deadline=deadline, issue=issue)
        return inspection, item

    def add_item(self, actor, finding, area, *, deadline=None, issue="补齐两项补贴发放台帐"):
        data = {
            "area": area,
            "issue": issue,
            "responsible_unit": "县残联",
            "deadline": deadline or self.today + timedelta(days=10),
        }
        return rectification_add(actor=actor, finding=finding, data=data)

    def attach(self, item, actor="ruijin_clerk", name="照片.png", content=PNG):
        return evidence_add(actor=self.cast[actor], item=item, upload=upload(name, content))


class CreateTest(LedgerTestCase):
    def create(self, actor, area, kind="self_check"):
        data = {"area": area, "kind": kind, "date": "2018-06-20", "team": "自查组", "subject": "自查"}
        return inspection_create(actor=self.cast[actor], data=data)

    def refused(self, actor, area, kind="self_check") -> dict:
        with self.assertRaises((RecordInvalid, NotAllowed)) as caught:
            self.create(actor, area, kind)
        return getattr(caught.exception, "errors", {"__all__": [caught.exception.message]})

    def test_a_county_supervisor_records_only_self_checks_of_its_own_county(self):
        self.assertEqual(self.create("ruijin_supervisor", RUIJIN).area_id, RUIJIN)
        errors = self.refused("ruijin_supervisor", RUIJIN, "spot_check")
        self.assertEqual(errors["kind"], ["督查类型：县级只能登记本县的自查。"])
        self.assertEqual(
            self.refused("ruijin_supervisor", NINGDU)["area"], ["地区：宁都县不在您的管辖范围内。"]
        )
        self.assertIn("area", self.refused("ruijin_supervisor", "360000"))

    def test_a_clerk_records_no_inspection(self):
        self.assertEqual(self.refused("ruijin_clerk", RUIJIN), {"__all__": ["您的角色不能登记督查。"]})
        self.login("ruijin_clerk")
        self.assertEqual(self.client.get("/inspections/new/").status_code, 403)

    def test_a_city_records_the_city_and_its_counties_and_nothing_else(self):
        self.assertEqual(self.create("ganzhou_reviewer", "360700", "spot_check").area_id, "360700")
        self.assertEqual(self.create("ganzhou_reviewer", NINGDU, "joint_research").area_id, NINGDU)
        # 瑞金 reports to the province for its targets, but its parent is still 赣州.
        self.assertEqual(self.create("ganzhou_reviewer", RUIJIN, "spot_check").area_id, RUIJIN)
        self.assertIn("area", self.refused("ganzhou_reviewer", "360121", "spot_check"))  # 南昌县
        self.assertIn("area", self.refused("ganzhou_reviewer", "360000", "spot_check"))
        # Townships are where items go, not what an inspection is of.
        township = Area.objects.filter(parent_id=NINGDU).first().code
        self.assertEqual(
            self.refused("ganzhou_reviewer", township, "spot_check")["area"],
            ["地区：督查对象只能是省、设区市或县（市、区）。"],
        )

    def test_the_province_records_any_province_city_or_county(self):
        for area in ("360000", "360100", "360121", RUIJIN):
            self.assertEqual(self.create("province_officer", area, "spot_check").area_id, area)

    def test_fields_are_checked_and_named(self):
        with self.assertRaises(RecordInvalid) as caught:
            inspection_create(
                actor=self.cast["province_officer"],
                data={"area": "360100", "kind": "spot_check", "date": self.today + timedelta(days=1)},
            )
        errors = caught.exception.errors
        self.assertEqual(errors["date"], ["督查时间：不能晚于今天。"])
        self.assertEqual(errors["team"], ["督查组：未填写。"])
        self.assertEqual(set(errors), {"date", "team", "subject"})

    def test_the_page_records_an_inspection_and_goes_to_it(self):
        self.login("ruijin_supervisor")
        page = self.client.get("/inspections/new/")
        self.assertEqual([c[0] for c in page.context["form"].fields["kind"].choices], ["self_check"])
        response = self.client.post(
            "/inspections/new/",
            {
                "area": RUIJIN,
                "kind": "self_check",
                "date": "2018-06-20",
                "team": "自查组",
                "subject": "半年自查",
            },
        )
        inspection = Inspection.objects.get(subject="半年自查")
        self.assertRedirects(response, f"/inspections/{inspection.pk}/")
        self.assertEqual(inspection.created_by, self.cast["ruijin_supervisor"])

    def test_findings_and_items_are_added_by_who_may_record_the_inspection(self):
        supervisor = self.cast["ruijin_supervisor"]
        with self.assertRaises(NotAllowed):
            finding_add(actor=supervisor, inspection=self.ruijin_spot, data={"description": "另一个问题"})
        finding = finding_add(
            actor=self.cast["ganzhou_reviewer"], inspection=self.ruijin_spot, data={"description": "x"}
        )
        with self.assertRaises(NotAllowed):
            self.add_item(supervisor, finding, RUIJIN)
        self.login("ruijin_supervisor")
        response = self.client.post(f"/inspections/{self.ruijin_spot.pk}/findings/", {"description": "问题"})
        self.assertEqual(response.status_code, 403)
        page = self.client.get(f"/inspections/{self.ruijin_self.pk}/")
        self.assertIsNotNone(page.context["finding_form"])
        self.assertIsNone(self.client.get(f"/inspections/{self.ruijin_spot.pk}/").context["finding_form"])

    def test_an_item_is_in_the_inspected_area_or_below(self):
        finding = self.ruijin_self.findings.get()
        township = Area.objects.filter(parent_id=RUIJIN).first()
        item = self.add_item(self.cast["ruijin_supervisor"], finding, township.code)
        self.assertEqual(item.area, township)
        with self.assertRaises(RecordInvalid) as caught:
            self.add_item(self.cast["ruijin_supervisor"], finding, NINGDU)
        self.assertEqual(caught.exception.errors["area"], ["地区：整改事项只能落在瑞金市或其下辖地区。"])

    def test_the_page_adds_a_finding_and_an_item(self):
        self.login("ruijin_supervisor")
        url = f"/inspections/{self.ruijin_self.pk}/"
        response = self.client.post(f"{url}findings/", {"description": "护理补贴审核积压"})
        self.assertRedirects(response, f"{url}#add-item")
        finding = self.ruijin_self.findings.get(description="护理补贴审核积压")
        data = {"finding": finding.pk, "area": RUIJIN, "issue": "清理积压", "responsible_unit": "县残联"}
        response = self.client.post(f"{url}items/", data)  # no deadline
        self.assertEqual(response.status_code, 200)
        self.assertIn(
            "整改时限：请填写日期，例如 2018-06-30。", response.context["item_form"].errors["deadline"]
        )
        response = self.client.post(f"{url}items/", {**data, "deadline": "2030-01-31"})
        self.assertRedirects(response, url)
        self.assertEqual(finding.rectifications.get().deadline, date(2030, 1, 31))


class ScopeTest(LedgerTestCase):
    def test_ningdu_meets_ruijin_items_as_absent(self):
        self.attach(self.ruijin_item)
        evidence = self.ruijin_item.evidence.get()
        self.login("ningdu_clerk")
        item = self.ruijin_item.pk
        for url in (
            f"/rectifications/{item}/",
            f"/inspections/{self.ruijin_self.pk}/",
            f"/rectifications/{item}/evidence/{evidence.pk}/",
            f"/api/v1/rectifications/{item}/",
            f"/api/v1/inspections/{self.ruijin_self.pk}/",
        ):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)
        for url in (f"/rectifications/{item}/progress/", f"/rectifications/{item}/evidence/"):
            with self.subTest(url=url):
                self.assertEqual(self.client.post(url, {"version": 1, "status": "open"}).status_code, 404)
        response = self.client.patch(
            f"/api/v1/rectifications/{item}/",
            {"version": 1, "status": "open"},
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 404)
        listed = self.client.get("/api/v1/rectifications/").json()["results"]
        self.assertEqual([r["id"] for r in listed], [self.ningdu_item.pk])
        page = self.client.get("/rectifications/")
        self.assertEqual([i.pk for i in page.context["page"]], [self.ningdu_item.pk])
        self.assertEqual(
            [i.pk for i in self.client.get("/inspections/").context["page"]], [self.ningdu_spot.pk]
        )

    def test_the_city_sees_both_counties(self):
        self.login("ganzhou_reviewer")
        listed = {r["id"] for r in self.client.get("/api/v1/rectifications/").json()["results"]}
        self.assertEqual(listed, {self.ruijin_item.pk, self.spot_item.pk, self.ningdu_item.pk})
        area = {r["id"] for r in self.client.get(f"/api/v1/rectifications/?area={NINGDU}").json()["results"]}
        self.assertEqual(area, {self.ningdu_item.pk})

    def test_a_county_sees_an_item_of_an_inspection_above_it_and_not_the_inspection(self):
        province = self.cast["province_officer"]
        inspection = inspection_create(
            actor=province,
            data={"area": "360700", "kind": "joint_research", "date": "2018-05-01", "team": "省督查组",
                  "subject": "联合调研"},
        )  # fmt: skip
        finding = finding_add(actor=province, inspection=inspection, data={"description": "瑞金底数不清"})
        item = self.add_item(province, finding, RUIJIN)
        self.login("ruijin_clerk")
        page = self.client.get(f"/rectifications/{item.pk}/")
        self.assertContains(page, "瑞金底数不清")
        self.assertFalse(page.context["inspection_visible"])
        self.assertEqual(self.client.get(f"/inspections/{inspection.pk}/").status_code, 404)


class ProgressTest(LedgerTestCase):
    def test_a_clerk_reports_progress_and_the_version_moves_on(self):
        item = rectification_update(
            actor=self.cast["ruijin_clerk"],
            item=self.spot_item,
            data={"status": "in_progress", "progress_note": "已比对62条"},
            expected_version=1,
        )
        self.assertEqual((item.status, item.progress_note, item.version), ("in_progress", "已比对62条", 2))
        self.assertEqual(item.events.last().pgh_context.metadata["user"], self.cast["ruijin_clerk"].pk)

    def test_a_stale_save_changes_nothing_and_says_what_changed(self):
        clerk, supervisor = self.cast["ruijin_clerk"], self.cast["ruijin_supervisor"]
        rectification_update(
            actor=supervisor, item=self.ruijin_item, data={"status": "in_progress", "progress_note": "A"},
            expected_version=1,
        )  # fmt: skip
        with self.assertRaises(StaleRecord) as caught:
            rectification_update(
                actor=clerk,
                item=self.ruijin_item,
                data={"status": "open", "progress_note": "B"},
                expected_version=1,
            )
        self.assertEqual(
            caught.exception.message,
            "您打开这条记录后，其他人已保存了修改，您这次的修改没有保存。请先查看对方改了什么，再重新编辑。",
        )
        self.assertEqual(caught.exception.current_version, 2)
        self.assertEqual(caught.exception.changes["progress_note"], ("", "A"))
        self.ruijin_item.refresh_from_db()
        self.assertEqual((self.ruijin_item.progress_note, self.ruijin_item.version), ("A", 2))

    def test_the_page_shows_the_conflict_and_the_api_answers_409(self):
        self.login("ruijin_clerk")
        url = f"/rectifications/{self.ruijin_item.pk}/"
        self.client.post(
            f"{url}progress/", {"status": "in_progress", "progress_note": "第一次", "version": 1}
        )
        response = self.client.post(
            f"{url}progress/", {"status": "open", "progress_note": "第二次", "version": 1}
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "其他人已保存了修改")
        self.assertContains(response, "第一次")
        response = self.client.patch(
            f"/api/v1{url}", {"version": 1, "progress_note": "第三次"}, content_type="application/json"
        )
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["current_version"], 2)
        response = self.client.patch(
            f"/api/v1{url}", {"version": 2, "progress_note": "第三次"}, content_type="application/json"
        )
        self.assertEqual((response.status_code, response.json()["status"]), (200, "in_progress"))
        self.assertEqual(response.json()["version"], 3)

    def test_closing_is_not_a_progress_status(self):
        with self.assertRaises(RecordInvalid) as caught:
            rectification_update(
                actor=self.cast["ruijin_clerk"],
                item=self.ruijin_item,
                data={"status": "closed"},
                expected_version=1,
            )
        self.assertIn("status", caught.exception.errors)


class CloseTest(LedgerTestCase):
    def close(self, actor, item, note="已全部补齐", version=1):
        return rectification_close(
            actor=self.cast[actor], item=item, closing_note=note, expected_version=version
        )

    def test_a_county_closes_its_own_self_check_with_evidence_and_a_note(self):
        with self.assertRaises(RecordInvalid) as caught:
            self.close("ruijin_supervisor", self.ruijin_item)
        self.assertEqual(
            caught.exception.errors["evidence"], ["佐证材料：销号前至少要上传一份整改佐证材料。"]
        )
        self.attach(self.ruijin_item)
        with self.assertRaises(RecordInvalid) as caught:
            self.close("ruijin_supervisor", self.ruijin_item, note="  ")
        self.assertIn("closing_note", caught.exception.errors)
        item = self.close("ruijin_supervisor", self.ruijin_item)
        self.assertEqual(
            (item.status, item.closed_by, item.version), ("closed", self.cast["ruijin_supervisor"], 2)
        )
        self.assertIsNotNone(item.closed_at)
        with self.assertRaises(RecordInvalid):  # closed stays closed
            self.close("ruijin_supervisor", item, version=2)
        with self.assertRaises(RecordInvalid):
            rectification_update(
                actor=self.cast["ruijin_clerk"], item=item, data={"status": "open"}, expected_version=2
            )
        with self.assertRaises(RecordInvalid):
            self.attach(item, name="又一张.png", content=PNG + b"2")

    def test_a_county_does_not_close_what_the_city_found_but_the_city_does(self):
        self.attach(self.spot_item)
        with self.assertRaises(NotAllowed):
            self.close("ruijin_supervisor", self.spot_item)
        self.assertEqual(self.close("ganzhou_reviewer", self.spot_item).status, RectificationStatus.CLOSED)

    def test_a_clerk_does_not_close(self):
        self.attach(self.ruijin_item)
        with self.assertRaises(NotAllowed):
            self.close("ruijin_clerk", self.ruijin_item)
        self.login("ruijin_clerk")
        url = f"/rectifications/{self.ruijin_item.pk}/"
        self.assertIsNone(self.client.get(url).context["close_form"])
        response = self.client.post(f"{url}close/", {"closing_note": "x", "version": 1})
        self.assertEqual(response.status_code, 403)

    def test_the_pages_close_with_the_version_opened(self):
        self.attach(self.ruijin_item)
        self.login("ruijin_supervisor")
        url = f"/rectifications/{self.ruijin_item.pk}/"
        self.assertIsNotNone(self.client.get(url).context["close_form"])
        self.assertIsNone(self.client.get(f"/rectifications/{self.spot_item.pk}/").context["close_form"])
        response = self.client.post(f"{url}close/", {"closing_note": "已补齐", "version": 0})
        self.assertContains(response, "其他人已保存了修改")
        response = self.client.post(f"{url}close/", {"closing_note": "已补齐", "version": 1})
        self.assertRedirects(response, url)
        self.ruijin_item.refresh_from_db()
        self.assertEqual(self.ruijin_item.closing_note, "已补齐")

    def test_the_api_closes(self):
        self.login("ganzhou_reviewer")
        url = f"/api/v1/rectifications/{self.spot_item.pk}/close/"
        response = self.client.post(
            url, {"version": 1, "closing_note": "已整改"}, content_type="application/json"
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("evidence", response.json())
        self.attach(self.spot_item)
        response = self.client.post(
            url, {"version": 1, "closing_note": "已整改"}, content_type="application/json"
        )
        self.assertEqual((response.status_code, response.json()["status"]), (200, "closed"))
        self.assertEqual(response.json()["closed_by"], "ganzhou_reviewer")
        self.login("ruijin_supervisor")
        response = self.client.post(url, {"version": 2, "closing_note": "x"}, content_type="application/json")
        self.assertEqual(response.status_code, 403)


class EvidenceTest(LedgerTestCase):
    def refusal(self, name, content) -> str:
        with self.assertRaises(RecordInvalid) as caught:
            self.attach(self.ruijin_item, name=name, content=content)
        return caught.exception.errors["file"][0]

    def test_an_exe_renamed_pdf_is_refused_by_its_content(self):
        self.assertEqual(
            self.refusal("整改报告.pdf", EXE), "整改报告.pdf：文件名显示为 PDF，但文件内容并不是 PDF 文件。"
        )
        self.assertEqual(
            self.refusal("setup.exe", EXE),
            "setup.exe：只能上传 PDF、JPEG、PNG、Excel（.xlsx）或 Word（.docx）文件。",
        )
        self.assertFalse(Evidence.objects.exists())

    def test_office_files_are_recognised_inside_and_macros_refused(self):
        self.assertIn("内容并不是", self.refusal("台帐.xlsx", b"PK\x03\x04not really a zip"))
        self.assertIn("内容并不是", self.refusal("通知.docx", office_file("docx", macros=True)))
        sheet = self.attach(self.ruijin_item, name="台帐.xlsx", content=office_file("xlsx"))
        self.assertEqual(
            sheet.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        # The name is data: a Word file called .pdf is kept, stored and served as what it is.
        word = self.attach(self.ruijin_item, name="通知.pdf", content=office_file("docx"))
        self.assertEqual(word.original_name, "通知.pdf")
        self.assertEqual(evidence_download_name(word), "通知.docx")

    def test_what_is_stored_about_a_file(self):
        import hashlib

        evidence = self.attach(self.ruijin_item, name="../../etc/照片\x00.png", content=PNG)
        self.assertEqual(evidence.original_name, "照片.png")
        self.assertEqual((evidence.size, evidence.sha256), (len(PNG), hashlib.sha256(PNG).hexdigest()))
        self.assertNotIn("照片", evidence.file.name)
        self.assertTrue(evidence.file.name.startswith(f"evidence/{self.ruijin_item.pk}/"))
        self.assertIn("已作为“照片.png”上传过", self.refusal("again.png", PNG))

    def test_ten_megabytes_is_the_limit(self):
        exact = PDF + b"0" * (MAX_EVIDENCE_BYTES - len(PDF))
        self.assertEqual(self.attach(self.ruijin_item, name="a.pdf", content=exact).size, MAX_EVIDENCE_BYTES)
        self.assertIn("超过 10 MB 的上限", self.refusal("b.pdf", exact + b"1"))
        self.assertIn("文件是空的", self.refusal("c.pdf", b""))

    def test_the_page_uploads_and_serves_it_back_as_an_attachment(self):
        self.login("ruijin_clerk")
        url = f"/rectifications/{self.ruijin_item.pk}/"
        response = self.client.post(f"{url}evidence/", {"file": upload("报告.pdf", EXE)})
        self.assertEqual(response.status_code, 200)
        self.assertIn("文件内容并不是 PDF", response.context["evidence_form"].errors["file"][0])
        response = self.client.post(
            f"{url}evidence/", {"file": upload("<img src=x onerror=alert(1)>验收报告.pdf", PDF)}
        )
        self.assertRedirects(response, url)
        evidence = Evidence.objects.get()
        page = self.client.get(url)
        self.assertContains(page, "&lt;img src=x onerror=alert(1)&gt;验收报告.pdf")
        download = self.client.get(f"{url}evidence/{evidence.pk}/")
        self.assertEqual(download.content, PDF)
        self.assertEqual(download["Content-Type"], "application/pdf")
        self.assertTrue(download["Content-Disposition"].startswith("attachment;"))
        self.assertEqual(download["X-Content-Type-Options"], "nosniff")
        self.assertIn("sandbox", download["Content-Security-Policy"])


class OverdueTest(LedgerTestCase):
    def test_due_today_is_not_overdue_due_yesterday_is(self):
        finding = self.ruijin_self.findings.get()
        supervisor = self.cast["ruijin_supervisor"]
        today = self.add_item(supervisor, finding, RUIJIN, deadline=self.today, issue="今天到期")
        yesterday = self.add_item(
            supervisor, finding, RUIJIN, deadline=self.today - timedelta(days=1), issue="昨天到期"
        )
        self.assertFalse(is_overdue(today))
        self.assertTrue(is_overdue(yesterday))
        overdue = rectification_search(user=supervisor, filters={"overdue": "1"})
        self.assertEqual([i.pk for i in overdue], [yesterday.pk])
        flags = {i.pk: i.overdue for i in rectification_search(user=supervisor, filters={})}
        self.assertEqual((flags[today.pk], flags[yesterday.pk]), (False, True))
        self.login("ruijin_clerk")
        api = self.client.get("/api/v1/rectifications/?overdue=1").json()["results"]
        self.assertEqual([(r["id"], r["overdue"]) for r in api], [(yesterday.pk, True)])
        page = self.client.get("/rectifications/")
        self.assertEqual(page.context["counts"]["overdue"], 1)
        self.assertContains(page, 'class="overdue"', count=1)

    def test_a_closed_item_is_never_overdue(self):
        item = self.add_item(
            self.cast["ruijin_supervisor"],
            self.ruijin_self.findings.get(),
            RUIJIN,
            deadline=self.today - timedelta(days=9),
        )
        self.attach(item)
        item = rectification_close(
            actor=self.cast["ruijin_supervisor"], item=item, closing_note="已整改", expected_version=1
        )
        self.assertFalse(is_overdue(item))
        self.assertFalse(
            rectification_search(user=self.cast["ruijin_clerk"], filters={"overdue": "1"}).exists()
        )

    def test_the_inspection_list_counts_and_filters(self):
        self.add_item(
            self.cast["ganzhou_reviewer"],
            self.ningdu_spot.findings.get(),
            NINGDU,
            deadline=self.today - timedelta(days=1),
        )
        self.login("ganzhou_reviewer")
        rows = {i.pk: i for i in self.client.get("/inspections/").context["page"]}
        self.assertEqual(
            (rows[self.ningdu_spot.pk].item_count, rows[self.ningdu_spot.pk].overdue_count), (2, 1)
        )
        overdue = self.client.get("/inspections/?status=overdue").context["page"]
        self.assertEqual([i.pk for i in overdue], [self.ningdu_spot.pk])
        self.assertEqual(len(self.client.get("/inspections/?kind=self_check").context["page"]), 1)


class LedgerWorkbookTest(LedgerTestCase):
    def test_the_workbook_holds_what_the_list_shows(self):
        supervisor = self.cast["ruijin_supervisor"]
        finding = self.ruijin_self.findings.get()
        township = Area.objects.filter(parent_id=RUIJIN).order_by("code").first()
        late = self.add_item(
            supervisor, finding, township.code, deadline=self.today - timedelta(days=3), issue="逾期事项"
        )
        Rectification.objects.filter(pk=late.pk).update(progress_note="已完成一半")
        self.login("ruijin_clerk")
        response = self.client.get("/rectifications/ledger.xlsx?year=" + str(self.ruijin_self.date.year))
        self.assertEqual(response.status_code, 200)
        self.assertIn(".xlsx", response["Content-Disposition"])
        sheet = load_workbook(io.BytesIO(response.content)).active
        self.assertEqual(sheet["A1"].value, "瑞金市残疾人脱贫攻坚督查整改台帐")
        merged = {str(r) for r in sheet.merged_cells.ranges}
        self.assertTrue({"A1:M1", "A3:A4", "B3:F3", "G3:K3", "L3:M3"} <= merged)
        self.assertEqual(
            [c.value for c in sheet[4]][1:],
            ["督查时间", "督查类型", "督查组", "地区", "发现问题", "整改事项", "责任单位", "整改时限",
             "整改状态", "整改情况", "销号人", "销号时间"],
        )  # fmt: skip
        self.assertEqual(sheet["A3"].value, "序号")
        rows = {row[6].value: row for row in sheet.iter_rows(min_row=5)}
        self.assertEqual(set(rows), {"补齐两项补贴发放台帐", "逾期事项"})  # 瑞金's two, not 宁都's
        row = rows["逾期事项"]
        self.assertEqual(row[2].value, "自查")
        self.assertEqual(row[4].value, f"瑞金市{township.name}")
        self.assertEqual(row[8].value.date(), late.deadline)
        self.assertEqual((row[9].value, row[10].value), ("未整改", "已完成一半"))
        self.assertEqual(row[0].fill.fgColor.rgb, "00FFC7CE")
        self.assertNotEqual(rows["补齐两项补贴发放台帐"][0].fill.fgColor.rgb, "00FFC7CE")
        only_overdue = self.client.get("/rectifications/ledger.xlsx?overdue=1")
        sheet = load_workbook(io.BytesIO(only_overdue.content)).active
        self.assertEqual([r[6].value for r in sheet.iter_rows(min_row=5)], ["逾期事项"])
        self.assertIn("仅逾期事项", sheet["A2"].value)

    def test_a_closed_item_shows_who_closed_it_and_how(self):
        self.attach(self.ruijin_item)
        rectification_close(
            actor=self.cast["ruijin_supervisor"],
            item=self.ruijin_item,
            closing_note="已补齐",
            expected_version=1,
        )
        self.login("ruijin_supervisor")
        sheet = load_workbook(
            io.BytesIO(self.client.get("/rectifications/ledger.xlsx?status=closed").content)
        ).active
        row = [c.value for c in sheet[5]]
        self.assertEqual(row[9:12], ["已销号", "已补齐", str(self.cast["ruijin_supervisor"])])
        self.assertEqual(row[12].date(), timezone.localdate())

    def test_text_that_would_start_a_formula_stays_text(self):
        hostile = '=HYPERLINK("http://example.com/x","点此")'
        finding = self.ruijin_self.findings.get()
        self.add_item(self.cast["ruijin_supervisor"], finding, RUIJIN, issue=hostile)
        Rectification.objects.filter(issue=hostile).update(responsible_unit="+1-2", progress_note="@SUM(A1)")
        self.login("ruijin_supervisor")
        content = self.client.get("/rectifications/ledger.xlsx").content
        sheet = load_workbook(io.BytesIO(content)).active
        row = next(r for r in sheet.iter_rows(min_row=5) if r[6].value == hostile)
        for cell in (row[6], row[7], row[10]):
            with self.subTest(value=cell.value):
                self.assertEqual(cell.data_type, "s")
                self.assertTrue(cell.quotePrefix)
        self.assertEqual((row[7].value, row[10].value), ("+1-2", "@SUM(A1)"))
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            self.assertNotIn("<f>", archive.read("xl/worksheets/sheet1.xml").decode())


class InspectionApiTest(LedgerTestCase):
    def test_an_inspection_with_its_findings_and_items_in_one_request(self):
        self.login("ganzhou_reviewer")
        body = {
            "area": NINGDU,
            "kind": "spot_check",
            "date": "2018-07-02",
            "team": "赣州市残联第二督查组",
            "subject": "两项补贴抽查",
            "findings": [
                {
                    "description": "漏登17人",
                    "rectifications": [
                        {
                            "area": NINGDU,
                            "issue": "补登",
                            "responsible_unit": "县残联",
                            "deadline": "2018-08-31",
                        }
                    ],
                },
                {"description": "档案不全"},
            ],
        }
        response = self.client.post("/api/v1/inspections/", body, content_type="application/json")
        self.assertEqual(response.status_code, 201, response.content)
        data = response.json()
        self.assertEqual([f["description"] for f in data["findings"]], ["漏登17人", "档案不全"])
        self.assertEqual(data["findings"][0]["rectifications"][0]["status"], "open")
        body["findings"][0]["rectifications"][0]["area"] = RUIJIN
        response = self.client.post("/api/v1/inspections/", body, content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(
            response.json()["findings"],
            ["第1个问题的第1项整改事项：地区：整改事项只能落在宁都县或其下辖地区。"],
        )
        self.assertEqual(Inspection.objects.filter(subject="两项补贴抽查").count(), 1)  # nothing half-written

    def test_the_schema_documents_the_ledger(self):
        self.login("province_officer")
        schema = self.client.get("/api/schema/", {"format": "json"}).json()
        for path in (
            "/api/v1/inspections/",
            "/api/v1/rectifications/{id}/",
            "/api/v1/rectifications/{id}/close/",
        ):
            self.assertIn(path, schema["paths"])
        item = schema["paths"]["/api/v1/rectifications/{id}/"]
        self.assertIn("409", item["patch"]["responses"])
        self.assertNotIn("put", item)
        self.assertNotIn("delete", item)
