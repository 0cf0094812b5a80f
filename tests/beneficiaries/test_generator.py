from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F

from areas.models import Area, AreaLevel
from beneficiaries.models import Household, HouseholdStatus, Person, PovertyStatus
from beneficiaries.validation import parse_certificate_number, parse_id_number

pytestmark = pytest.mark.django_db

COUNTIES = ("360781", "360730")


def generate(*extra: str, people: int = 300, seed: int = 7) -> str:
    out = StringIO()
    call_command(
        "generate_registry",
        f"--people={people}",
        f"--counties={','.join(COUNTIES)}",
        f"--seed={seed}",
        "--batch=120",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def snapshot() -> list[tuple]:
    return list(
        Person.objects.order_by("id_number").values_list(
            "name",
            "id_number",
            "certificate_number",
            "village_code",
            "disability_category",
            "disability_level",
            "relation_to_head",
            "phone",
            "household__head_name",
            "household__size",
            "household__poverty_status",
            "household__exit_year",
        )
    )


def test_counts_and_no_audit_rows():
    assert "Generated 300 people" in generate()
    households = Household.objects.filter(county_code__in=COUNTIES)
    assert Person.objects.count() == 300
    assert set(Person.objects.values_list("county_code", flat=True)) == set(COUNTIES)
    assert HouseholdStatus.objects.count() == households.count() == Household.objects.count()
    assert not Person.pgh_event_model.objects.exists()
    assert not Household.pgh_event_model.objects.exists()


def test_id_and_certificate_numbers_agree_with_the_record():
    generate()
    people = list(Person.objects.all())
    assert len({p.id_number for p in people}) == len(people)
    for person in people:
        parsed = parse_id_number(person.id_number)
        assert (parsed.gender, parsed.birth_date) == (person.gender, person.birth_date)
        if person.certificate_number is not None:
            certificate = parse_certificate_number(
                person.certificate_number,
                id_number=person.id_number,
                category=person.disability_category,
                level=person.disability_level,
            )
            assert certificate.id_number == person.id_number
    with_certificate = sum(p.certificate_number is not None for p in people)
    assert 0.9 * len(people) < with_certificate < len(people) + 1
    categories = Counter(p.disability_category for p in people)
    assert categories.most_common(1)[0][0] == 4


def test_places_are_real_and_households_hold_their_members():
    generate()
    villages = dict(
        Area.objects.filter(level=AreaLevel.VILLAGE, code__startswith="3607").values_list("code", "parent_id")
    )
    for county, township, village in Person.objects.values_list(
        "county_code", "township_code", "village_code"
    ):
        assert villages[village] == township and township.startswith(county)
    households = Household.objects.annotate(registered=Count("members"))
    for household in households:
        assert 1 <= household.registered <= household.size <= 6
        assert (household.poverty_status == PovertyStatus.OUT) <= (household.exit_year is not None)
    mismatched = Person.objects.exclude(village_code=F("household__village_code"))
    assert not mismatched.exists()
    heads = Person.objects.filter(relation_to_head="head")
    assert all(p.name == p.household.head_name for p in heads.select_related("household"))


def test_the_same_seed_gives_the_same_registry():
    generate(seed=11)
    first = snapshot()
    Person.objects.all().delete()
    HouseholdStatus.objects.all().delete()
    Household.objects.all().delete()
    generate(seed=11)
    assert snapshot() == first
    Person.objects.all().delete()
    generate(seed=12)
    assert snapshot() != first


def test_refuses_a_second_run_unless_appending():
    generate(people=50)
    with pytest.raises(CommandError, match="already have people.*--append"):
        generate(people=50)
    assert generate("--if-empty", people=50) == ""
    generate("--append", people=50)
    assert Person.objects.count() == 100
    assert Person.objects.values("id_number").distinct().count() == 100


def test_unknown_county_is_refused():
    with pytest.raises(CommandError, match="999999"):
        call_command("generate_registry", "--people=5", "--counties=999999", stdout=StringIO())
