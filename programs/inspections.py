"""The inspection ledger (M01 督查整改台帐): inspections, the problems they found, the rectification items
those give rise to, the evidence that an item was done, and its closing (销号).

The permissions (accounts/roles.py) say which roles may try a thing; the rules below say where.

- Recording an inspection (`inspection_create`). An inspection is of the province, a city or a county;
  its items may go further down, to townships and villages.
  * a county (its supervisor) records only self-checks (自查) of its own county;
  * a city records any kind of inspection of the city itself or of one of its counties (瑞金, a
    province-managed county, is still among 赣州's counties: its parent is the city);
  * the province records any kind of inspection of any province, city or county area.
- Findings and rectification items are added by whoever may record that inspection (the same test on
  the inspection's area and kind), so a county cannot add to a spot check that the city made of it.
  An item's area is the inspection's area or an area below it.
- Reporting progress (`rectification_update`) and attaching evidence (`evidence_add`): anyone whose
  role holds the permission and whose area holds the item; the county clerk reports on the county's
  items whatever inspection raised them. A closed item takes neither.
- Closing (`rectification_close`): roles holding `close_rectification`. A county closes only items of its
  own self-checks; a city or the province closes any item in its area, so that what the city (or
  province) found is closed by the office that found it, or above. Closing needs a note on how it was
  rectified and at least one evidence file. A closed item stays closed: the ledger is a record.
- Progress and closing carry the `version` the user opened; a save over a newer version changes nothing
  and says so (StaleRecord, with what the other person changed).
- An item is overdue when it is not closed and its deadline is before today: an item due today is not
  yet overdue.
- Evidence is a PDF, JPEG, PNG, .xlsx or .docx of at most 10 MB, recognised by its first bytes (and, for
  the Office files, the parts inside the zip), never by its name. The name the user gave is kept as data
  for display; the stored file is named by the server, and files are given back only through a scoped
  view as attachments (`evidence_download_name` gives the name with the extension of what it really is).
"""

import hashlib
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath
from typing import Any

import pghistory
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import Area, AreaLevel
from areas.scoping import user_scope_prefix
from beneficiaries.errors import NotAllowed, RecordInvalid, StaleRecord

from .models import (
    Evidence,
    Finding,
    Inspection,
    InspectionKind,
    Rectification,
    RectificationStatus,
)

INSPECTED_LEVELS = (AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY)
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
TEXT_LIMIT = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# -- who may do what where -----------------------------------------------------------------------------


def _inside(actor, code: str) -> bool:
    prefix = user_scope_prefix(actor)
    return prefix is not None and code.startswith(prefix)


def inspectable_areas(actor) -> QuerySet[Area]:
    """The areas the actor may record an inspection of: its own and, above a county, the cities and
    counties below it."""
    if user_scope_prefix(actor) is None:
        return Area.objects.none()
    return Area.objects.subtree(actor.area).filter(level__in=INSPECTED_LEVELS).order_by("code")


def inspection_kinds(actor) -> list[InspectionKind]:
    """A county records its own self-checks; the city and the province any kind."""
    if actor.area is not None and actor.area.level == AreaLevel.COUNTY:
        return [InspectionKind.SELF_CHECK]
    return list(InspectionKind)


def may_record(actor, *, area: Area, kind: str, permission: str = "programs.add_inspection") -> bool:
    return (
        actor.has_perm(permission)
        and area.level in INSPECTED_LEVELS
        and _inside(actor, area.code)
        and kind in inspection_kinds(actor)
    )


def may_manage(actor, inspection: Inspection, permission: str) -> bool:
    """May add findings or items to this inspection: whoever may record one of its area and kind."""
    return may_record(actor, area=inspection.area, kind=inspection.kind, permission=permission)


