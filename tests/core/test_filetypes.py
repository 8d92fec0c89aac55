"""Telling an uploaded file's kind by its content: each accepted kind is known by its bytes (the parts of a zip, the
streams of an OLE file), must agree with the extension, and anything else is refused naming the file; names are
made safe to keep."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from core import filetypes
from core.filetypes import FileTypeError, check, detect, kind_for_mime, safe_name, sniff
from tests.ledger.factories import EVIDENCE_CONTENT, evidence_bytes, ole_file

ACCEPTED_HINT = "可上传的类型：PDF"


def refusal(name: str, content: bytes) -> str:
    with pytest.raises(FileTypeError) as exc:
        check(name, io.BytesIO(content))
    return exc.value.message


def zip_of(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def content_types(main: str) -> bytes:
    return (f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>').encode()


DOCM = "application/vnd.ms-word.document.macroEnabled.main+xml"


# ---- the accepted kinds --------------------------------------------------------------------------------------------

EXPECTED = {
    ".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".doc": "application/msword", ".wps": "application/msword",
    ".xls": "application/vnd.ms-excel", ".et": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint", ".ofd": "application/ofd",
}


@pytest.mark.parametrize("ext", sorted(EVIDENCE_CONTENT))
def test_each_accepted_kind_is_told_by_its_content(ext):
    assert check(f"整改报告{ext}", io.BytesIO(evidence_bytes(ext))).mime == EXPECTED[ext]
    assert check(f"整改报告{ext.upper()}", io.BytesIO(evidence_bytes(ext))).mime == EXPECTED[ext]


def test_a_bmp_with_its_header_is_an_image_but_two_letters_are_not():
    bmp = b"BM" + struct.pack("<I", 58) + b"\0\0\0\0" + struct.pack("<II", 54, 40) + b"\0" * 36
    assert check("截图.bmp", io.BytesIO(bmp)).code == "bmp"
    assert "无法识别" in refusal("截图.bmp", b"BM is not an image at all")


def test_the_check_leaves_the_stream_at_its_start():
    stream = io.BytesIO(evidence_bytes(".docx"))
    check("报告.docx", stream)
    assert stream.tell() == 0


# ---- the extension must agree ------------------------------------------------------------------------------------

def test_content_of_another_accepted_kind_than_the_extension_says_is_refused_naming_both():
    assert refusal("x.pdf", evidence_bytes(".png")) == "文件“x.pdf”的内容是 PNG 图片，与扩展名 .pdf 不符。"
    assert refusal("台账.xlsx", evidence_bytes(".docx")) == \
        "文件“台账.xlsx”的内容是 Word 文档（DOCX），与扩展名 .xlsx 不符。"
    assert "Excel 表格（XLS），与扩展名 .doc 不符" in refusal("报告.doc", evidence_bytes(".xls"))
    assert "PNG 图片，与扩展名 .jpg 不符" in refusal("照片.jpg", evidence_bytes(".png"))


# ---- what is never accepted ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "content", "what"), [
    ("整改报告.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "Windows 可执行程序"),
    ("照片.png", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "网页（HTML）"),
    ("照片.png", b"\xef\xbb\xbf  <html><body>hello</body></html>", "网页（HTML）"),
    ("照片.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "SVG 图像"),
    ("照片.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>", "SVG 图像"),
    ("说明.doc", b"#!/bin/sh\nrm -rf /\n", "脚本文件"),
    ("说明.pdf", b"\x7fELF\x02\x01\x01", "可执行程序"),
    ("报告.docx", zip_of({"evil.exe": b"MZ"}), "压缩包（ZIP）"),
    ("报告.doc", ole_file("\x05SummaryInformation", "!_StringPool"), "其他类型的复合文件"),
])
def test_files_that_are_not_documents_are_refused_saying_what_they_are(name, content, what):
    message = refusal(name, content)
    assert message.startswith(f"文件“{name}”的内容是") and what in message
    assert "不能作为佐证材料上传" in message and ACCEPTED_HINT in message


def test_unknown_content_is_refused_naming_the_file_and_the_accepted_kinds():
    message = refusal("报告.pdf", b"just some text that claims to be a PDF")
    assert message.startswith("文件“报告.pdf”的内容无法识别") and ACCEPTED_HINT in message


def test_an_extension_outside_the_accepted_ones_is_refused_before_the_content_is_read():
    message = refusal("安装包.exe", evidence_bytes(".pdf"))
    assert "文件“安装包.exe”的类型不支持（扩展名为 .exe）" in message and ACCEPTED_HINT in message
    assert "扩展名为 空" in refusal("没有扩展名", evidence_bytes(".pdf"))
    assert "类型不支持" in refusal("图.svg", b"<svg/>")


def test_macro_enabled_office_files_are_refused_whatever_their_name():
    docm = zip_of({"[Content_Types].xml": content_types(DOCM), "word/document.xml": b"<w:document/>"})
    assert "启用宏" in refusal("报告.docx", docm)
    with_vba = zip_of({
        "[Content_Types].xml": content_types(filetypes._OOXML_MAIN[filetypes.DOCX].decode()),
        "word/document.xml": b"<w:document/>", "word/vbaProject.bin": b"\xd0\xcf\x11\xe0",
    })
    assert "启用宏" in refusal("报告.docx", with_vba)


def test_a_password_protected_office_file_is_refused_as_unverifiable():
    assert "设有打开密码" in refusal("报告.docx", ole_file("EncryptionInfo", "EncryptedPackage"))


# ---- zip containers, read within bounds --------------------------------------------------------------------------

def test_office_open_xml_is_told_by_its_parts_when_the_content_types_do_not_say():
    parts = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}
    assert check("表.xlsx", io.BytesIO(zip_of(parts))).code == "xlsx"
    both = {**parts, "word/document.xml": b"<w:document/>"}
    assert detect(io.BytesIO(zip_of(both)), name="表.xlsx") is None  # parts of two kinds: not guessed


def test_a_zip_without_content_types_is_not_an_office_file():
    assert detect(io.BytesIO(zip_of({"word/document.xml": b"<w:document/>"})), name="报告.docx") is None


def test_an_oversized_content_types_part_is_not_read():
    huge = zip_of({"[Content_Types].xml": b" " * (filetypes._CONTENT_TYPES_MAX + 1), "word/document.xml": b"x"})
    assert detect(io.BytesIO(huge), name="报告.docx") is None


def test_a_zip_with_too_many_entries_is_not_opened_further(monkeypatch):
    monkeypatch.setattr(filetypes, "_ZIP_MAX_ENTRIES", 3)
    assert detect(io.BytesIO(evidence_bytes(".docx")), name="报告.docx") is None


def test_a_broken_zip_is_refused_not_an_error():
    broken = evidence_bytes(".docx")[:200]
    assert "内容是压缩包（ZIP）或已损坏的 Office 文件" in refusal("报告.docx", broken)


# ---- OLE compound files ----------------------------------------------------------------------------------------------

def test_ole_files_are_told_apart_by_their_streams_across_directory_sectors():
    assert detect(io.BytesIO(ole_file("WordDocument", filler=10)), name="a.xls") is filetypes.DOC
    assert detect(io.BytesIO(ole_file("Workbook", filler=40, sector_shift=12)), name="a.doc") is filetypes.XLS
    assert detect(io.BytesIO(ole_file("Book")), name="a.doc") is filetypes.XLS  # Excel 95
    assert detect(io.BytesIO(ole_file("PowerPoint Document", filler=70)), name="a.doc") is filetypes.PPT


def test_an_ole_file_whose_directory_cannot_be_read_is_taken_by_its_ole_extension():
    damaged = filetypes.OLE_MAGIC + b"\0" * 100  # a header cut short
    assert check("旧报告.doc", io.BytesIO(damaged)).code == "doc"
    assert check("旧报表.et", io.BytesIO(damaged)).code == "xls"
    assert "复合文件" in refusal("旧报告.pdf", damaged)


def test_a_directory_chain_that_loops_ends():
    looped = bytearray(ole_file("Filler", filler=6))  # two directory sectors: 1 → 2
    struct.pack_into("<I", looped, 512 + 2 * 4, 1)  # sector 2 → 1 again
    assert detect(io.BytesIO(bytes(looped)), name="a.doc") is None


# ---- serving ---------------------------------------------------------------------------------------------------------

def test_only_images_are_shown_in_the_browser():
    inline = {k.code for k in filetypes.KINDS if k.inline}
    assert inline == {"jpeg", "png", "gif", "webp"}
    assert kind_for_mime("image/png") is filetypes.PNG and kind_for_mime("text/html") is None
    assert kind_for_mime("") is None
    assert sniff(evidence_bytes(".png")) is filetypes.PNG and sniff(b"<html>") is None


# ---- names -------------------------------------------------------------------------------------------------------

def test_a_name_loses_folders_control_and_invisible_characters():
    assert safe_name("C:\\Users\\张三\\桌面\\整改报告.pdf") == "整改报告.pdf"
    assert safe_name("../../etc/整改\x00报告\r\n.pdf") == "整改报告.pdf"
    assert safe_name("照片\u202egnp.exe") == "照片gnp.exe"  # a right-to-left override would show "exe.png"
    assert safe_name("  报告.pdf.  ") == "报告.pdf"
    plain = "关于2022年第二季度作风问题整改情况的报告（定稿）.docx"
    assert safe_name(plain) == plain


def test_a_long_name_is_shortened_keeping_its_extension():
    name = "关于" + "整改落实情况" * 50 + "的报告.pdf"
    short = safe_name(name, max_length=255)
    assert len(short) == 255 and short.startswith("关于整改") and short.endswith(".pdf")
    assert short[:-4] == name[:251]
    assert safe_name("x" * 300, max_length=255) == "x" * 255
