"""The township roster (乡镇花名册): its columns in the order of the template, as clerks name them.

One list serves the template, the export, the upload's column mapping and the error workbook, so a
column renamed here is renamed everywhere.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RosterColumn:
    key: str  # the field it fills
    label: str  # the header in the template and the export
    synonyms: tuple[str, ...] = ()  # other headers seen on township rosters
    required: bool = False
    text: bool = False  # format as text in Excel (numbers that must keep every digit)
    width: int = 10


ROSTER_COLUMNS: tuple[RosterColumn, ...] = (
    RosterColumn("row_number", "序号", ("编号", "序"), width=6),
    RosterColumn(
        "township", "乡镇", ("乡镇（街道）", "乡（镇）", "乡镇街道", "街道"), required=True, width=14
    ),
    RosterColumn(
        "village", "村", ("村（社区）", "行政村", "村居", "社区", "村委会"), required=True, width=16
    ),
    RosterColumn("name", "姓名", ("残疾人姓名",), required=True, width=10),
    RosterColumn("gender", "性别", (), width=6),
    RosterColumn(
        "id_number",
        "身份证号",
        ("身份证号码", "证件号码", "公民身份号码", "身份证"),
        required=True,
        text=True,
        width=22,
    ),
    RosterColumn(
        "certificate_number",
        "残疾证号",
        ("残疾人证号", "残疾证号码", "第二代残疾人证号"),
        text=True,
        width=24,
    ),
    RosterColumn("disability_category", "残疾类别", ("类别", "残疾类型"), required=True, width=10),
    RosterColumn("disability_level", "残疾等级", ("等级", "残疾级别"), required=True, width=10),
    RosterColumn("head_name", "户主姓名", ("户主",), width=10),
    RosterColumn("relation_to_head", "与户主关系", ("与户主的关系", "关系"), width=10),
    RosterColumn("household_size", "家庭人口", ("家庭人口数", "人口数", "户人口"), width=8),
    RosterColumn("poverty_status", "脱贫状态", ("贫困户状态", "建档立卡状态", "脱贫情况"), width=10),
    RosterColumn("exit_year", "脱贫年度", ("脱贫年份", "脱贫时间"), width=8),
    RosterColumn("is_dibao", "低保", ("是否低保", "低保户"), width=6),
    RosterColumn("phone", "联系电话", ("电话", "手机", "手机号码", "联系方式"), text=True, width=14),
    RosterColumn("note", "备注", ("说明",), width=20),
)

# The words a clerk writes in a cell, for the columns that take a choice.
CATEGORY_WORDS = {"视力": 1, "听力": 2, "言语": 3, "肢体": 4, "智力": 5, "精神": 6, "多重": 7}
LEVEL_WORDS = {"一级": 1, "二级": 2, "三级": 3, "四级": 4}
RELATION_WORDS = {
    "户主": "head", "本人": "head", "配偶": "spouse", "妻": "spouse", "夫": "spouse", "子": "child",
    "女": "child", "子女": "child", "儿子": "child", "女儿": "child", "父母": "parent", "父亲": "parent",
    "母亲": "parent", "兄弟姐妹": "sibling", "祖父母": "grandparent", "孙子女": "grandchild",
    "孙子": "grandchild", "孙女": "grandchild", "儿媳": "child_in_law", "女婿": "child_in_law",
    "其他": "other",
}  # fmt: skip
POVERTY_WORDS = {"未脱贫": "not_out", "已脱贫": "out", "返贫": "returned", "非建档立卡": "not_registered"}
YES_WORDS = {"是", "有", "√", "1", "Y", "YES", "TRUE"}
NO_WORDS = {"否", "无", "", "0", "N", "NO", "FALSE"}
