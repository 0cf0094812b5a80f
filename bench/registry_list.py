"""How fast the registry list answers on a province-sized registry: first and deepest page (keyset), and
searches by whole ID number, ID prefix and name prefix, for a county clerk and a province officer.
Baseline: OFFSET pagination (Django's Paginator) for the deepest page, and `icontains` on the name.

Measures the selectors the list page runs (`person_search` then `keyset_page`, materialised), and the page
itself through Django's test Client when /registry/people/ answers 200.

Prints one JSON line last: people, first_page_ms, deepest_page_ms, id_search_ms, id_prefix_ms,
name_prefix_ms (medians, province officer), p95 (the same keys), baseline_deepest_page_ms, ratio (baseline
deepest / keyset deepest), baseline_name_icontains_ms, generate_seconds, county (the clerk's figures),
pages (through the Client, if served).
"""

import argparse
import json
import logging
import statistics
import time
from collections.abc import Callable

from _db import scratch_database

CASES = ("first_page", "deepest_page", "id_search", "id_prefix", "name_prefix")


def timings(action: Callable[[], object], repeat: int) -> dict[str, float]:
    action()  # warm the caches and the plan
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {"median": round(statistics.median(samples), 2), "p95": round(p95, 2)}


def deepest_after(queryset) -> int | None:
    """The id just before the last page: what ?after= holds when a user has paged to the end."""
    from beneficiaries.selectors import PAGE_SIZE

    count = queryset.count()
    last_start = (count - 1) // PAGE_SIZE * PAGE_SIZE
    if last_start == 0:
        return None
    return queryset.order_by("-id").values_list("id", flat=True)[count - last_start]


def sample_person(user):
    """A person the user sees, for the searches: one from the middle of the registry."""
    from beneficiaries.models import Person

    people = Person.objects.visible_to(user).order_by("id")
    return people[people.count() // 2]


def selector_cases(user, repeat: int) -> dict[str, dict[str, float]]:
    from beneficiaries.selectors import keyset_page, person_search

    person = sample_person(user)
    after = deepest_after(person_search(user=user))
    queries = {
        "id_search": person.id_number,
        "id_prefix": person.id_number[:10],
        "name_prefix": person.name[:2],
    }

    def page(q: str = "", after: int | None = None) -> Callable[[], list]:
        return lambda: keyset_page(person_search(user=user, q=q), after=after).items

    actions = {"first_page": page(), "deepest_page": page(after=after)}
    actions |= {case: page(q) for case, q in queries.items()}
    results = {case: timings(action, repeat) for case, action in actions.items()}
    results |= baseline_cases(user, person.name[:2], repeat)
    return results


def baseline_cases(user, name_query: str, repeat: int) -> dict[str, dict[str, float]]:
    from django.core.paginator import Paginator

    from beneficiaries.models import Person
    from beneficiaries.selectors import PAGE_SIZE, person_search

    def offset_deepest() -> list:
        paginator = Paginator(person_search(user=user).order_by("id"), PAGE_SIZE)
        return list(paginator.page(paginator.num_pages).object_list)

    def name_icontains() -> list:
        people = Person.objects.visible_to(user).filter(name__icontains=name_query).order_by("id")
        return list(people[: PAGE_SIZE + 1])

    return {
        "baseline_deepest_page": timings(offset_deepest, repeat),
        "baseline_name_icontains": timings(name_icontains, repeat),
    }


def page_cases(client, user, repeat: int) -> dict[str, dict[str, float]] | None:
    """The list page itself, when it exists."""
    from beneficiaries.selectors import person_search

    client.force_login(user)
    if client.get("/registry/people/").status_code != 200:
        return None
    person = sample_person(user)
    after = deepest_after(person_search(user=user))
    params = {
        "first_page": {},
        "deepest_page": {"after": after} if after else {},
        "id_search": {"q": person.id_number},
        "id_prefix": {"q": person.id_number[:10]},
        "name_prefix": {"q": person.name[:2]},
    }

    def get(query: dict) -> Callable[[], object]:
        def action():
            response = client.get("/registry/people/", query)
            assert response.status_code == 200, response.status_code

        return action

    return {case: timings(get(query), repeat) for case, query in params.items()}


def make_users():
    from django.db.models import Count

    from accounts.models import Role
    from accounts.services import user_create
    from beneficiaries.models import Person

    busiest = Person.objects.values("county_code").annotate(n=Count("id")).order_by("-n").first()
    clerk = user_create(
        username="bench_clerk",
        password="x",
        role=Role.COUNTY_CLERK,
        area_code=busiest["county_code"],
        check_password=False,
    )
    officer = user_create(
        username="bench_province",
        password="x",
        role=Role.PROVINCE_OFFICER,
        area_code="360000",
        check_password=False,
    )
    return clerk, officer, busiest["n"]


def medians(results: dict) -> dict[str, float]:
    return {f"{case}_ms": results[case]["median"] for case in CASES}


def print_results(label: str, results: dict) -> None:
    for case, figures in results.items():
        print(f"  {label:<18} {case:<24} median {figures['median']:>9.2f} ms   p95 {figures['p95']:>9.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--batch", type=int, default=50_000)
    args = parser.parse_args()

    with scratch_database():
        from django.db import connection
        from django.test import Client
        from django.test.utils import setup_test_environment

        from areas.services import areas_load
        from beneficiaries.generator import generate_registry

        setup_test_environment()
        logging.getLogger("axes").setLevel(logging.WARNING)  # a line per force_login otherwise
        areas_load()
        started = time.perf_counter()
        result = generate_registry(
            people=args.people,
            batch=args.batch,
            progress=lambda done, total: print(f"  generated {done}/{total}", flush=True),
        )
        generate_seconds = time.perf_counter() - started
        print(f"generated {result.people} people, {result.households} households in {generate_seconds:.1f} s")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")

        clerk, officer, clerk_people = make_users()
        print(
            f"county clerk of {clerk.area.code} ({clerk_people} people); province officer ({result.people})"
        )
        county = selector_cases(clerk, args.repeat)
        province = selector_cases(officer, args.repeat)
        print_results(f"county {clerk.area.code}", county)
        print_results("province", province)
        client = Client()
        pages = {
            "county": page_cases(client, clerk, args.repeat),
            "province": page_cases(client, officer, args.repeat),
        }
        for label, figures in pages.items():
            if figures is None:
                print(f"  /registry/people/ does not answer 200 for the {label} user: pages not measured")
            else:
                print_results(f"page {label}", figures)

    keyset_deepest = province["deepest_page"]["median"]
    baseline_deepest = province["baseline_deepest_page"]["median"]
    print(
        json.dumps(
            {
                "people": result.people,
                **medians(province),
                "p95": {f"{case}_ms": province[case]["p95"] for case in CASES},
                "baseline_deepest_page_ms": baseline_deepest,
                "ratio": round(baseline_deepest / keyset_deepest, 1),
                "baseline_name_icontains_ms": province["baseline_name_icontains"]["median"],
                "generate_seconds": round(generate_seconds, 1),
                "county": {
                    "code": clerk.area.code,
                    "people": clerk_people,
                    **medians(county),
                    "baseline_deepest_page_ms": county["baseline_deepest_page"]["median"],
                    "baseline_name_icontains_ms": county["baseline_name_icontains"]["median"],
                },
                "pages": {label: medians(figures) if figures else None for label, figures in pages.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
