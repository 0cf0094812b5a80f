from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from programs.standards import standards_for_year, standards_save

# EXAMPLE amounts for demonstrations only. They are NOT Jiangxi's standards: the plan does not state them,
# and real amounts are entered by the provincial office on the standards page.
EXAMPLE_AMOUNTS = {
    ("M03-LIVING", None): Decimal("50.00"),
    ("M03-NURSING", 1): Decimal("80.00"),
    ("M03-NURSING", 2): Decimal("60.00"),
}


class Command(BaseCommand):
    help = (
        "Demo only: enter made-up EXAMPLE standard amounts for the two subsidies of a year (living subsidy "
        "50 yuan for all levels, nursing subsidy 80 for level 1 and 60 for level 2), so that the monthly "
        "lists show amounts. They are not Jiangxi's standards. Refused when DEBUG is off or the year already "
        "has amounts for these subsidies."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=2018)

    def handle(self, *args, year, **options):
        if not settings.DEBUG:
            raise CommandError("Example amounts are for demonstrations: run with DJANGO_DEBUG=1.")
        if standards_for_year(year, {code for code, _level in EXAMPLE_AMOUNTS}):
            raise CommandError(f"{year} already has standard amounts for the two subsidies; nothing changed.")
        actor = User.objects.filter(role=Role.PROVINCE_OFFICER, is_active=True).order_by("pk").first()
        if actor is None:
            raise CommandError("No province officer to record the change under: run seed_demo first.")
        changes = standards_save(actor=actor, year=year, amounts=EXAMPLE_AMOUNTS)
        self.stdout.write(
            f"Entered {len(changes)} EXAMPLE standard amounts for {year} (made up, not Jiangxi's standards) "
            f"as {actor.username}."
        )
