"""Transfers between counties: the list and the receiving side's answer."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from areas.models import Area

from ..errors import RegistryError
from ..models import (
    TransferRequest,
    TransferStatus,
)
from ..selectors import mask_id_number
from ..services import (
    transfer_decide,
)


@login_required
@permission_required("beneficiaries.view_transferrequest", raise_exception=True)
@require_GET
def transfer_list(request):
    transfers = (
        TransferRequest.objects.visible_to(request.user)
        .select_related("person")
        .order_by("-requested_at")[:200]
    )
    prefix = request.user.area.prefix
    names = dict(
        Area.objects.filter(
            code__in={t.from_county_code for t in transfers} | {t.to_county_code for t in transfers}
        ).values_list("code", "name")
    )
    rows = [
        {
            "transfer": t,
            "incoming": t.to_county_code.startswith(prefix) and not t.from_county_code.startswith(prefix),
            "from_name": names.get(t.from_county_code, t.from_county_code),
            "to_name": names.get(t.to_county_code, t.to_county_code),
            "masked": mask_id_number(t.person.id_number),
        }
        for t in transfers
    ]
    return render(
        request,
        "beneficiaries/transfer_list.html",
        {"rows": rows, "can_decide": request.user.has_perm("beneficiaries.change_transferrequest")},
    )


@login_required
@permission_required("beneficiaries.change_transferrequest", raise_exception=True)
@require_POST
def transfer_answer(request, pk: int):
    transfer = TransferRequest.objects.visible_to(request.user).filter(pk=pk).first()
    if transfer is None:
        raise Http404
    try:
        transfer_decide(
            actor=request.user, transfer=transfer, accept=request.POST.get("decision") == "accept"
        )
    except RegistryError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Accepted: the person is now registered in your county.")
            if transfer.status == TransferStatus.ACCEPTED
            else _("Refused."),
        )
    return redirect("registry:transfer-list")
