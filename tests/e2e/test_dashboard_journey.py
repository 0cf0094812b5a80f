"""A province officer opens the dashboard, sees the map and the monthly trend drawn, and drills down to a city
and a county."""

import pytest
from django.utils import translation

from accounts.models import Role
from accounts.services import user_create
from beneficiaries.generator import generate_registry
from programs.demo import generate_enrollments
from programs.models import Target
from programs.services import plan_load, target_split
from reporting.services import rollup_run

from .conftest import ARTIFACTS
from .test_login_journey import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def progress(area_tree):
    plan_load()
    officer = user_create(username="province", password=PASSWORD, role=Role.PROVINCE_OFFICER,
                          area_code="360000", check_password=False)  # fmt: skip
    generate_registry(people=300, county_codes=["360781", "360730"], seed=5)
    generate_enrollments(county_codes=["360781", "360730"])
    province = Target.objects.get(year=2018, benefit_type=None, area_id="360000")
    target_split(actor=officer, target=province, allocations={"360700": 5000, "360100": 4000})
    rollup_run()


def canvas_drawn(page, chart: str = "#progress-chart") -> bool:
    """The chart's canvas exists and has pixels that are not blank."""
    return page.evaluate(
        """(chart) => {
            const canvas = document.querySelector(chart + ' canvas');
            if (!canvas || canvas.width === 0) return false;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
            return false;
        }""",
        chart,
    )


def test_the_province_drills_down_from_the_map_to_a_county(page, live_server, progress, screenshot):
    log_in(page, live_server, "province")
    page.goto(f"{live_server.url}/progress/")
    page.wait_for_selector("#progress-chart[data-drawn='map'] canvas")
    page.wait_for_timeout(300)
    assert canvas_drawn(page)
    assert page.get_by_role("heading", name="2018年江西省脱贫进度").is_visible()
    page.wait_for_selector("#trend-chart[data-drawn='trend'] canvas")
    assert canvas_drawn(page, "#trend-chart")
    with translation.override("zh-hans"):
        assert page.get_by_role("heading", name=translation.gettext("Monthly progress")).is_visible()
    screenshot("dashboard-province")
    page.locator("section.trend").screenshot(path=str(ARTIFACTS / "dashboard-trend.png"))

    page.get_by_role("link", name="赣州市", exact=True).first.click()
    page.wait_for_selector("#progress-chart[data-drawn='bars'] canvas")
    assert canvas_drawn(page)
    assert canvas_drawn(page, "#trend-chart")
    assert "/progress/360700/" in page.url
    screenshot("dashboard-city")

    page.locator("table.ranked").get_by_role("link", name="瑞金市").click()
    page.wait_for_selector("#progress-chart[data-drawn='bars'] canvas")
    assert canvas_drawn(page)
    assert page.locator(".breadcrumbs").inner_text().startswith("江西省")
    screenshot("dashboard-county")