def may_close(actor, item: Rectification) -> bool:
    if not actor.has_perm("programs.close_rectification") or not _inside(actor, item.area.code):
        return False
    if actor.area.level == AreaLevel.COUNTY:
        inspection = item.finding.inspection
        return inspection.kind == InspectionKind.SELF_CHECK and inspection.area_id == actor.area.code
    return True


def _require_visible(actor, item: Rectification) -> None:
    if not _inside(actor, item.area.code):
        raise NotAllowed(_("This record is outside your area."))


# -- field checks --------------------------------------------------------------------------------------


class _Errors:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise RecordInvalid(self.errors)


def _text(
    errors: _Errors, data: Mapping[str, Any], key: str, label: str, *, limit: int, required=True
) -> str:
    value = data.get(key)
    if value is None or isinstance(value, list | dict | tuple | set):
        value = ""
    # Line breaks are kept in long texts; other control characters are nothing anyone typed.
    value = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", "", str(value)).replace("\r", "").strip()
    if required and not value:
        errors.add(key, _("%(field)s: this field is empty.") % {"field": label})
    elif len(value) > limit:
        errors.add(key, _("%(field)s: at most %(count)s characters.") % {"field": label, "count": limit})
    return value


def _date(errors: _Errors, data: Mapping[str, Any], key: str, label: str) -> date | None:
    value = data.get(key)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        errors.add(key, _("%(field)s: enter a date such as 2018-06-30.") % {"field": label})
        return None


def _area(errors: _Errors, data: Mapping[str, Any], key: str) -> Area | None:
    raw = data.get(key)
    code = raw.code if isinstance(raw, Area) else str(raw or "").strip()
    area = Area.objects.filter(code=code).first() if code else None
    if area is None:
        errors.add(key, _("Area: choose an area from the list."))
    return area


# -- inspections, findings, items ----------------------------------------------------------------------


def inspection_check(*, actor, data: Mapping[str, Any]) -> dict[str, Any]:
    errors = _Errors()
    values: dict[str, Any] = {"area": _area(errors, data, "area")}
    kind = str(data.get("kind") or "")
    if kind not in InspectionKind.values:
        errors.add("kind", _("%(field)s: choose one of the listed values.") % {"field": _("Inspection type")})
    elif kind not in inspection_kinds(actor):
        errors.add("kind", _("Inspection type: a county records only its own self-checks."))
    values["kind"] = kind
    area = values["area"]
    if area is not None and "kind" not in errors.errors:
        if area.level not in INSPECTED_LEVELS:
            errors.add("area", _("Area: an inspection is of the province, a city or a county."))
        elif not _inside(actor, area.code):
            errors.add("area", _("Area: %(name)s is outside your area.") % {"name": area.name})
    values["date"] = _date(errors, data, "date", _("Inspection date"))
    if values["date"] is not None and values["date"] > timezone.localdate():
        errors.add("date", _("Inspection date: the date cannot be in the future."))
    values["team"] = _text(errors, data, "team", _("Inspection team"), limit=200)
    values["subject"] = _text(errors, data, "subject", _("Subject"), limit=200)
    values["summary"] = _text(errors, data, "summary", _("Summary"), limit=TEXT_LIMIT, required=False)
    errors.raise_if_any()
    return values


@transaction.atomic
def inspection_create(
    *, actor, data: Mapping[str, Any], findings: Sequence[Mapping[str, Any]] = ()
) -> Inspection:
    """An inspection, with the findings (and their items) when they are known at once (the API)."""
    if not actor.has_perm("programs.add_inspection"):
        raise NotAllowed(_("Your role does not record inspections."))
    values = inspection_check(actor=actor, data=data)
    with pghistory.context(user=actor.pk):
        inspection = Inspection.objects.create(**values, created_by=actor)
    for number, entry in enumerate(findings, start=1):
        try:
            finding = finding_add(actor=actor, inspection=inspection, data=entry)
            for item_number, item in enumerate(entry.get("rectifications") or (), start=1):
                try:
                    rectification_add(actor=actor, finding=finding, data=item)
                except RecordInvalid as error:
                    where = _("Finding %(n)s, item %(m)s") % {"n": number, "m": item_number}
                    raise _nested(error, where) from error
        except RecordInvalid as error:
            if "findings" in error.errors:
                raise
            raise _nested(error, _("Finding %(n)s") % {"n": number}) from error
    return inspection


