from django.core.management.base import BaseCommand

from programs.demo import generate_enrollments


class Command(BaseCommand):
    help = (
        "Generate made-up facilities and enrolments that pass the eligibility rules, for demos: for each "
        "county that has no enrolment yet. Not in the audit trail (the history trigger is off while they "
        "are written)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--counties", required=True, help="county codes, comma-separated")
        parser.add_argument("--year", type=int, default=2018)
        parser.add_argument("--seed", type=int, default=2018)

    def handle(self, *args, counties, year, seed, **options):
        codes = [c.strip() for c in counties.split(",") if c.strip()]
        made = generate_enrollments(county_codes=codes, year=year, seed=seed)
        self.stdout.write(f"{made['facilities']} facilities, {made['enrollments']} enrolments in {year}.")
