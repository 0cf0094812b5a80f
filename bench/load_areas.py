"""How long loading the whole Jiangxi area tree takes, against one save per row.

Prints one JSON line last: rows, seconds, rows_per_s, baseline_rows_per_s, ratio, reload_seconds.
"""

import argparse
import json
import time

from _db import scratch_database


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-sample", type=int, default=2000, help="village rows saved one by one")
    args = parser.parse_args()

    with scratch_database():
        from django.db import transaction

        from areas.models import Area, AreaLevel
        from areas.services import FIXTURE_DIR, _read_tree, areas_load

        started = time.perf_counter()
        result = areas_load(directory=FIXTURE_DIR)
        seconds = time.perf_counter() - started

        started = time.perf_counter()
        areas_load(directory=FIXTURE_DIR)
        reload_seconds = time.perf_counter() - started

        # Baseline: the obvious loop, one save() per row, on a sample of villages put back after.
        villages = _read_tree(FIXTURE_DIR)[AreaLevel.VILLAGE][: args.baseline_sample]
        Area.objects.filter(code__in=[v.code for v in villages]).delete()
        started = time.perf_counter()
        with transaction.atomic():
            for village in villages:
                village.save()
        baseline_seconds = time.perf_counter() - started

    rows = result.total
    rows_per_s = rows / seconds
    baseline_rows_per_s = len(villages) / baseline_seconds
    print(f"bulk load: {rows} rows in {seconds:.2f} s; reload {reload_seconds:.2f} s")
    print(f"baseline (save per row): {len(villages)} rows in {baseline_seconds:.2f} s")
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": round(seconds, 3),
                "rows_per_s": round(rows_per_s),
                "baseline_rows_per_s": round(baseline_rows_per_s),
                "ratio": round(rows_per_s / baseline_rows_per_s, 1),
                "reload_seconds": round(reload_seconds, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