def _nested(error: RecordInvalid, where: str) -> RecordInvalid:
    return RecordInvalid(
        {
            "findings": [
                _("%(where)s: %(message)s") % {"where": where, "message": message}
                for messages in error.errors.values()
                for message in messages
            ]
        }
    )


@transaction.atomic
def finding_add(*, actor, inspection: Inspection, data: Mapping[str, Any]) -> Finding:
    if not may_manage(actor, inspection, "programs.add_finding"):
        raise NotAllowed(_("Findings are added by the office that made this inspection, or above it."))
    errors = _Errors()
    description = _text(errors, data, "description", _("Problem found"), limit=TEXT_LIMIT)
    errors.raise_if_any()
    with pghistory.context(user=actor.pk):
        return Finding.objects.create(inspection=inspection, description=description, created_by=actor)


def item_areas(inspection: Inspection) -> QuerySet[Area]:
    """The areas a form offers for an item: the inspection's, and those one level below (the cities and
    counties for the province). The service accepts any area below."""
    area = inspection.area
    below = {
        AreaLevel.PROVINCE: (AreaLevel.CITY, AreaLevel.COUNTY),
        AreaLevel.CITY: (AreaLevel.COUNTY,),
        AreaLevel.COUNTY: (AreaLevel.TOWNSHIP,),
    }.get(area.level, ())
    return Area.objects.filter(Q(code=area.code) | Q(code__startswith=area.prefix, level__in=below)).order_by(
        "code"
    )


def rectification_check(*, finding: Finding, data: Mapping[str, Any]) -> dict[str, Any]:
    errors = _Errors()
    area = _area(errors, data, "area")
    inspected = finding.inspection.area
    if area is not None and not area.code.startswith(inspected.prefix):
        errors.add(
            "area",
            _("Area: an item is in %(name)s or an area below it.") % {"name": inspected.name},
        )
    values = {
        "area": area,
        "issue": _text(errors, data, "issue", _("Rectification item"), limit=TEXT_LIMIT),
        "responsible_unit": _text(errors, data, "responsible_unit", _("Responsible unit"), limit=100),
        "deadline": _date(errors, data, "deadline", _("Deadline")),
    }
    inspected_on = finding.inspection.date
    if values["deadline"] is not None and values["deadline"] < inspected_on:
        errors.add(
            "deadline", _("Deadline: it cannot be before the inspection (%(date)s).") % {"date": inspected_on}
        )
    errors.raise_if_any()
    return values


@transaction.atomic
def rectification_add(*, actor, finding: Finding, data: Mapping[str, Any]) -> Rectification:
    if not may_manage(actor, finding.inspection, "programs.add_rectification"):
        raise NotAllowed(_("Items are added by the office that made this inspection, or above it."))
    values = rectification_check(finding=finding, data=data)
    with pghistory.context(user=actor.pk):
        return Rectification.objects.create(finding=finding, created_by=actor, **values)


# -- progress and closing ------------------------------------------------------------------------------


def _changes_since(pk: int, version: int, current: Rectification) -> dict[str, tuple[object, object]]:
    """What changed between the version the user opened and the stored one, from the history rows."""
    opened = Rectification.events.rel.related_model.objects.filter(pgh_obj_id=pk, version=version)
    opened = opened.order_by("-pgh_id").first()
    if opened is None:
        return {}
    shown = ("status", "progress_note", "closing_note", "closed_at")
    return {
        name: (getattr(opened, name), getattr(current, name))
        for name in shown
        if getattr(opened, name) != getattr(current, name)
    }


