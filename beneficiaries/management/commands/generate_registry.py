import time

from django.core.management.base import BaseCommand, CommandError

from beneficiaries.generator import GeneratorError, counties_with_people, generate_registry, load_counties


def county_list(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


class Command(BaseCommand):
    help = (
        "Generate a made-up registry of N people, in households, over the real townships and villages of "
        "the chosen counties (all counties by default), for demos and benchmarks. Generated rows are NOT "
        "in the audit trail: the history triggers are switched off while they are written. Refuses "
        "counties that already have people unless --append."
    )

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, required=True, help="how many people to generate")
        parser.add_argument(
            "--counties", type=county_list, default=None, help="county codes, comma-separated (default: all)"
        )
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same registry")
        parser.add_argument("--batch", type=int, default=50_000, help="people per COPY transaction")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--append", action="store_true", help="add to counties that already have people")
        mode.add_argument(
            "--if-empty", action="store_true", help="do nothing (and succeed) if the counties have people"
        )

    def handle(self, *args, people, counties, seed, batch, append, if_empty, **options):
        try:
            if if_empty and counties_with_people(c.code for c in load_counties(counties)):
                if options["verbosity"] > 1:
                    self.stdout.write("The counties already have people; nothing generated.")
                return
            started = time.perf_counter()
            result = generate_registry(
                people=people,
                county_codes=counties,
                seed=seed,
                batch=batch,
                append=append,
                progress=self.progress if options["verbosity"] > 1 else None,
            )
        except GeneratorError as error:
            raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Generated {result.people} people in {result.households} households over {result.counties} "
            f"{'county' if result.counties == 1 else 'counties'} in {elapsed:.1f} s (not in the audit trail)."
        )

    def progress(self, done: int, total: int) -> None:
        self.stdout.write(f"  {done}/{total} people")
