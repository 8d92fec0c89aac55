"""What an uploaded file is, told by its content (its first bytes, the parts of a zip, the streams of an OLE file),
never by the name or the Content-Type the browser sent.

`check(name, stream)` answers the accepted `Kind` of a file whose content and extension agree, or raises
`FileTypeError` with a Chinese message naming the file; `sniff(head)` tells the kinds that show in a browser from
their first bytes alone (for serving); `safe_name` makes a client's file name fit to keep and to show. Pure
functions over bytes and seekable binary streams: no models, no settings.
"""

from __future__ import annotations

import posixpath
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Protocol


class Stream(Protocol):
    """A seekable binary file: an upload, a stored file, a BytesIO."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...


class FileTypeError(ValueError):
    """A refused file; the message is shown to the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Kind:
    code: str
    label: str  # as in "文件“x.pdf”的内容是 PNG 图片"
    mime: str
    extensions: tuple[str, ...]  # the first is the usual one
    inline: bool = False  # may be shown in a browser (under a sandbox CSP) rather than only downloaded


PDF = Kind("pdf", "PDF 文档", "application/pdf", (".pdf",))
JPEG = Kind("jpeg", "JPEG 图片", "image/jpeg", (".jpg", ".jpeg"), inline=True)
PNG = Kind("png", "PNG 图片", "image/png", (".png",), inline=True)
GIF = Kind("gif", "GIF 图片", "image/gif", (".gif",), inline=True)
WEBP = Kind("webp", "WebP 图片", "image/webp", (".webp",), inline=True)
BMP = Kind("bmp", "BMP 图片", "image/bmp", (".bmp",))
DOCX = Kind("docx", "Word 文档（DOCX）", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",))
XLSX = Kind("xlsx", "Excel 表格（XLSX）", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            (".xlsx",))
PPTX = Kind("pptx", "PowerPoint 演示文稿（PPTX）",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",))
OFD = Kind("ofd", "OFD 版式文档", "application/ofd", (".ofd",))
# The OLE compound formats; WPS Office writes .wps / .et in the same formats as Word / Excel.
DOC = Kind("doc", "Word 文档（DOC）", "application/msword", (".doc", ".wps"))
XLS = Kind("xls", "Excel 表格（XLS）", "application/vnd.ms-excel", (".xls", ".et"))
PPT = Kind("ppt", "PowerPoint 演示文稿（PPT）", "application/vnd.ms-powerpoint", (".ppt",))

KINDS = (PDF, JPEG, PNG, GIF, WEBP, BMP, DOCX, XLSX, PPTX, OFD, DOC, XLS, PPT)
OLE_KINDS = (DOC, XLS, PPT)
ACCEPTED_EXTENSIONS = frozenset(ext for k in KINDS for ext in k.extensions)
INLINE_MIME_TYPES = frozenset(k.mime for k in KINDS if k.inline)
ACCEPTED = ("可上传的类型：PDF，图片（JPG、PNG、GIF、WebP、BMP），Word（DOC、DOCX、WPS），Excel（XLS、XLSX、ET），"
            "PowerPoint（PPT、PPTX），OFD。")

HEAD_BYTES = 1024  # enough for every signature below
_BY_MIME = {k.mime: k for k in KINDS}
_BY_EXTENSION = {ext: k for k in KINDS for ext in k.extensions}


def kind_for_mime(mime: str) -> Kind | None:
    """The accepted kind stored under this MIME type (None for anything else, such as a client's type kept by an
    older version)."""
    return _BY_MIME.get((mime or "").strip().lower())


def extension_of(name: str) -> str:
    return posixpath.splitext(name)[1].lower()


# ---- names -------------------------------------------------------------------------------------------------------

# Control characters, and the invisible formatting ones (a right-to-left override makes "x\u202efdp.exe" read as
# "xexe.pdf").
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def safe_name(name: str, *, max_length: int = 255) -> str:
    """The client's file name without folders, control or invisible characters, or trailing dots and spaces, cut to
    `max_length` characters keeping its extension."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = name.strip().rstrip(". ")
    if len(name) <= max_length:
        return name
    stem, ext = posixpath.splitext(name)
    if not ext or len(ext) > max_length // 2:
        return name[:max_length].rstrip()
    return stem[: max_length - len(ext)].rstrip() + ext


# ---- signatures --------------------------------------------------------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}


def sniff(head: bytes) -> Kind | None:
    """The kind that the first bytes alone prove (PDF and the images); None for containers and anything else."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if (head[:2] == b"BM" and len(head) >= 18 and head[6:10] == b"\0\0\0\0"
            and struct.unpack_from("<I", head, 14)[0] in _BMP_HEADER_SIZES):
        return BMP
    return None


def _refused_content(head: bytes) -> str | None:
    """What a file that must never be accepted is, in words, when its first bytes tell."""
    if head.startswith(b"MZ"):
        return "Windows 可执行程序"
    if head.startswith(b"\x7fELF") or head[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe"):
        return "可执行程序"
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower().replace(b"\x00", b"")
    if b"<svg" in text:
        return "SVG 图像（可含脚本）"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe")) or any(
        tag in text for tag in (b"<html", b"<script", b"<body", b"<iframe")
    ):
        return "网页（HTML）"
    if text.startswith((b"#!", b"<?php", b"<%")):
        return "脚本文件"
    if text.startswith(b"<?xml"):
        return "XML 文件"
    if head.startswith(b"PK\x03\x04"):
        return "压缩包（ZIP）或已损坏的 Office 文件"
    if head.startswith(OLE_MAGIC):
        return "其他类型的复合文件（如安装程序、邮件）或已损坏的 Office 文件"
    if head.startswith((b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")):
        return "压缩包"
    return None


# ---- zip containers: Office Open XML and OFD -----------------------------------------------------------------------

_ZIP_MAX_ENTRIES = 10_000
_CONTENT_TYPES_MAX = 1024 * 1024
_OOXML_MAIN = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    PPTX: b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
_OOXML_PARTS = {DOCX: "word/", XLSX: "xl/", PPTX: "ppt/"}


class _Macro(Exception):
    pass


def _zip_kind(stream: Stream) -> Kind | None:
    """DOCX, XLSX, PPTX or OFD by the archive's parts; None for another or a broken zip. Only the central directory
    and `[Content_Types].xml` (at most 1 MB of it) are read."""
    try:
        with zipfile.ZipFile(stream) as zf:
            infos = zf.infolist()
            if len(infos) > _ZIP_MAX_ENTRIES:
                return None
            names = {i.filename for i in infos}
            if "OFD.xml" in names:
                return OFD
            if "[Content_Types].xml" not in names:
                return None
            info = zf.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_MAX:
                return None
            with zf.open(info) as part:
                types = part.read(_CONTENT_TYPES_MAX)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, NotImplementedError,
            ValueError):
        return None
    if b"macroenabled" in types.lower() or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _Macro
    for kind, main in _OOXML_MAIN.items():
        if main in types:
            return kind
    found = [k for k, prefix in _OOXML_PARTS.items() if any(n.startswith(prefix) for n in names)]
    return found[0] if len(found) == 1 else None


# ---- OLE compound files: DOC, XLS, PPT -----------------------------------------------------------------------------

_OLE_MAX_SECTORS = 256  # directory and FAT sectors read at most: far more than any document's directory needs
_OLE_STREAMS = {"WordDocument": DOC, "Workbook": XLS, "Book": XLS, "PowerPoint Document": PPT}
_FREE_SECTORS = 0xFFFFFFFA  # sector numbers from here on mark the end of a chain, free or special sectors


class _Encrypted(Exception):
    pass


def _ole_names(stream: Stream) -> set[str] | None:
    """The names in an OLE compound file's directory, reading its chain through the FAT (None if it cannot be read:
    a damaged or truncated file)."""
    stream.seek(0)
    header = stream.read(512)
    if len(header) < 512 or not header.startswith(OLE_MAGIC):
        return None
    shift = struct.unpack_from("<H", header, 30)[0]
    if shift not in (9, 12):
        return None
    size = 1 << shift
    first_dir, first_difat, n_difat = (struct.unpack_from("<I", header, o)[0] for o in (48, 68, 72))
    fat_sectors = [s for s in struct.unpack_from("<109I", header, 76) if s < _FREE_SECTORS]
    reads = 0

    def sector(sid: int) -> bytes | None:
        nonlocal reads
        reads += 1
        if reads > _OLE_MAX_SECTORS:
            return None
        stream.seek((sid + 1) * size)
        data = stream.read(size)
        return data if len(data) == size else None

    per = size // 4
    sid = first_difat
    for _ in range(min(n_difat, _OLE_MAX_SECTORS)):  # FAT sectors listed beyond the header's 109
        if sid >= _FREE_SECTORS or (data := sector(sid)) is None:
            break
        entries = struct.unpack_from(f"<{per}I", data)
        fat_sectors += [s for s in entries[:-1] if s < _FREE_SECTORS]
        sid = entries[-1]
    fat_cache: dict[int, tuple[int, ...]] = {}

    def next_sector(sid: int) -> int:
        index = sid // per
        if index >= len(fat_sectors):
            return _FREE_SECTORS
        if index not in fat_cache:
            data = sector(fat_sectors[index])
            if data is None:
                return _FREE_SECTORS
            fat_cache[index] = struct.unpack_from(f"<{per}I", data)
        return fat_cache[index][sid % per]

    names: set[str] = set()
    seen: set[int] = set()
    sid = first_dir
    while sid < _FREE_SECTORS and sid not in seen:
        seen.add(sid)
        data = sector(sid)
        if data is None:
            return names or None
        for offset in range(0, size, 128):
            length = struct.unpack_from("<H", data, offset + 64)[0]
            if data[offset + 66] in (1, 2, 5) and 2 <= length <= 64 and length % 2 == 0:
                names.add(data[offset:offset + length - 2].decode("utf-16-le", "replace"))
        sid = next_sector(sid)
    return names


def _ole_kind(stream: Stream, ext: str) -> Kind | None:
    """DOC, XLS or PPT by the streams in the file; by the extension when the directory cannot be read. None for an
    OLE file of another kind (an installer, a mail message …)."""
    names = _ole_names(stream)
    if names is None:
        return _BY_EXTENSION.get(ext) if _BY_EXTENSION.get(ext) in OLE_KINDS else None
    if "EncryptedPackage" in names:  # a password-protected DOCX / XLSX / PPTX
        raise _Encrypted
    for stream_name, kind in _OLE_STREAMS.items():
        if stream_name in names:
            return kind
    return None


# ---- the check -----------------------------------------------------------------------------------------------------

def detect(stream: Stream, *, name: str = "") -> Kind | None:
    """The accepted kind of the content (None when it is none of them). The stream is read from its start and left
    at its start. Raises `FileTypeError` for macro-enabled or password-protected Office files."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    try:
        if (kind := sniff(head)) is not None:
            return kind
        if head.startswith(b"PK\x03\x04"):
            stream.seek(0)
            return _zip_kind(stream)
        if head.startswith(OLE_MAGIC):
            return _ole_kind(stream, extension_of(name))
        return None
    except _Macro:
        raise FileTypeError(
            f"文件“{name}”是启用宏的 Office 文件，不能作为佐证材料上传，请另存为不含宏的格式后上传。"
        ) from None
    except _Encrypted:
        raise FileTypeError(f"文件“{name}”设有打开密码，无法核验内容，请取消密码后上传。") from None
    finally:
        stream.seek(0)


def check(name: str, stream: Stream) -> Kind:
    """The kind of an uploaded file whose content is one of the accepted kinds and agrees with its extension;
    otherwise `FileTypeError` naming the file and what is wrong with it."""
    ext = extension_of(name)
    if ext not in ACCEPTED_EXTENSIONS:
        raise FileTypeError(f"文件“{name}”的类型不支持（扩展名为 {ext or '空'}）。{ACCEPTED}")
    kind = detect(stream, name=name)
    if kind is None:
        stream.seek(0)
        what = _refused_content(stream.read(HEAD_BYTES))
        stream.seek(0)
        if what is not None:
            space = " " if what[0].isascii() else ""
            raise FileTypeError(f"文件“{name}”的内容是{space}{what}，不能作为佐证材料上传。{ACCEPTED}")
        raise FileTypeError(f"文件“{name}”的内容无法识别，或文件已损坏，不能作为佐证材料上传。{ACCEPTED}")
    if ext not in kind.extensions:
        raise FileTypeError(f"文件“{name}”的内容是 {kind.label}，与扩展名 {ext} 不符。")
    return kind
