"""Factories for campaigns and the ledger; problems are created through the services so numbering and the
first timeline entry are real."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory

from campaigns.models import DEFAULT_SOURCES, Campaign, CampaignStatus, Category, Source
from ledger import services
from ledger.models import Measure, Problem


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"作风整顿专项行动{n}")
    code = factory.Sequence(lambda n: f"ZF{2022 + n}")
    status = CampaignStatus.ACTIVE
    start_date = dt.date(2022, 3, 1)
    end_date = dt.date(2022, 12, 31)

    @factory.post_generation
    def sources(obj: Campaign, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create:
            Source.objects.bulk_create(
                [Source(campaign=obj, name=n, sort_order=i) for i, n in enumerate(extracted or DEFAULT_SOURCES)]
            )


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    campaign = factory.SubFactory(CampaignFactory)
    code = factory.Sequence(lambda n: f"{n}")
    name = factory.Sequence(lambda n: f"问题类别{n}")


def make_problem(
    *, campaign: Campaign, by: Any, lead_unit: Any, deadline: dt.date | None = dt.date(2022, 6, 30),
    summary: str = "窗口服务态度差", **values: Any,
) -> Problem:
    return services.problem_create(
        campaign=campaign, by=by, summary=summary, lead_unit=lead_unit, deadline=deadline, **values
    )


def data_clerk() -> Any:
    """An office clerk who enters what a test sets up (measures, progress), as the office may."""
    from units.models import Role, User

    clerk = User.objects.filter(username="factory-clerk").first()
    if clerk is None:
        from tests.factories import UserFactory

        clerk = UserFactory(username="factory-clerk", full_name="录入员", roles=[Role.OFFICE])
    return clerk


def make_measure(*, problem: Problem, unit: Any, content: str = "开展专项整治", by: Any = None,
                 **values: Any) -> Measure:
    values.setdefault("deadline", dt.date(2022, 6, 30))
    return services.measure_create(problem=problem, by=by or data_clerk(), content=content, unit=unit, **values)


# ---- evidence files: small but real files of each accepted kind, as the content check reads them -------------------

def _png(width: int = 1, height: int = 1) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _zip(parts: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _content_types(main: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/main.xml" ContentType="{main}"/></Types>').encode()


def _docx() -> bytes:
    import io

    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("整改情况报告")
    document.save(buf)
    return buf.getvalue()


def _xlsx() -> bytes:
    import io

    import openpyxl

    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(["整改台账"])
    wb.save(buf)
    return buf.getvalue()


def _pptx() -> bytes:
    return _zip({
        "[Content_Types].xml": _content_types(
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
        "ppt/presentation.xml": b"<p:presentation/>",
    })


def ole_file(*streams: str, filler: int = 0, sector_shift: int = 9) -> bytes:
    """A minimal OLE compound file (the format of .doc / .xls / .ppt) whose directory holds `streams` (empty streams)
    after `filler` other entries; with enough filler the directory spans several sectors chained through the FAT."""
    import struct

    size = 1 << sector_shift
    end, free, fat_sect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD

    def entry(name: str, kind: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", free, free, free) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
                + struct.pack("<IQ", end, 0)).ljust(128, b"\0")

    entries = [entry("Root Entry", 5)] + [entry(f"Filler{i}", 2) for i in range(filler)]
    entries += [entry(s, 2) for s in streams]
    directory = b"".join(entries)
    dir_sectors = max(1, -(-len(directory) // size))
    directory = directory.ljust(dir_sectors * size, b"\0")
    # Sector 0 is the FAT; the directory takes sectors 1 … n, chained.
    fat = [fat_sect] + [i + 1 for i in range(1, dir_sectors)] + [end]
    fat_sector = struct.pack(f"<{size // 4}I", *(fat + [free] * (size // 4 - len(fat))))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3 if size == 512 else 4,
                                                                             0xFFFE, sector_shift, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *([free] * 108)))
    return header.ljust(size, b"\0") + fat_sector + directory


PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EVIDENCE_CONTENT: dict[str, Any] = {
    ".pdf": lambda: PDF_BYTES,
    ".png": _png,
    ".jpg": lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9",
    ".jpeg": lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9",
    ".gif": lambda: (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
                     b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"),
    ".webp": lambda: (b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00"
                      b"\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"),
    ".docx": _docx,
    ".xlsx": _xlsx,
    ".pptx": _pptx,
    ".doc": lambda: ole_file("WordDocument", "1Table"),
    ".wps": lambda: ole_file("WordDocument", "1Table"),
    ".xls": lambda: ole_file("Workbook"),
    ".et": lambda: ole_file("Workbook"),
    ".ppt": lambda: ole_file("PowerPoint Document"),
    ".ofd": lambda: _zip({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"}),
}


def evidence_bytes(ext: str) -> bytes:
    """A small real file of the kind the extension names (".pdf", ".png", ".docx", ".xls" …)."""
    return EVIDENCE_CONTENT[ext.lower()]()


def evidence_upload(name: str = "整改报告.pdf", content: bytes | None = None, content_type: str = "") -> Any:
    """An upload as a browser sends it: real content for the name's extension unless `content` is given, and
    whatever Content-Type the browser claims (the system never reads it)."""
    import posixpath

    from django.core.files.uploadedfile import SimpleUploadedFile

    body = evidence_bytes(posixpath.splitext(name)[1]) if content is None else content
    return SimpleUploadedFile(name, body, content_type=content_type or "application/octet-stream")
