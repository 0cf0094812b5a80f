"""Builders of workbooks, good and bad, written part by part so that every byte of the XML is chosen.

All are small: a bomb declares a large size but is written in compressed chunks, never held in memory.
"""

import struct
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_WORKBOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>
</cellXfs></styleSheet>"""
DATE_STYLE = 1


# --- cells and sheets --------------------------------------------------------------------------------


def text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def number(ref: str, value: object, *, style: int | None = None) -> str:
    styled = f' s="{style}"' if style is not None else ""
    return f'<c r="{ref}"{styled}><v>{value}</v></c>'


def formula(ref: str, expression: str, cached: object = None) -> str:
    value = f"<v>{cached}</v>" if cached is not None else ""
    return f'<c r="{ref}"><f>{escape(expression)}</f>{value}</c>'


def row(number_: int, *cells: str) -> str:
    return f'<row r="{number_}">{"".join(cells)}</row>'


def text_row(number_: int, values: Iterable[str], first_column: int = 1) -> str:
    return row(number_, *(text(f"{letter(first_column + i)}{number_}", v) for i, v in enumerate(values)))


def letter(index: int) -> str:
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def sheet_xml(
    rows: Iterable[str], *, dimension: str | None = None, merges: Iterable[str] = (), prolog: str = ""
) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    merged = list(merges)
    cells = "".join(f'<mergeCell ref="{m}"/>' for m in merged)
    merge_xml = f'<mergeCells count="{len(merged)}">{cells}</mergeCells>' if merged else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<worksheet xmlns="{MAIN}">{dim}<sheetData>{"".join(rows)}</sheetData>{merge_xml}</worksheet>'
    )


# --- packages ----------------------------------------------------------------------------------------


def parts(
    sheet: str,
    *,
    workbook_type: str = WORKBOOK_TYPE,
    sheet_name: str = "花名册",
    sheets_xml: str | None = None,
) -> dict[str, str | bytes]:
    """The parts of a one-sheet workbook; callers add, replace or drop parts before writing."""
    sheets = sheets_xml if sheets_xml is not None else f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/>'
    return {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{workbook_type}"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
            f"<sheets>{sheets}</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC_RELS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": STYLES,
        "xl/worksheets/sheet1.xml": sheet,
    }


def write(path: Path, contents: Mapping[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return path


def workbook(path: Path, rows: Iterable[str], **sheet_options: object) -> Path:
    return write(path, parts(sheet_xml(rows, **sheet_options)))  # type: ignore[arg-type]


def roster(path: Path, data_rows: int = 3) -> Path:
    """A title row, a header and data: what a township sends."""
    rows = [
        text_row(1, ["某某乡贫困残疾人花名册"]),
        text_row(2, ["序号", "姓名", "身份证号"]),
        *(text_row(3 + i, [str(i + 1), f"张{i}", f"36042619910101{i:04d}"]) for i in range(data_rows)),
    ]
    return workbook(path, rows, merges=["A1:C1"])


# --- hostile files -----------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)
EXTERNAL_ENTITY = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def entity_sheet(path: Path, prolog: str, *, reference: str) -> Path:
    return workbook(
        path,
        [text_row(1, ["姓名"]), row(2, f'<c r="A2" t="inlineStr"><is><t>{reference}</t></is></c>')],
        prolog=prolog,
    )


def zip_bomb(path: Path, size: int, *, name: str = "xl/media/image1.bin") -> Path:
    """A valid roster plus one entry of `size` zero bytes, compressed about 1000:1 as it is written."""
    roster(path)
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(name, "w", force_zip64=True) as entry:
            for _ in range(size // len(chunk)):
                entry.write(chunk)
            entry.write(bytes(size % len(chunk)))
    return path


def lying_size(path: Path, real_size: int, declared: int) -> Path:
    """A sheet whose XML unpacks to `real_size` bytes but whose zip headers declare `declared`."""
    sheet = sheet_xml([text_row(1, ["姓名"]), text_row(2, ["张三"])])
    sheet = sheet.replace("<sheetData>", " " * (real_size - len(sheet.encode())) + "<sheetData>")
    write(path, parts(sheet))
    with zipfile.ZipFile(path) as archive:
        target = archive.getinfo("xl/worksheets/sheet1.xml")
        directory = archive.start_dir
    data = bytearray(path.read_bytes())
    data[target.header_offset + 22 : target.header_offset + 26] = struct.pack("<I", declared)
    at = directory
    while data[at : at + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack("<HHH", data[at + 28 : at + 34])
        if data[at + 46 : at + 46 + name_length] == target.filename.encode():
            data[at + 24 : at + 28] = struct.pack("<I", declared)
        at += 46 + name_length + extra_length + comment_length
    path.write_bytes(bytes(data))
    return path


def many_entries(path: Path, count: int) -> Path:
    contents = parts(sheet_xml([text_row(1, ["姓名"])]))
    contents |= {f"xl/media/image{i}.png": b"x" for i in range(count)}
    return write(path, contents)


def xlsm(path: Path, *, vba_part: bool = True) -> Path:
    """A macro-enabled workbook renamed .xlsx: with its vbaProject.bin, or only its content type."""
    kind = WORKBOOK_TYPE if vba_part else MACRO_WORKBOOK_TYPE
    contents = parts(sheet_xml([text_row(1, ["姓名"])]), workbook_type=kind)
    if vba_part:
        contents["xl/vbaProject.bin"] = OLE_MAGIC + bytes(504)
    return write(path, contents)


def external_links(path: Path) -> Path:
    contents = parts(sheet_xml([row(1, formula("A1", "[1]Sheet1!A1", cached=3))]))
    contents["xl/externalLinks/externalLink1.xml"] = (
        f'<externalLink xmlns="{MAIN}"><externalBook xmlns:r="{DOC_RELS}" r:id="rId1"/></externalLink>'
    )
    return write(path, contents)


def ole_file(path: Path) -> Path:
    path.write_bytes(OLE_MAGIC + bytes(range(256)) * 8)
    return path


def pdf_file(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
    return path


def csv_file(path: Path) -> Path:
    path.write_text("姓名,身份证号\n张三,360426199101010071\n", encoding="utf-8")
    return path
