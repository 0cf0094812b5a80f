"""The cast every view test plays with: two county clerks, a county supervisor, a city reviewer,
a province officer, a system administrator, and the anonymous visitor."""

from django.test import TestCase

from accounts.models import Role
from accounts.services import user_create

PASSWORD = "cast-password-2018"

RUIJIN = "360781"  # 瑞金市, 赣州市, province-managed
NINGDU = "360730"  # 宁都县, 赣州市
GANZHOU = "360700"  # 赣州市
NANCHANG_COUNTY = "360121"  # 南昌县, 南昌市
PROVINCE = "360000"

CAST = {
    "ruijin_clerk": (Role.COUNTY_CLERK, RUIJIN),
    "ruijin_supervisor": (Role.COUNTY_SUPERVISOR, RUIJIN),
    "ningdu_clerk": (Role.COUNTY_CLERK, NINGDU),
    "nanchang_clerk": (Role.COUNTY_CLERK, NANCHANG_COUNTY),
    "ganzhou_reviewer": (Role.CITY_REVIEWER, GANZHOU),
    "province_officer": (Role.PROVINCE_OFFICER, PROVINCE),
    "sysadmin": (Role.SYSADMIN, PROVINCE),
}


def make_cast():
    return {
        name: user_create(username=name, password=PASSWORD, role=role, area_code=area, check_password=False)
        for name, (role, area) in CAST.items()
    }


class CastTestCase(TestCase):
    """Builds the cast once per class; `self.login(name)` signs one of them in on `self.client`."""

    @classmethod
    def setUpTestData(cls):
        cls.cast = make_cast()

    def login(self, name: str | None):
        self.client.logout()
        if name is not None:
            self.client.force_login(self.cast[name])
        return self.cast.get(name)
