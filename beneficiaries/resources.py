"""django-import-export resources for the registry, with the roster's column names.

The admin exports through them (ID and certificate numbers masked, as the admin shows them). Nothing
imports through them in the application: people are written by services that validate, version and audit
(`beneficiaries.services`, the roster import in `imports`). `PersonResource.import_data` is kept working
because `bench/import_roster.py` measures the roster import against it.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export import resources, widgets
from import_export.fields import Field

from .models import Household, Person
from .roster import fold
from .roster_columns import CATEGORY_WORDS, LEVEL_WORDS, POVERTY_WORDS
from .selectors import mask_id_number
from .validation import IdValidationError, parse_id_number

GENDER_WORDS = {"M": "男", "F": "女"}
YES_NO = {"是": True, "否": False}
PERSON_COLUMNS = (
    "county_code", "township_code", "village_code", "name", "gender", "birth_date", "id_number",
    "certificate_number", "disability_category", "disability_level", "phone",
)  # fmt: skip
HOUSEHOLD_COLUMNS = (
    "county_code", "township_code", "village_code", "head_name", "size", "poverty_status", "exit_year",
    "is_dibao", "is_tekun", "is_active",
)  # fmt: skip


class WordChoiceWidget(widgets.Widget):
    """A choice as a clerk writes it (肢体, 二级) or as its code; exported as the word."""

    def __init__(self, words: dict[str, Any]):
        super().__init__()
        self.words = words
        self.labels = {value: word for word, value in words.items()}

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Any:
        text = fold(value)
        if text in self.words:
            return self.words[text]
        if text.isdigit() and int(text) in self.labels:
            return int(text)
        if text in self.labels:
            return text
        raise ValueError(f"“{text}” is not one of {', '.join(self.words)}.")

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return self.labels.get(value, "")


class OptionalTextWidget(widgets.CharWidget):
    """Text whose empty cell means NULL: a certificate number is unique when present."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str | None:
        return fold(value) or None


def _column(attribute: str, column_name: str, widget: widgets.Widget | None = None, **kwargs: Any) -> Field:
    return Field(
        attribute=attribute, column_name=column_name, widget=widget or widgets.CharWidget(), **kwargs
    )


class PersonResource(resources.ModelResource):
    """A person per row, keyed by the ID number; the township and village are given as codes."""

    county_code = _column("county_code", "县", readonly=True)
    township_code = _column("township_code", "乡镇")
    village_code = _column("village_code", "村")
    name = _column("name", "姓名")
    gender = Field(attribute="gender", column_name="性别", readonly=True)
    birth_date = _column("birth_date", "出生日期", widgets.DateWidget(), readonly=True)
    id_number = _column("id_number", "身份证号")
    certificate_number = _column("certificate_number", "残疾证号", OptionalTextWidget())
    disability_category = _column("disability_category", "残疾类别", WordChoiceWidget(CATEGORY_WORDS))
    disability_level = _column("disability_level", "残疾等级", WordChoiceWidget(LEVEL_WORDS))
    phone = _column("phone", "联系电话")

    class Meta:
        model = Person
        fields = export_order = PERSON_COLUMNS
        import_id_fields = ["id_number"]
        # The roster import checks every row; the baseline it is measured against should check too.
        clean_model_instances = True

    def dehydrate_gender(self, person: Person) -> str:
        return GENDER_WORDS.get(person.gender, "")

    def import_instance(self, instance: Person, row: dict, **kwargs: Any) -> None:
        """Gender, birth date and county come from the ID number and the township code. They are set
        here rather than before saving because `full_clean` runs in between and needs them."""
        super().import_instance(instance, row, **kwargs)
        try:
            identity = parse_id_number(instance.id_number, today=timezone.localdate())
        except IdValidationError as error:
            raise ValidationError({"id_number": str(error)}) from None
        instance.id_number = identity.number
        instance.gender, instance.birth_date = identity.gender, identity.birth_date
        instance.county_code = (instance.township_code or "")[:6]


class PersonExportResource(PersonResource):
    """What the admin exports: whole numbers stay on the registry pages, where each view is recorded."""

    class Meta(PersonResource.Meta):
        name = "people (ID numbers masked)"

    def dehydrate_id_number(self, person: Person) -> str:
        return mask_id_number(person.id_number)

    def dehydrate_certificate_number(self, person: Person) -> str:
        return mask_id_number(person.certificate_number)


class HouseholdResource(resources.ModelResource):
    county_code = _column("county_code", "县")
    township_code = _column("township_code", "乡镇")
    village_code = _column("village_code", "村")
    head_name = _column("head_name", "户主姓名")
    size = _column("size", "家庭人口", widgets.IntegerWidget())
    poverty_status = _column("poverty_status", "脱贫状态", WordChoiceWidget(POVERTY_WORDS))
    exit_year = _column("exit_year", "脱贫年度", widgets.IntegerWidget())
    is_dibao = _column("is_dibao", "低保", WordChoiceWidget(YES_NO))
    is_tekun = _column("is_tekun", "特困", WordChoiceWidget(YES_NO))
    is_active = _column("is_active", "有效", WordChoiceWidget(YES_NO))

    class Meta:
        model = Household
        fields = export_order = HOUSEHOLD_COLUMNS
