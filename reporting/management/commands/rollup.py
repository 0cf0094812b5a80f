"""`manage.py rollup [--county CODE]`: recompute the progress figures now, as the scheduled task does,
waiting for a run in progress rather than skipping."""

from django.core.management.base import BaseCommand, CommandError

from reporting.models import RollupTrigger
from reporting.services import RollupError, rollup_run


class Command(BaseCommand):
    help = "Recompute the progress roll-up (everything, or one county and the areas above it)."

    def add_arguments(self, parser):
        parser.add_argument("--county", help="a county code: only that county, its city and the province")

    def handle(self, *args, county=None, **options):
        try:
            result = rollup_run(county_code=county, trigger=RollupTrigger.MANUAL, wait=True)
        except RollupError as error:
            raise CommandError(error.message) from error
        run = result.run
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(f"roll-up: {run.rows} rows, {run.changed} changed, {seconds:.1f} s")
