"""A county clerk registers a household with two disabled members, in the browser, from the menus."""

from datetime import date

import pytest

from accounts.models import Role
from accounts.services import user_create
from beneficiaries.models import Household, Person
from beneficiaries.validation import make_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-pass-2018"


@pytest.fixture
def clerk(area_tree):
    return user_create(
        username="ruijin", password=PASSWORD, role=Role.COUNTY_CLERK, area_code="360781", check_password=False
    )


def log_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("ruijin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def add_member(page, *, name, id_number, category, level, relation, screenshot=None):
    page.get_by_role("link", name="添加残疾人成员").click()
    page.get_by_label("姓名").fill(name)
    page.get_by_label("身份证号").fill(id_number)
    # The live check answers while the clerk types: derived gender and birth date.
    page.locator("#id-check .check.good").wait_for()
    page.get_by_label("残疾类别").select_option(label=category)
    page.get_by_label("残疾等级").select_option(label=level)
    page.get_by_label("残疾人证号").fill(
        id_number + ("4" if category == "肢体残疾" else "1") + level_digit(level)
    )
    page.get_by_label("与户主关系").select_option(label=relation)
    if screenshot:
        screenshot("registry-member-form")
    page.locator("#person-form").get_by_role("button", name="登记").click()


def level_digit(level):
    return {"一级（最重）": "1", "二级": "2", "三级": "3", "四级": "4"}[level]


def test_a_clerk_registers_a_household_with_two_disabled_members(page, live_server, clerk, screenshot):
    log_in(page, live_server)
    page.get_by_role("link", name="人员登记").click()
    page.get_by_role("link", name="家庭", exact=True).click()
    page.get_by_role("link", name="登记家庭").click()
    page.get_by_label("户主姓名").fill("钟长生")
    page.get_by_label("家庭人口").fill("4")
    page.get_by_label("乡（镇、街道）").select_option(label="象湖镇")
    # Choosing the township loads its villages.
    page.locator("#id_village_code option:nth-child(2)").wait_for(state="attached")
    page.get_by_label("村（社区）").select_option(index=1)
    page.get_by_label("脱贫状态").select_option(label="未脱贫")
    page.get_by_label("低保户").check()
    page.locator("form.form-grid").get_by_role("button", name="登记").click()
    assert "家庭已登记" in page.locator(".messages").inner_text()

    husband = make_id_number("360781", date(1968, 4, 12), 13)
    wife = make_id_number("360781", date(1971, 9, 3), 24)
    add_member(page, name="钟长生", id_number=husband, category="肢体残疾", level="二级", relation="户主")
    assert "钟长生 已登记" in page.locator(".messages").inner_text()
    add_member(
        page,
        name="赖春花",
        id_number=wife,
        category="视力残疾",
        level="一级（最重）",
        relation="配偶",
        screenshot=screenshot,
    )
    screenshot("registry-household-two-members")

    household = Household.objects.get()
    members = {p.name: (p.gender, p.relation_to_head) for p in Person.objects.filter(household=household)}
    assert members == {"钟长生": ("M", "head"), "赖春花": ("F", "spouse")}
    rows = page.locator("table").nth(1).locator("tbody tr")
    assert rows.count() == 2


def test_a_mistyped_id_is_explained_before_saving(page, live_server, clerk, screenshot):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/registry/people/new/")
    good = make_id_number("360781", date(1968, 4, 12), 13)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    page.get_by_label("身份证号").fill(wrong)
    message = page.locator("#id-check .check.bad")
    message.wait_for()
    assert "校验码" in message.inner_text()
    screenshot("registry-live-check-error")
    assert not Person.objects.exists()
