from django.core.management.base import BaseCommand

from programs.services import plan_load


class Command(BaseCommand):
    help = "Load the eleven measures, their benefit types and the province's 2018 targets (idempotent)."

    def handle(self, *args, **options):
        counts = plan_load()
        self.stdout.write(
            f"{counts['measures']} measures, {counts['benefit_types']} benefit types, "
            f"{counts['targets']} province targets for 2018."
        )
