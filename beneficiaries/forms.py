"""Forms render the fields and coerce types; every rule lives in the services, whose errors come back
onto the form (`apply_errors`)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from areas.models import Area, AreaLevel

from .choices import DisabilityCategory, DisabilityLevel
from .errors import DuplicatePerson, RecordInvalid, RegistryError
from .models import LifeStatus, PovertyCause, PovertyStatus, Relation

BLANK = [("", "—")]


def apply_errors(form: forms.Form, error: RegistryError) -> None:
    """Put a service's error on the form: each field's messages under it, the rest on top."""
    if isinstance(error, RecordInvalid):
        for name, messages in error.errors.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
    elif isinstance(error, DuplicatePerson):
        form.add_error(error.field, error.message)
    else:
        form.add_error(None, error.message)


def _children(parent_code: str | None, level: AreaLevel) -> list[tuple[str, str]]:
    if not parent_code:
        return BLANK
    areas = Area.objects.filter(parent_id=parent_code, level=level).order_by("code")
    return BLANK + [(a.code, a.name) for a in areas]


def _chained(field: forms.Field, target: str) -> None:
    """Choosing in this select reloads the options of the next one (htmx)."""
    field.widget.attrs.update(
        {"hx-get": "/registry/area-options/", "hx-target": f"#id_{target}", "hx-trigger": "change"}
    )


class LocatedForm(forms.Form):
    """County is the user's own; township and village are chosen from that county's lists."""

    township_code = forms.ChoiceField(label=_("Township"), required=False)
    village_code = forms.ChoiceField(label=_("Village"), required=False)

    def __init__(self, *args, county_code: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.county_code = county_code
        township = self.data.get(self.add_prefix("township_code")) or self.initial.get("township_code")
        self.fields["township_code"].choices = _children(county_code, AreaLevel.TOWNSHIP)
        self.fields["village_code"].choices = _children(township, AreaLevel.VILLAGE)
        _chained(self.fields["township_code"], "village_code")

    def service_data(self) -> dict:
        return {**self.cleaned_data, "county_code": self.county_code}


class PersonForm(LocatedForm):
    name = forms.CharField(label=_("Full name"), max_length=50, required=False)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "class": "mono"}),
    )
    disability_category = forms.TypedChoiceField(
        label=_("Disability category"), choices=BLANK + DisabilityCategory.choices, coerce=int, required=False
    )
    disability_level = forms.TypedChoiceField(
        label=_("Disability level"), choices=BLANK + DisabilityLevel.choices, coerce=int, required=False
    )
    certificate_number = forms.CharField(
        label=_("Disability certificate number"),
        max_length=40,
        required=False,
        help_text=_("The ID number followed by the category digit and the level digit, 20 characters."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono"}),
    )
    household = forms.IntegerField(required=False, widget=forms.HiddenInput)
    relation_to_head = forms.ChoiceField(
        label=_("Relation to the head"), choices=BLANK + Relation.choices, required=False
    )
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    is_employed = forms.BooleanField(label=_("In work"), required=False)
    work_injury_nursing = forms.BooleanField(label=_("Receives work-injury nursing pay"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    field_order = [
        "name", "id_number", "disability_category", "disability_level", "certificate_number",
        "township_code", "village_code", "relation_to_head", "phone", "is_employed", "work_injury_nursing",
    ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any change to these re-runs the live check of the ID and certificate numbers.
        for name in ("id_number", "certificate_number", "disability_category", "disability_level"):
            self.fields[name].widget.attrs.update(
                {
                    "hx-post": "/registry/check/",
                    "hx-trigger": "input changed delay:300ms" if "number" in name else "change",
                    "hx-target": "#id-check",
                    "hx-include": "#person-form",
                }
            )


class StatusForm(forms.Form):
    life_status = forms.ChoiceField(label=_("Status"), choices=LifeStatus.choices)
    effective_date = forms.DateField(label=_("Since"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_date"].initial = timezone.localdate()


class DeactivateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class HouseholdForm(LocatedForm):
    head_name = forms.CharField(label=_("Head of household"), max_length=50, required=False)
    size = forms.IntegerField(label=_("Household size"), required=False, min_value=1, max_value=30)
    poverty_status = forms.ChoiceField(
        label=_("Poverty status"), choices=BLANK + PovertyStatus.choices, required=False
    )
    exit_year = forms.IntegerField(label=_("Year out of poverty"), required=False)
    is_dibao = forms.BooleanField(label=_("Minimum living guarantee (低保)"), required=False)
    is_tekun = forms.BooleanField(label=_("Extreme-poverty support (特困)"), required=False)
    main_cause = forms.ChoiceField(
        label=_("Main cause of poverty"), choices=BLANK + PovertyCause.choices, required=False
    )
    effective_date = forms.DateField(
        label=_("Status valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("When the poverty status above took effect; today if left empty."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    field_order = ["head_name", "size", "township_code", "village_code", "poverty_status", "exit_year"]


class TransferForm(forms.Form):
    county_code = forms.ChoiceField(label=_("To county"))
    township_code = forms.ChoiceField(label=_("Township"))
    village_code = forms.ChoiceField(label=_("Village"))
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, exclude_county: str, **kwargs):
        super().__init__(*args, **kwargs)
        counties = (
            Area.objects.filter(level=AreaLevel.COUNTY).exclude(code=exclude_county).select_related("parent")
        )
        self.fields["county_code"].choices = BLANK + [
            (c.code, f"{c.parent.name} · {c.name}") for c in counties
        ]
        self.fields["township_code"].choices = _children(self.data.get("county_code"), AreaLevel.TOWNSHIP)
        self.fields["village_code"].choices = _children(self.data.get("township_code"), AreaLevel.VILLAGE)
        _chained(self.fields["county_code"], "township_code")
        _chained(self.fields["township_code"], "village_code")
