import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.models import Role, User
from accounts.roles import ROLE_PERMISSIONS, group_name, sync_role_groups
from accounts.services import AccountError, user_create, user_update_role
from areas.models import Area

pytestmark = pytest.mark.django_db


def test_each_role_has_a_group_with_exactly_its_permissions():
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=group_name(role))
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        assert held == set(names), role


def test_sync_refuses_an_unknown_permission(monkeypatch):
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.COUNTY_CLERK, ("areas.view_area", "areas.fly_to_the_moon"))
    with pytest.raises(LookupError, match="areas.fly_to_the_moon"):
        sync_role_groups()


def test_a_user_gets_the_group_of_their_role_and_only_it():
    user = user_create(
        username="clerk1", password="x", role=Role.COUNTY_CLERK, area_code="360781", check_password=False
    )
    assert [g.name for g in user.groups.all()] == ["role:county_clerk"]
    assert user.has_perm("areas.view_area")
    assert not user.has_perm("accounts.view_user")
    user = user_update_role(user=User.objects.get(pk=user.pk), role=Role.CITY_REVIEWER, area_code="360700")
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    assert [g.name for g in user.groups.all()] == ["role:city_reviewer"]
    assert user.has_perm("accounts.view_user")


@pytest.mark.parametrize(
    ("role", "area_code"),
    [
        (Role.COUNTY_CLERK, "360700"),
        (Role.COUNTY_SUPERVISOR, "360000"),
        (Role.CITY_REVIEWER, "360781"),
        (Role.PROVINCE_OFFICER, "360700"),
        (Role.COUNTY_CLERK, "360781100"),
    ],
)
def test_a_role_needs_an_area_of_its_level(role, area_code):
    with translation.override("zh-hans"), pytest.raises(AccountError, match="所属地区必须是"):
        user_create(username="u", password="x", role=role, area_code=area_code, check_password=False)
    assert not User.objects.filter(username="u").exists()


def test_model_clean_names_the_area_field():
    user = User(username="u", role=Role.COUNTY_CLERK, area=Area.objects.get(code="360700"))
    with pytest.raises(ValidationError) as info:
        user.clean()
    assert "area" in info.value.message_dict


def test_password_validators_apply():
    with pytest.raises(AccountError):
        user_create(username="weak", password="12345678", role=Role.COUNTY_CLERK, area_code="360781")
    user = user_create(
        username="strong", password="ruijin-clerk-2018", role=Role.COUNTY_CLERK, area_code="360781"
    )
    assert user.check_password("ruijin-clerk-2018")


def test_unknown_area_and_taken_username_are_refused():
    with pytest.raises(AccountError, match="360799"):
        user_create(
            username="u", password="x", role=Role.COUNTY_CLERK, area_code="360799", check_password=False
        )
    user_create(username="u", password="x", role=Role.COUNTY_CLERK, area_code="360781", check_password=False)
    with pytest.raises(AccountError, match="u"):
        user_create(
            username="u", password="x", role=Role.COUNTY_CLERK, area_code="360730", check_password=False
        )


def test_create_user_command(capsys):
    call_command(
        "create_user",
        "--username",
        "gz",
        "--role",
        "city_reviewer",
        "--area",
        "360700",
        "--password",
        "ganzhou-review-2018",
        "--name",
        "赣州审核",
    )
    user = User.objects.get(username="gz")
    assert (user.role, user.area_id, user.first_name) == ("city_reviewer", "360700", "赣州审核")
    assert "赣州市" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command(
            "create_user",
            "--username",
            "bad",
            "--role",
            "city_reviewer",
            "--area",
            "360781",
            "--password",
            "ganzhou-review-2018",
        )


def test_seed_demo_is_idempotent(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass")
    call_command("seed_demo")
    call_command("seed_demo")
    expected = {
        "province": ("province_officer", "360000"),
        "ganzhou": ("city_reviewer", "360700"),
        "ruijin": ("county_clerk", "360781"),
        "ningdu": ("county_clerk", "360730"),
        "nanchang": ("county_clerk", "360121"),
    }
    found = {u.username: (u.role, u.area_id) for u in User.objects.filter(username__in=expected)}
    assert found == expected
    assert all(u.check_password("another-demo-pass") for u in User.objects.filter(username__in=expected))