def _stale(pk: int, expected_version: int) -> StaleRecord:
    current = Rectification.objects.get(pk=pk)
    return StaleRecord(
        _(
            "Someone else saved this record after you opened it. Nothing of yours was saved: "
            "look at what changed, then edit again."
        ),
        current_version=current.version,
        changes=_changes_since(pk, expected_version, current),
    )


def _closed_refusal() -> RecordInvalid:
    return RecordInvalid({"__all__": [_("This item is closed: it takes no more changes.")]})


@transaction.atomic
def rectification_update(
    *, actor, item: Rectification, data: Mapping[str, Any], expected_version: int
) -> Rectification:
    """Progress on an item: its status (open or in progress) and what has been done so far."""
    if not actor.has_perm("programs.change_rectification"):
        raise NotAllowed(_("Your role does not report progress on rectification items."))
    _require_visible(actor, item)
    errors = _Errors()
    status = str(data.get("status") or "")
    if status not in (RectificationStatus.OPEN, RectificationStatus.IN_PROGRESS):
        errors.add(
            "status", _("Status: choose open or in progress; an item is closed with its evidence, below.")
        )
    note = _text(errors, data, "progress_note", _("Progress"), limit=TEXT_LIMIT, required=False)
    errors.raise_if_any()
    locked = Rectification.objects.select_for_update().get(pk=item.pk)
    if locked.status == RectificationStatus.CLOSED:
        raise _closed_refusal()
    if locked.version != expected_version:
        raise _stale(item.pk, expected_version)
    with pghistory.context(user=actor.pk):
        Rectification.objects.filter(pk=item.pk).update(
            status=status, progress_note=note, version=F("version") + 1, updated_at=timezone.now()
        )
    return Rectification.objects.select_related("area", "finding__inspection__area").get(pk=item.pk)


@transaction.atomic
def rectification_close(
    *, actor, item: Rectification, closing_note: str, expected_version: int
) -> Rectification:
    """Close (销号) an item: how it was rectified, with at least one evidence file already attached."""
    _require_visible(actor, item)
    if not may_close(actor, item):
        raise NotAllowed(
            _(
                "A county closes only the items of its own self-checks; "
                "this one is closed by the office above."
            )
        )
    errors = _Errors()
    note = _text(
        errors, {"closing_note": closing_note}, "closing_note", _("How it was rectified"), limit=TEXT_LIMIT
    )
    errors.raise_if_any()
    locked = Rectification.objects.select_for_update().get(pk=item.pk)
    if locked.status == RectificationStatus.CLOSED:
        raise _closed_refusal()
    if locked.version != expected_version:
        raise _stale(item.pk, expected_version)
    if not locked.evidence.exists():
        raise RecordInvalid(
            {"evidence": [_("Evidence: attach at least one file showing the rectification before closing.")]}
        )
    with pghistory.context(user=actor.pk):
        Rectification.objects.filter(pk=item.pk).update(
            status=RectificationStatus.CLOSED,
            closing_note=note,
            closed_by=actor,
            closed_at=timezone.now(),
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
    return Rectification.objects.select_related("area", "finding__inspection__area").get(pk=item.pk)


# -- evidence ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    label: str


PDF = FileType("application/pdf", ".pdf", "PDF")
JPEG = FileType("image/jpeg", ".jpg", "JPEG")
PNG = FileType("image/png", ".png", "PNG")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", "Excel")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", "Word")
EVIDENCE_TYPES = (PDF, JPEG, PNG, XLSX, DOCX)
# What a name may claim: used only to say "the name says PDF but it is not", never to decide.
CLAIMED = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".xlsx": XLSX, ".docx": DOCX}
ZIP_MAGIC = b"PK\x03\x04"


