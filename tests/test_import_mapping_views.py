"""The mapping step of an import preview in the browser: change a column's field, preview again, save the mapping
for the next file with the same headers, confirm a flat roster, decide the ledger's unknown source words."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Campaign, Source
from core.models import ImportMapping, Job
from ledger.models import Problem
from tests.ledger.factories import CampaignFactory
from tests.ledger.test_import_ledger_views import login
from units.models import Unit

pytestmark = pytest.mark.django_db

ROSTER = [
    ["单位代码", "单位名称", "归口单位"],
    ["GK001", "示范县", ""],
    ["GK002", "县委办公室", "示范县"],
    ["GK003", "县人民政府办公室", "示范县"],
]


def xlsx(rows: list[list[Any]], name: str) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="application/octet-stream")


def start_roster(client: Any, rows: list[list[Any]], name: str = "单位名册.xlsx") -> Job:
    response = client.post(reverse("units:import_start"), {"kind": "units", "file": xlsx(rows, name)})
    assert response.status_code == 302, response.content.decode()[:500]
    return Job.objects.latest("id")


def test_an_unknown_parent_column_is_listed_mapped_and_saved(client, people):
    login(client, people.admin)
    job = start_roster(client, ROSTER)
    page = client.get(reverse("units:import_job", args=[job.pk])).content.decode()
    # Every column is listed; the unknown one is 不导入, and the flat tree asks for a confirmation.
    assert 'data-letter="C"' in page and "归口单位" in page
    assert 'name="map_C"' in page
    assert 'data-testid="confirmation-flat"' in page
    job.refresh_from_db()
    assert [c["key"] for c in job.report["columns"]] == ["code", "name", ""]

    # Applying without the confirmation writes nothing.
    client.post(reverse("units:import_apply", args=[job.pk]))
    assert not Unit.objects.filter(code__startswith="GK").exists()

    # Map C to 上级单位 and preview again: the tree is there and nothing asks to be confirmed.
    response = client.post(reverse("units:import_remap", args=[job.pk]),
                           {"map_A": "code", "map_B": "name", "map_C": "parent"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.options["mapping"] == {"C": "parent"}  # only what the form changed
    assert [(c["key"], c["how"]) for c in job.report["columns"]] == [
        ("code", "alias"), ("name", "label"), ("parent", "mapped"),
    ]
    assert job.report["confirmations"] == []

    # Save it; the next file with the same headers gets it without asking.
    client.post(reverse("units:import_mapping_save", args=[job.pk]), {"name": "县编办名册"})
    saved = ImportMapping.objects.get(kind="units", name="县编办名册")
    assert saved.mapping == {"A": "code", "B": "name", "C": "parent"}
    client.post(reverse("units:import_apply", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.report
    assert Unit.objects.get(code="GK002").parent == Unit.objects.get(code="GK001")

    second = start_roster(client, [*ROSTER, ["GK004", "县纪委监委机关", "示范县"]], name="单位名册（二）.xlsx")
    assert second.report["mapping_name"] == "县编办名册"
    assert [c["how"] for c in second.report["columns"]] == ["saved"] * 3
    page = client.get(reverse("units:import_job", args=[second.pk])).content.decode()
    assert "已套用保存的映射“县编办名册”" in page


def test_a_flat_roster_imports_once_confirmed(client, people):
    login(client, people.admin)
    job = start_roster(client, ROSTER)
    client.post(reverse("units:import_apply", args=[job.pk]), {"confirm": "flat"})
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert Unit.objects.get(code="GK002").parent is None


def test_a_forged_field_changes_nothing(client, people):
    login(client, people.admin)
    job = start_roster(client, ROSTER)
    before = (job.options, job.report)
    response = client.post(reverse("units:import_remap", args=[job.pk]), {"map_C": "is_superuser"}, follow=True)
    assert "选择的字段“is_superuser”不存在" in response.content.decode()
    job.refresh_from_db()
    assert (job.options, job.report) == before
    response = client.post(reverse("units:import_remap", args=[job.pk]),
                           {"map_B": "name", "map_C": "name"}, follow=True)
    assert "同一个字段只能对应一列" in response.content.decode()


def test_a_liaison_cannot_remap(client, people):
    login(client, people.admin)
    job = start_roster(client, ROSTER)
    login(client, people.liaison)
    assert client.post(reverse("units:import_remap", args=[job.pk]), {"map_C": "parent"}).status_code == 403


LEDGER = [
    ["问题编号", "来源", "问题描述", "责任单位", "整改措施", "完成时限"],
    ["XC-2025-01-001", "人大代表建议", "会议室长期空置", "县教育体育局", "清理空置会议室", "2025年6月底"],
    ["XC-2025-01-002", "县委巡察", "文件层层转发", "县财政局", "精简文件", "2025-06-30"],
]


def test_the_ledger_asks_for_an_unknown_source_and_learns_the_choice(client, people):
    campaign = CampaignFactory(code="ZF2025")
    login(client, people.office)
    response = client.post(reverse("ledger:import_start"), {"file": xlsx(LEDGER, "台账.xlsx"), "campaign": "ZF2025"})
    assert response.status_code == 302
    job = Job.objects.latest("id")
    assert [w["word"] for w in job.report["vocab"]["sources"]] == ["人大代表建议"]
    assert job.report["pending"] and not job.can_apply
    page = client.get(reverse("ledger:import_job", args=[job.pk])).content.decode()
    assert 'name="src_0"' in page and "人大代表建议" in page
    # The office number column is shown as 原编号.
    assert job.report["columns"][0]["key"] == "source_number"

    forged = client.post(reverse("ledger:import_remap", args=[job.pk]), {"src_0": "不存在的来源"}, follow=True)
    assert "不是可选的对应项" in forged.content.decode()

    client.post(reverse("ledger:import_remap", args=[job.pk]), {"src_0": "群众反映"})
    job.refresh_from_db()
    assert job.options["sources"] == {"人大代表建议": "群众反映"} and job.report["pending"] == []
    client.post(reverse("ledger:import_apply", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.report
    first = Problem.objects.get(campaign=campaign, source_number="XC-2025-01-001")
    assert first.source.name == "群众反映" and first.number.startswith("ZF2025-")
    assert Problem.objects.get(source_number="XC-2025-01-002").source.name == "巡视巡察"
    # The choice is remembered on the source: the next ledger with the word needs no decision.
    assert "人大代表建议" in Source.objects.get(campaign=campaign, name="群众反映").aliases
    response = client.post(reverse("ledger:import_start"), {"file": xlsx(LEDGER, "台账.xlsx"), "campaign": "ZF2025"})
    again = Job.objects.latest("id")
    assert again.report["vocab"]["sources"] == [] and again.report["counts"]["unchanged"] == 2
    assert Campaign.objects.get(code="ZF2025").problems.count() == 2
