"""Pages of enrolments: the list (with approval of many at once), a new record with its live eligibility
check, a record with its steps, a person's measures, and the county's eligibility settings."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from areas.models import AreaLevel
from areas.scoping import get_visible_or_404
from beneficiaries.errors import StaleRecord
from beneficiaries.models import Household, LifeStatus, Person
from beneficiaries.selectors import keyset_page, mask_id_number
from beneficiaries.views.common import area_names, history, int_or_none, township_choices

from ..enrollments import (
    REVIEW_PERMISSION,
    YEARS,
    EnrollmentError,
    NotEligible,
    check_application,
    eligibility_setting_save,
    enrollment_activate,
    enrollment_apply,
    enrollment_review,
    enrollment_stop,
    person_eligibility,
    policy_for,
    reference_date,
    this_year,
)
from ..models import BenefitType, EligibilitySetting, Enrollment, EnrollmentStatus, Facility, Unit
from ..selectors import ENROLLMENT_FILTERS, enrollment_search, recipient_name

BLANK = [("", "—")]


def _county(user) -> str:
    if user.area is None or user.area.level != AreaLevel.COUNTY:
        raise PermissionDenied
    return user.area.code


# --- list ------------------------------------------------------------------------------------------------


@login_required
@permission_required("programs.view_enrollment", raise_exception=True)
@require_GET
def enrollment_list(request):
    filters = {key: request.GET.get(key, "") for key in ENROLLMENT_FILTERS}
    page = keyset_page(
        enrollment_search(user=request.user, filters=filters),
        after=int_or_none(request.GET.get("after")),
        before=int_or_none(request.GET.get("before")),
    )
    query = {k: v for k, v in filters.items() if v}
    places = area_names(e.village_code for e in page.items)
    can_review = request.user.has_perm(REVIEW_PERMISSION) and request.user.area.level == AreaLevel.COUNTY
    context = {
        "rows": [
            {
                "e": e,
                "name": recipient_name(e),
                "place": places[e.village_code],
                "masked": mask_id_number(e.person.id_number) if e.person_id else "",
            }  # fmt: skip
            for e in page.items
        ],
        "filters": filters,
        "years": YEARS,
        "benefit_types": BenefitType.objects.filter(is_active=True).order_by("code"),
        "statuses": EnrollmentStatus.choices,
        "townships": township_choices(request.user) if request.user.area.level == AreaLevel.COUNTY else [],
        "next_url": f"?{urlencode({**query, 'after': page.next_after})}" if page.next_after else None,
        "prev_url": f"?{urlencode({**query, 'before': page.prev_before})}" if page.prev_before else None,
        "can_review": can_review and filters["status"] == EnrollmentStatus.APPLIED,
        "review_hint": can_review and filters["status"] != EnrollmentStatus.APPLIED,
    }
    return render(request, "programs/enrollments/list.html", context)


@login_required
@permission_required(REVIEW_PERMISSION, raise_exception=True)
@require_POST
def enrollment_approve_many(request):
    """Approve the ticked applications; each is approved on its own, and those that cannot be are named."""
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit() and len(v) < 19][:500]
    approved, refused = 0, []
    for enrollment in (
        Enrollment.objects.visible_to(request.user)
        .filter(pk__in=ids)
        .select_related("person", "household", "facility", "benefit_type")
    ):
        try:
            with transaction.atomic():
                enrollment_review(actor=request.user, enrollment=enrollment, approve=True,
                                  expected_version=enrollment.version)  # fmt: skip
            approved += 1
        except (EnrollmentError, StaleRecord) as error:
            refused.append(f"{recipient_name(enrollment)}（{enrollment.benefit_type.name}）：{error.message}")
    if approved:
        messages.success(request, _("%(count)s applications approved.") % {"count": approved})
    for line in refused[:20]:
        messages.error(request, line)
    if not ids:
        messages.error(request, _("Tick the applications to approve first."))
    return redirect(f"{request.path.rsplit('approve/', 1)[0]}?status=applied")


# --- new record ------------------------------------------------------------------------------------------


class EnrollmentForm(forms.Form):
    benefit_type = forms.ChoiceField(label=gettext_lazy("Benefit type"))
    year = forms.ChoiceField(label=gettext_lazy("Year"))
    start_date = forms.DateField(
        label=gettext_lazy("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=gettext_lazy("End date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Leave empty when it runs to the end of the year."),
    )
    amount = forms.CharField(
        label=gettext_lazy("Amount (yuan)"),
        required=False,
        help_text=gettext_lazy(
            "For monthly subsidies the standard amounts give the monthly sum; leave empty."
        ),
    )
    facility = forms.ChoiceField(label=gettext_lazy("Facility"), required=False)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)
    override_reason = forms.CharField(
        label=gettext_lazy("Reason for override"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Only when a rule fails and the county allows it anyway: say why."),
    )

    def __init__(self, *args, units, county_code, **kwargs):
        super().__init__(*args, **kwargs)
        types = BenefitType.objects.filter(is_active=True, unit__in=units).select_related("measure")
        self.fields["benefit_type"].choices = BLANK + [(t.code, f"{t.measure_id} {t.name}") for t in types]
        self.fields["year"].choices = [(y, y) for y in YEARS]
        facilities = Facility.objects.filter(county_code=county_code, is_active=True).order_by("name")
        self.fields["facility"].choices = BLANK + [(f.pk, f.name) for f in facilities]
        for name in ("benefit_type", "year", "start_date"):
            self.fields[name].widget.attrs.update(
                {
                    "hx-post": "check/",
                    "hx-trigger": "change",
                    "hx-target": "#eligibility",
                    "hx-include": "#enrollment-form",
                }  # fmt: skip
            )


def _recipient(request, county_code: str):
    """The person, household or facility the record is for, from ?person= / ?household= / ?facility=."""
    for key, model in (("person", Person), ("household", Household), ("facility", Facility)):
        value = request.GET.get(key) or request.POST.get(key)
        if value:
            record = get_visible_or_404(model, request.user, pk=value)
            if record.county_code != county_code:
                raise Http404
            return key, record
    raise Http404


UNITS = {"person": [Unit.PERSON, Unit.HOUSEHOLD], "household": [Unit.HOUSEHOLD],
         "facility": [Unit.INSTITUTION, Unit.BASE]}  # fmt: skip


def _application(request, key, record, form):
    data = {**form.cleaned_data} if form.is_valid() else {k: request.POST.get(k) for k in form.fields}
    facility = None
    if data.get("facility"):
        facility = Facility.objects.filter(
            pk=int_or_none(str(data["facility"])), county_code=record.county_code
        ).first()
    if key == "facility":
        facility = record
    return check_application(
        actor=request.user,
        data=data,
        person=record if key == "person" else None,
        household=record if key == "household" else None,
        facility=facility,
    )


@login_required
@permission_required("programs.add_enrollment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def enrollment_create(request):
    county = _county(request.user)
    key, record = _recipient(request, county)
    year = request.GET.get("year", "")
    initial = {"year": int(year) if year.isdigit() and int(year) in YEARS else this_year(),
               "benefit_type": request.GET.get("benefit_type", "")}  # fmt: skip
    if key == "facility":
        initial["facility"] = record.pk
    form = EnrollmentForm(request.POST or None, units=UNITS[key], county_code=county, initial=initial)
    verdict = None
    if request.method == "POST" and form.is_valid():
        try:
            application = _application(request, key, record, form)
            enrollment = enrollment_apply(
                actor=request.user,
                application=application,
                override_reason=form.cleaned_data["override_reason"],
            )
        except NotEligible as error:
            verdict = error.conditions
            form.add_error(None, _("The rules below are not met. Nothing was saved."))
        except EnrollmentError as error:
            for name, lines in error.errors.items():
                for line in lines:
                    form.add_error(name if name in form.fields else None, line)
        else:
            messages.success(request, _("The application is recorded; a supervisor approves it next."))
            return redirect("programs:enrollment-detail", pk=enrollment.pk)
    context = {
        "form": form,
        "key": key,
        "record": record,
        "failing": verdict,
        "can_override": request.user.has_perm(REVIEW_PERMISSION),
    }
    return render(request, "programs/enrollments/form.html", context)


@login_required
@permission_required("programs.add_enrollment", raise_exception=True)
@require_POST
def enrollment_check(request):
    """The live eligibility answer while the form is filled in (htmx)."""
    county = _county(request.user)
    key, record = _recipient(request, county)
    form = EnrollmentForm(request.POST, units=UNITS[key], county_code=county)
    context = {"checked": False}
    if key != "facility" and form.is_valid() and form.cleaned_data["benefit_type"]:
        benefit_type = BenefitType.objects.get(code=form.cleaned_data["benefit_type"])
        year = int(form.cleaned_data["year"])
        person = record if key == "person" else None
        on = form.cleaned_data["start_date"] or reference_date(year)
        if person is not None:
            verdict = next(
                (
                    v
                    for v in person_eligibility(person, year=year, on=on)
                    if v.benefit_type.code == benefit_type.code
                ),
                None,
            )
            if verdict is not None:
                context = {"checked": True, "verdict": verdict}
    return render(request, "programs/enrollments/_eligibility.html", context)


# --- one record ------------------------------------------------------------------------------------------


def _steps(user, enrollment: Enrollment) -> dict:
    same_county = user.area.code == enrollment.county_code
    status = enrollment.status
    return {
        "review": same_county and user.has_perm(REVIEW_PERMISSION) and status == EnrollmentStatus.APPLIED
        and enrollment.applied_by_id != user.pk,
        "activate": same_county and user.has_perm("programs.change_enrollment")
        and status == EnrollmentStatus.APPROVED,
        "stop": same_county and user.has_perm("programs.change_enrollment")
        and status in (EnrollmentStatus.APPROVED, EnrollmentStatus.ACTIVE),
    }  # fmt: skip


@login_required
@permission_required("programs.view_enrollment", raise_exception=True)
@require_GET
def enrollment_detail(request, pk: int):
    enrollment = get_visible_or_404(Enrollment, request.user, pk=pk)
    return render(request, "programs/enrollments/detail.html", _detail_context(request, enrollment))


def _detail_context(request, enrollment, **extra) -> dict:
    return {
        "e": enrollment,
        "name": recipient_name(enrollment),
        "masked": mask_id_number(enrollment.person.id_number) if enrollment.person_id else "",
        "place": area_names([enrollment.village_code])[enrollment.village_code],
        "steps": _steps(request.user, enrollment),
        "history": history(enrollment)[:10],
        "today": timezone.localdate(),
        **extra,
    }


@login_required
@permission_required("programs.view_enrollment", raise_exception=True)
@require_POST
def enrollment_step(request, pk: int):
    enrollment = get_visible_or_404(Enrollment, request.user, pk=pk)
    step = request.POST.get("step", "")
    version = int_or_none(request.POST.get("version")) or 0
    allowed = _steps(request.user, enrollment)
    if step in allowed and not allowed[step] and 0 < version < enrollment.version:
        # The page was opened before someone else moved the record on: if the step was the user's to take
        # then, the service refuses it as stale and says so, instead of a bare 403.
        opened = (
            Enrollment.pgh_event_model.objects.filter(pgh_obj_id=enrollment.pk, version=version)
            .order_by("-pgh_id")
            .first()
        )
        allowed[step] = opened is not None and _steps(request.user, opened)[step]
    if step not in allowed or not allowed[step]:
        raise PermissionDenied
    try:
        if step == "review":
            approve = request.POST.get("decision") == "approve"
            enrollment_review(actor=request.user, enrollment=enrollment, approve=approve,
                              note=request.POST.get("review_note", ""), expected_version=version)  # fmt: skip
        elif step == "activate":
            enrollment_activate(actor=request.user, enrollment=enrollment, expected_version=version)
        else:
            end = forms.DateField(required=False).clean(request.POST.get("end_date") or None)
            enrollment_stop(actor=request.user, enrollment=enrollment, end_date=end,
                            reason=request.POST.get("stop_reason", ""), expected_version=version)  # fmt: skip
    except forms.ValidationError:
        messages.error(request, _("End date: enter a date as 2018-03-01."))
    except (EnrollmentError, StaleRecord) as error:
        lines = [line for lines in getattr(error, "errors", {"": [error.message]}).values() for line in lines]
        for line in lines:
            messages.error(request, line)
    else:
        messages.success(request, _("Saved."))
    return redirect("programs:enrollment-detail", pk=enrollment.pk)


# --- a person's measures (on the person's page) ----------------------------------------------------------


@login_required
@permission_required("programs.view_enrollment", raise_exception=True)
@require_GET
def person_measures(request, pk: int):
    person = get_visible_or_404(Person, request.user, pk=pk)
    raw = request.GET.get("year", "")
    latest = Enrollment.objects.filter(person=person).order_by("-year").values_list("year", flat=True).first()
    year = int(raw) if raw.isdigit() and int(raw) in YEARS else (latest or this_year())
    received = (
        Enrollment.objects.filter(person=person)
        .select_related("benefit_type")
        .order_by("-year", "benefit_type_id")
    )
    household_records = (
        Enrollment.objects.filter(household_id=person.household_id, recipient_unit=Unit.HOUSEHOLD)
        .select_related("benefit_type")
        .order_by("-year", "benefit_type_id")
        if person.household_id
        else []
    )
    verdicts = person_eligibility(person, year=year) if person.life_status == LifeStatus.ACTIVE else []
    context = {
        "person": person,
        "year": year,
        "years": YEARS,
        "received": received,
        "household_records": household_records,
        "eligible": [v for v in verdicts if v.eligible and v.ruled],
        "not_eligible": [v for v in verdicts if v.conditions and v.conflict is None],
        "can_add": request.user.has_perm("programs.add_enrollment")
        and request.user.area.code == person.county_code,
        "policy": policy_for(person.county_code),
    }
    return render(request, "programs/enrollments/_person_measures.html", context)


# --- county settings -------------------------------------------------------------------------------------


class SettingForm(forms.Form):
    living_extends_to_low_income = forms.BooleanField(
        label=gettext_lazy("Extend the living subsidy to registered poor and 特困 households"), required=False
    )
    nursing_extends_to_level_3_4 = forms.BooleanField(
        label=gettext_lazy("Extend the nursing subsidy to level 3-4 intellectual and mental disability"),
        required=False,
    )
    working_age_min = forms.IntegerField(label=gettext_lazy("Working age from"), min_value=14, max_value=70)
    working_age_max = forms.IntegerField(label=gettext_lazy("Working age to"), min_value=14, max_value=70)


@login_required
@permission_required("programs.view_eligibilitysetting", raise_exception=True)
@require_http_methods(["GET", "POST"])
def eligibility_settings(request):
    county = _county(request.user)
    setting = EligibilitySetting.objects.filter(county_id=county).first()
    policy = policy_for(county)
    can_edit = request.user.has_perm("programs.change_eligibilitysetting")
    form = SettingForm(request.POST or None, initial=policy.__dict__)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                eligibility_setting_save(actor=request.user, county_code=county, values=form.cleaned_data)
            except EnrollmentError as error:
                for name, lines in error.errors.items():
                    for line in lines:
                        form.add_error(name if name in form.fields else None, line)
            else:
                messages.success(request, _("The county's settings are saved."))
                return redirect("programs:eligibility-settings")
    context = {"form": form, "setting": setting, "can_edit": can_edit}
    return render(request, "programs/enrollments/settings.html", context)


urlpatterns = [
    path("enrollments/", enrollment_list, name="enrollment-list"),
    path("enrollments/approve/", enrollment_approve_many, name="enrollment-approve"),
    path("enrollments/new/", enrollment_create, name="enrollment-create"),
    path("enrollments/new/check/", enrollment_check, name="enrollment-check"),
    path("enrollments/<int:pk>/", enrollment_detail, name="enrollment-detail"),
    path("enrollments/<int:pk>/step/", enrollment_step, name="enrollment-step"),
    path("enrollments/person/<int:pk>/", person_measures, name="person-measures"),
    path("enrollments/settings/", eligibility_settings, name="eligibility-settings"),
]