def sniff(upload: UploadedFile) -> FileType | None:
    """What the file is by its content: magic bytes, and for the Office formats the parts in the zip."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if not head.startswith(ZIP_MAGIC):
        return None
    try:
        # Only the central directory is read: nothing is decompressed.
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None  # not an Office file, or one with macros
    if "xl/workbook.xml" in names:
        return XLSX
    if "word/document.xml" in names:
        return DOCX
    return None


def clean_file_name(name: str) -> str:
    """The name as the user gave it, for display only: no directories, no control characters."""
    name = _CONTROL.sub("", str(name or "")).replace("\\", "/")
    name = PurePosixPath(name).name.strip() or "—"
    if len(name) > 200:
        suffix = PurePosixPath(name).suffix[:20]
        name = name[: 200 - len(suffix)] + suffix
    return name


def evidence_download_name(evidence: Evidence) -> str:
    """The user's name with the extension of what the file really is."""
    kind = next((t for t in EVIDENCE_TYPES if t.content_type == evidence.content_type), None)
    path = PurePosixPath(evidence.original_name)
    if kind is None or CLAIMED.get(path.suffix.lower()) == kind:
        return evidence.original_name
    stem = path.stem if path.suffix.lower() in CLAIMED or len(path.suffix) <= 5 else path.name
    return f"{stem or 'evidence'}{kind.extension}"


@transaction.atomic
def evidence_add(*, actor, item: Rectification, upload: UploadedFile) -> Evidence:
    if not actor.has_perm("programs.add_evidence"):
        raise NotAllowed(_("Your role does not attach evidence."))
    _require_visible(actor, item)
    if Rectification.objects.filter(pk=item.pk, status=RectificationStatus.CLOSED).exists():
        raise _closed_refusal()
    name = clean_file_name(upload.name)
    if not upload.size:
        raise RecordInvalid({"file": [_("%(name)s: the file is empty.") % {"name": name}]})
    if upload.size > MAX_EVIDENCE_BYTES:
        raise RecordInvalid(
            {
                "file": [
                    _("%(name)s: the file is %(size)s MB; the limit is %(limit)s MB.")
                    % {
                        "name": name,
                        "size": round(upload.size / 1048576, 1),
                        "limit": MAX_EVIDENCE_BYTES // 1048576,
                    }
                ]
            }
        )
    kind = sniff(upload)
    if kind is None:
        claimed = CLAIMED.get(PurePosixPath(name).suffix.lower())
        message = (
            _("%(name)s: the name says %(type)s, but the content is not a %(type)s file.")
            % {"name": name, "type": claimed.label}
            if claimed
            else _("%(name)s: only PDF, JPEG, PNG, Excel (.xlsx) and Word (.docx) files can be attached.")
            % {"name": name}
        )
        raise RecordInvalid({"file": [message]})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    same = item.evidence.filter(sha256=digest.hexdigest()).first()
    if same is not None:
        raise RecordInvalid(
            {
                "file": [
                    _("%(name)s: this file is already attached as %(other)s.") % {"name": name, "other": same}
                ]
            }
        )
    with pghistory.context(user=actor.pk):
        return Evidence.objects.create(
            rectification=item,
            file=upload,
            original_name=name,
            content_type=kind.content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )


# -- selectors -----------------------------------------------------------------------------------------


def overdue_q(today: date | None = None) -> Q:
    """Not closed, and the deadline has passed: an item due today is not yet overdue."""
    return ~Q(status=RectificationStatus.CLOSED) & Q(deadline__lt=today or timezone.localdate())


def is_overdue(item: Rectification, today: date | None = None) -> bool:
    return item.status != RectificationStatus.CLOSED and item.deadline < (today or timezone.localdate())


INSPECTION_STATUSES = ("open", "overdue", "closed")


def _year(raw: str) -> bool:
    return len(raw) == 4 and raw.isdigit()


