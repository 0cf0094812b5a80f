import pytest

from accounts.models import Role
from accounts.services import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-pass-2018"


@pytest.fixture
def users(area_tree):
    for username, role, area in [
        ("ruijin", Role.COUNTY_CLERK, "360781"),
        ("ganzhou", Role.CITY_REVIEWER, "360700"),
        ("province", Role.PROVINCE_OFFICER, "360000"),
    ]:
        user_create(username=username, password=PASSWORD, role=role, area_code=area, check_password=False)


def log_in(page, live_server, username, password=PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


@pytest.mark.parametrize(
    ("username", "heading", "text"),
    [
        ("ruijin", "瑞金市 · 县级工作台", "只能查看和编辑瑞金市的数据"),
        ("ganzhou", "赣州市 · 市级审核", "宁都县"),
        ("province", "江西省 · 省级工作台", "省直管县"),
    ],
)
def test_each_role_logs_in_and_lands_on_its_home(
    page, live_server, users, screenshot, username, heading, text
):
    log_in(page, live_server, username)
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == heading
    assert text in page.content()
    screenshot(f"home-{username}")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")


def test_a_wrong_password_is_explained_and_the_fifth_locks(page, live_server, users, screenshot):
    for _ in range(4):
        log_in(page, live_server, "ruijin", "not-the-password")
        assert "用户名或密码错误" in page.get_by_role("alert").inner_text()
    screenshot("login-error")
    log_in(page, live_server, "ruijin", "not-the-password")
    assert page.locator("h1").inner_text() == "账号已锁定"
    log_in(page, live_server, "ruijin")
    assert page.locator("h1").inner_text() == "账号已锁定"
    screenshot("login-locked")


def test_a_clerk_follows_the_area_tree_and_cannot_leave_the_county(page, live_server, users):
    log_in(page, live_server, "ruijin")
    page.get_by_role("link", name="行政区划").click()
    assert page.locator("h1").inner_text().startswith("瑞金市")
    page.get_by_role("link", name="象湖镇").click()
    assert page.locator("h1").inner_text().startswith("象湖镇")
    response = page.goto(f"{live_server.url}/areas/360730/")
    assert response.status == 404
