import time
from pathlib import Path

from django.core.management.base import BaseCommand

from areas.services import FIXTURE_DIR, areas_load


class Command(BaseCommand):
    help = "Load the Jiangxi area tree (province, cities, counties, townships, villages) from fixtures/areas."

    def add_arguments(self, parser):
        parser.add_argument("--directory", type=Path, default=FIXTURE_DIR)

    def handle(self, *args, directory: Path, **options):
        started = time.perf_counter()
        result = areas_load(directory=directory)
        elapsed = time.perf_counter() - started
        detail = ", ".join(f"{level} {count}" for level, count in result.counts.items())
        self.stdout.write(f"Loaded {result.total} areas ({detail}) in {elapsed:.2f} s.")