def inspection_search(*, user, filters: Mapping[str, str]) -> QuerySet[Inspection]:
    """Inspections in the user's area with counts of their items; filters: kind, year, status
    (`open`: some item not closed, `overdue`: some item overdue, `closed`: items all closed)."""
    today = timezone.localdate()
    items = "findings__rectifications"
    inspections = (
        Inspection.objects.visible_to(user)
        .select_related("area")
        .annotate(
            finding_count=Count("findings", distinct=True),
            item_count=Count(items, distinct=True),
            open_count=Count(
                items, filter=~Q(**{f"{items}__status": RectificationStatus.CLOSED}), distinct=True
            ),
            overdue_count=Count(
                items,
                filter=~Q(**{f"{items}__status": RectificationStatus.CLOSED})
                & Q(**{f"{items}__deadline__lt": today}),
                distinct=True,
            ),
        )
        .order_by("-date", "-id")
    )
    kind = filters.get("kind") or ""
    if kind:
        inspections = inspections.filter(kind=kind) if kind in InspectionKind.values else inspections.none()
    year = str(filters.get("year") or "")
    if year:
        inspections = inspections.filter(date__year=int(year)) if _year(year) else inspections.none()
    status = filters.get("status") or ""
    if status == "open":
        inspections = inspections.filter(open_count__gt=0)
    elif status == "overdue":
        inspections = inspections.filter(overdue_count__gt=0)
    elif status == "closed":
        inspections = inspections.filter(item_count__gt=0, open_count=0)
    elif status:
        inspections = inspections.none()
    return inspections


def rectification_search(*, user, filters: Mapping[str, str]) -> QuerySet[Rectification]:
    """Items in the user's area, open ones by deadline then closed ones, each with `overdue`; filters:
    status, overdue (`1`), area (a code: that area and below), year and kind of the inspection,
    inspection (an id)."""
    items = (
        Rectification.objects.visible_to(user)
        .select_related("area__parent__parent", "finding__inspection__area", "closed_by")
        .annotate(
            overdue=Case(
                When(overdue_q(), then=Value(True)), default=Value(False), output_field=BooleanField()
            )
        )
        # What still needs doing first, soonest deadline first; closed items after.
        .annotate(
            is_closed=Case(
                When(status=RectificationStatus.CLOSED, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("is_closed", "deadline", "id")
    )
    status = filters.get("status") or ""
    if status:
        items = items.filter(status=status) if status in RectificationStatus.values else items.none()
    if str(filters.get("overdue") or "") in ("1", "true", "on"):
        items = items.filter(overdue_q())
    code = str(filters.get("area") or "")
    if code:
        area = Area.objects.filter(code=code).first()
        items = items.filter(area__code__startswith=area.prefix) if area else items.none()
    year = str(filters.get("year") or "")
    if year:
        items = items.filter(finding__inspection__date__year=int(year)) if _year(year) else items.none()
    kind = filters.get("kind") or ""
    if kind:
        items = (
            items.filter(finding__inspection__kind=kind) if kind in InspectionKind.values else items.none()
        )
    inspection = str(filters.get("inspection") or "")
    if inspection:
        valid = inspection.isdigit() and len(inspection) < 10
        items = items.filter(finding__inspection_id=int(inspection)) if valid else items.none()
    return items


def rectification_counts(items: QuerySet[Rectification]) -> dict[str, int]:
    return items.order_by().aggregate(
        total=Count("id"),
        open=Count("id", filter=Q(status=RectificationStatus.OPEN)),
        in_progress=Count("id", filter=Q(status=RectificationStatus.IN_PROGRESS)),
        closed=Count("id", filter=Q(status=RectificationStatus.CLOSED)),
        overdue=Count("id", filter=overdue_q()),
    )


def area_label(area: Area) -> str:
    """An item's place as the ledger writes it: from the county down (宁都县长胜镇)."""
    names = [area.name]
    if area.level in (AreaLevel.TOWNSHIP, AreaLevel.VILLAGE) and area.parent is not None:
        names.insert(0, area.parent.name)
        if area.level == AreaLevel.VILLAGE and area.parent.parent is not None:
            names.insert(0, area.parent.parent.name)
    return "".join(names)
