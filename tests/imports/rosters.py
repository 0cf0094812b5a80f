"""Roster workbooks as township clerks send them, built in memory."""

from datetime import date
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from areas.models import Area, AreaLevel
from beneficiaries.validation import make_id_number

HEADER = ["序号", "乡镇", "村", "姓名", "性别", "身份证号", "残疾证号", "残疾类别", "残疾等级", "户主姓名",
          "与户主关系", "家庭人口", "脱贫状态", "脱贫年度", "低保", "联系电话", "备注"]  # fmt: skip


def village_of(county: str, n: int = 0) -> tuple[str, str]:
    village = Area.objects.filter(code__startswith=county, level=AreaLevel.VILLAGE).order_by("code")[n]
    return Area.objects.get(code=village.parent_id).name, village.name


def person_row(n: int, county: str = "360781", **overrides) -> dict:
    township, village = village_of(county, n % 5)
    id_number = make_id_number(county, date(1950 + n % 50, 1 + n % 12, 1 + n % 28), 100 + n)
    row = {
        "序号": n + 1, "乡镇": township, "村": village, "姓名": f"刘{n:04d}",
        "性别": "男" if (100 + n) % 2 else "女",
        "身份证号": id_number, "残疾证号": f"{id_number}42", "残疾类别": "肢体", "残疾等级": "二级",
        "户主姓名": f"刘{n:04d}", "与户主关系": "户主", "家庭人口": 3, "脱贫状态": "未脱贫", "脱贫年度": "",
        "低保": "是", "联系电话": f"139{n:08d}", "备注": "",
    }  # fmt: skip
    row.update(overrides)
    return row


def workbook(rows: list[dict], *, header: list[str] = HEADER, title_rows: int = 2) -> bytes:
    book = Workbook()
    sheet = book.active
    for n in range(title_rows):
        sheet.append(["瑞金市贫困残疾人花名册" if n == 0 else "填报单位：象湖镇  填报日期：2018年3月"])
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column, "") for column in header])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def upload(content: bytes, name: str = "花名册.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
