"""Reads of import jobs for the pages and the API: what the preview shows."""

from poverty_relief.logging import mask_id_numbers

from .models import ImportJob, ImportRow, RowOutcome

PREVIEW_ROWS = 100


def import_preview(job: ImportJob, *, whole_numbers: bool) -> dict:
    """Counts, errors grouped by column (message -> rows), and the first changed and held-elsewhere rows;
    without `whole_numbers`, any ID or certificate number in the changes is masked."""
    rows = ImportRow.objects.filter(job=job).order_by("row_number")
    updates = list(rows.filter(outcome=RowOutcome.UPDATE)[:PREVIEW_ROWS])
    if not whole_numbers:
        for row in updates:
            row.changes = {k: [_masked(v) for v in pair] for k, pair in row.changes.items()}
    return {
        "counts": {outcome: job.counts.get(outcome, 0) for outcome in RowOutcome.values},
        "column_errors": sorted(
            (
                (column, sorted(messages.items(), key=lambda m: m[1][0]))
                for column, messages in job.column_errors.items()
            ),
            key=lambda item: -sum(len(r) for _, r in item[1]),
        ),
        "updates": updates,
        "transfers": list(rows.filter(outcome=RowOutcome.TRANSFER)[:PREVIEW_ROWS]),
        # Good rows that the commit found no longer good (a kind notes why on the row).
        "left_out": list(rows.filter(outcome=RowOutcome.NEW).exclude(note="")[:PREVIEW_ROWS]),
    }


def _masked(value):
    return mask_id_numbers(value) if isinstance(value, str) else value


def rejected_cells(job: ImportJob) -> dict[int, dict[int, str]]:
    """Excel row -> {column index in the sheet -> message}, for the error workbook."""
    index = job.mapping
    return {
        row_number: {index[key]: message for key, message in errors.items() if key in index}
        for row_number, errors in ImportRow.objects.filter(job=job, outcome=RowOutcome.REJECTED)
        .order_by("row_number")
        .values_list("row_number", "errors")
        .iterator(chunk_size=5000)
    }
