import os

from django.core.management.base import BaseCommand

from accounts.models import Role, User
from accounts.services import user_create, user_update_role

DEMO_USERS = [
    ("province", Role.PROVINCE_OFFICER, "360000", "省残联"),
    ("ganzhou", Role.CITY_REVIEWER, "360700", "赣州市残联"),
    ("ruijin", Role.COUNTY_CLERK, "360781", "瑞金市残联经办"),
    ("ningdu", Role.COUNTY_CLERK, "360730", "宁都县残联经办"),
    ("nanchang", Role.COUNTY_CLERK, "360121", "南昌县残联经办"),
    # Supervisors: accept transfers into their county, approve enrolments, keep the county's settings.
    ("ningdu_review", Role.COUNTY_SUPERVISOR, "360730", "宁都县残联审核"),
    ("ruijin_review", Role.COUNTY_SUPERVISOR, "360781", "瑞金市残联审核"),
]


class Command(BaseCommand):
    help = "Create or reset the demo users (password: $DEMO_PASSWORD or demo-pass-2018); not for production."

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD") or "demo-pass-2018"
        for username, role, area_code, name in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user_create(
                    username=username,
                    password=password,
                    role=role,
                    area_code=area_code,
                    full_name=name,
                    check_password=False,
                )
            else:
                user_update_role(user=user, role=role, area_code=area_code, password=None)
                user.set_password(password)
                user.save(update_fields=["password"])
        self.stdout.write(f"Demo users ready: {', '.join(u[0] for u in DEMO_USERS)}.")
