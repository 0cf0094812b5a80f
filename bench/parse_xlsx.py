"""How fast a roster is read: python-calamine (the import path) against openpyxl's read-only mode.

Writes a roster-like workbook (title row, header, `--rows` people over 13 columns) with openpyxl's
write-only mode, then streams every row with each reader in its own child process, so that each peak RSS
is its own. The calamine figure is `iter_rows` alone; `checked_rows_per_s` adds `inspect_workbook`, which
the import always runs first. `--bomb-gb N` also builds a zip bomb declaring N GB and times its refusal.

Needs no database. Prints one JSON line last: rows, calamine_rows_per_s, openpyxl_rows_per_s, ratio
(calamine / openpyxl), peak_rss_mb (the larger reader's), and the details.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = [
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "残疾人证号",
    "残疾类别",
    "残疾等级",
    "出生日期",
    "乡镇",
    "村",
    "联系电话",
    "家庭人口",
    "备注",
]
CATEGORIES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def write_roster(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    sheet.append(["某某县贫困残疾人花名册"])
    sheet.append(HEADER)
    born = date(1950, 1, 1)
    for n in range(1, rows + 1):
        birth = born + timedelta(days=n % 20_000)
        id_number = f"360426{birth:%Y%m%d}{n % 1000:03d}X"
        category, level = n % 7 + 1, n % 4 + 1
        sheet.append(
            [
                n,
                f"张{n}",
                "男" if n % 2 else "女",
                id_number,
                f"{id_number}{category}{level}",
                CATEGORIES[category - 1],
                f"{level}级",
                birth,
                f"第{n % 20}乡",
                f"第{n % 300}村",
                f"138{n:08d}",
                n % 6 + 1,
                "",
            ]
        )
    book.save(path)


def standalone_django() -> None:
    """Translations without the project's settings: the reader needs no database."""
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=True)
        django.setup()


def child(reader: str, path: Path) -> None:
    """Runs in its own process: stream every row, print seconds, rows and peak RSS."""
    standalone_django()
    from imports.reading import inspect_workbook, iter_rows, iter_rows_openpyxl

    started = time.perf_counter()
    inspect_seconds = 0.0
    if reader == "checked":
        inspect_workbook(path)
        inspect_seconds = time.perf_counter() - started
    rows = iter_rows_openpyxl if reader == "openpyxl" else iter_rows
    count = sum(1 for _ in rows(path))
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"rows": count, "seconds": seconds, "inspect_seconds": inspect_seconds, "rss": peak_rss_mb()}
        )
    )


def run_child(reader: str, path: Path) -> dict:
    command = [sys.executable, __file__, "--child", reader, str(path)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def bomb(path: Path, gigabytes: int) -> dict:
    """A one-sheet workbook plus an entry of zeros declaring `gigabytes` GB; never on disk unpacked."""
    standalone_django()
    from imports.reading import UnsafeWorkbook, inspect_workbook

    started = time.perf_counter()
    write_roster(path, 3)
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/media/image1.bin", "w", force_zip64=True) as entry:
            for _ in range(gigabytes * 1024):
                entry.write(chunk)
    built = time.perf_counter()
    try:
        inspect_workbook(path)
        code = "accepted"
    except UnsafeWorkbook as refused:
        code = refused.code
    return {
        "bomb_gb": gigabytes,
        "bomb_file_mb": round(path.stat().st_size / 2**20, 2),
        "bomb_build_s": round(built - started, 2),
        "bomb_refuse_ms": round((time.perf_counter() - built) * 1000, 2),
        "bomb_code": code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--bomb-gb", type=int, default=0)
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child[0], Path(options.child[1]))
        return

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.xlsx"
        started = time.perf_counter()
        write_roster(path, options.rows)
        size = path.stat().st_size / 2**20
        print(f"wrote {options.rows:,} rows in {time.perf_counter() - started:.1f}s, {size:.1f} MB")
        results = {reader: run_child(reader, path) for reader in ("calamine", "openpyxl", "checked")}
        extra = bomb(Path(folder) / "bomb.xlsx", options.bomb_gb) if options.bomb_gb else {}

    for reader, result in results.items():
        rate = result["rows"] / result["seconds"]
        timing = f"{result['rows']:,} rows in {result['seconds']:.2f}s, {rate:,.0f} rows/s"
        print(f"{reader:>9}: {timing}, peak RSS {result['rss']} MB")
    calamine, openpyxl, checked = (results[r] for r in ("calamine", "openpyxl", "checked"))
    summary = {
        "rows": calamine["rows"],
        "calamine_rows_per_s": round(calamine["rows"] / calamine["seconds"]),
        "openpyxl_rows_per_s": round(openpyxl["rows"] / openpyxl["seconds"]),
        "ratio": round(openpyxl["seconds"] / calamine["seconds"], 2),
        "peak_rss_mb": max(calamine["rss"], openpyxl["rss"]),
        "calamine_peak_rss_mb": calamine["rss"],
        "openpyxl_peak_rss_mb": openpyxl["rss"],
        "checked_rows_per_s": round(checked["rows"] / checked["seconds"]),
        "inspect_s": round(checked["inspect_seconds"], 2),
        **extra,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
