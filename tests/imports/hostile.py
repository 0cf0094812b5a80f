"""Builders of workbooks, good and bad, written part by part so that every byte of the XML is chosen.

All are small: a bomb declares a large size but is written in compressed chunks, never held in memory.
"""

import struct
import zipfile
import zlib
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


# --- files that once got past the checks, or would bring a worker down --------------------------------


def gigabyte_bomb(path: Path, size: int = 1024**3, *, name: str = "xl/media/image1.bin") -> Path:
    """A valid roster plus an entry of `size` zero bytes, about 1 MB on disk, built in well under a second.

    Deflate output for a megabyte of zeros after a full flush is the same every time, so one compressed
    megabyte is repeated rather than a gigabyte compressed."""
    megabyte = 1024 * 1024
    assert size % megabyte == 0
    zeros = bytes(megabyte)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)
    count = size // megabyte
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    roster(path)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo(name, date_time=(2018, 2, 24, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size, info.CRC = size, crc
        info.compress_size = len(first) + len(repeated) * (count - 1) + len(tail)
        archive.start_dir = archive.fp.seek(archive.start_dir)  # over the old central directory
        info.header_offset = archive.start_dir
        archive.fp.write(info.FileHeader(zip64=False))
        archive.fp.write(first)
        for _ in range(count - 1):
            archive.fp.write(repeated)
        archive.fp.write(tail)
        archive.start_dir = archive.fp.tell()
        archive.filelist.append(info)
        archive.NameToInfo[name] = info
        archive._didModify = True  # so that close() writes the central directory anew
    return path


def many_rows(path: Path, count: int = 1_000_000, *, dimension: str | None = "A1:C3") -> Path:
    """`count` rows of real values, streamed into the part; the dimension tag claims three rows."""
    contents = parts("")
    del contents["xl/worksheets/sheet1.xml"]
    write(path, contents)
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
            entry.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dim}<sheetData>'.encode()
            )
            entry.write(text_row(1, ["序号", "姓名", "身份证号"]).encode())
            for start in range(2, count + 1, 10_000):
                numbers = range(start, min(start + 10_000, count + 1))
                entry.write(
                    "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in numbers).encode()
                )
            entry.write(b"</sheetData></worksheet>")
    return path


def far_cell(path: Path, cell: str) -> Path:
    """A small roster and one more cell far away; `cell` is its XML, e.g. an empty inline string at
    XFD1048576, which calamine would once have made a 17-billion-cell grid of."""
    return workbook(path, [text_row(1, ["姓名"]), text_row(2, ["张三"]), row(3, cell)])


EMPTY_STRING_AT_THE_LAST_CELL = '<c r="XFD1048576" t="inlineStr"><is><t></t></is></c>'
SEVEN_LETTER_COLUMN = '<c r="AAAAAAA1" t="inlineStr"><is><t>x</t></is></c>'


def sparse_grid(path: Path) -> Path:
    """Two values at opposite corners of the accepted extent (A1, BH200000): a 12-million-cell grid."""
    return workbook(path, [text_row(1, ["姓名"]), row(200_000, text("BH200000", "x"))])


def hidden_twin(path: Path) -> Path:
    """A hidden sheet of the same name as the visible one, placed first: a reader that opens the sheet by
    name opens the hidden one, which holds 150,000 rows."""
    sheets = (
        '<sheet name="花名册" sheetId="2" state="hidden" r:id="rId3"/>'
        '<sheet name="花名册" sheetId="1" r:id="rId1"/>'
    )
    contents = parts(sheet_xml([text_row(1, ["姓名"]), text_row(2, ["张三"])]), sheets_xml=sheets)
    contents["xl/worksheets/sheet2.xml"] = sheet_xml(
        [text_row(1, ["姓名"]), row(150_000, text("A150000", "x"))]
    )
    contents["xl/_rels/workbook.xml.rels"] = str(contents["xl/_rels/workbook.xml.rels"]).replace(
        "</Relationships>",
        f'<Relationship Id="rId3" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet2.xml"/>'
        "</Relationships>",
    )
    return write(path, contents)


def shadow_entry(path: Path, name: str = "XL/worksheets/sheet1.xml") -> Path:
    """A second copy of the sheet under a name that differs only in case (or slashes): calamine's zip reader
    finds it when it looks up the checked one."""
    contents = parts(sheet_xml([text_row(1, ["姓名"]), text_row(2, ["张三"])]))
    contents[name] = sheet_xml([text_row(1, ["姓名"]), row(150_000, text("A150000", "x"))])
    return write(path, contents)


def macrosheet(path: Path) -> Path:
    """Excel 4.0 macros live in a macro sheet, not in vbaProject.bin."""
    contents = parts(sheet_xml([text_row(1, ["姓名"])]))
    contents["xl/macrosheets/sheet1.xml"] = sheet_xml([row(1, formula("A1", 'EXEC("calc.exe")'))])
    return write(path, contents)


def encrypted(path: Path) -> Path:
    """What Excel saves with a password: an OLE compound file holding EncryptionInfo and EncryptedPackage."""
    names = b"".join(n.encode("utf-16-le").ljust(64, b"\0") for n in ("EncryptionInfo", "EncryptedPackage"))
    path.write_bytes(OLE_MAGIC + bytes(504) + names + bytes(1024))
    return path


def laughs_in_shared_strings(path: Path) -> Path:
    contents = parts(sheet_xml([row(1, '<c r="A1" t="s"><v>0</v></c>')]))
    contents["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0"?>{BILLION_LAUGHS}<sst xmlns="{MAIN}" count="1"><si><t>&lol9;</t></si></sst>'
    )
    return write(path, contents)
