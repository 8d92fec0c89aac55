"""The column mapping step in the browser: a roster whose parent column no table knows is previewed as a flat
list; the admin maps the column, previews again and imports the tree."""

from __future__ import annotations

import openpyxl
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_journey import open_as
from units.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_maps_an_unknown_parent_column(browser: Browser, browser_context_args, live_server, people,
                                                  tmp_path, screenshot_dir):
    path = tmp_path / "机构名录.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["云山县机构名录"])
    ws.append(["填报单位：县委编办", None, None, None, "填报日期：2026年11月30日"])
    ws.append(["序号", "统一社会信用代码", "机构全称", "归口单位", "机构性质", "备注"])
    rows = [
        ("YS000001", "云山县", "", "其他"), ("YS000002", "中共云山县委办公室", "云山县", "县委工作机关"),
        ("YS000003", "云山县人民政府办公室", "云山县", "县政府工作部门"),
        ("YS000004", "云山县教育体育局", "云山县", "县政府工作部门"),
        ("YS000005", "云山县第一中学", "云山县教育体育局", "事业单位"), ("", "云山县人民武装部", "云山县", "驻县单位"),
    ]
    for i, (code, name, parent, kind) in enumerate(rows, start=1):
        ws.append([i, code, name, parent, kind, ""])
    wb.save(path)

    admin = open_as(browser, browser_context_args, live_server.url, people.admin.username)
    admin.goto(f"{live_server.url}/units/import/")
    admin.get_by_label("单位名册").check()
    admin.locator("input[type=file]").set_input_files(str(path))
    admin.get_by_role("button", name="上传并预检").click()
    expect(admin.get_by_test_id("mapping")).to_be_visible()
    expect(admin.get_by_test_id("confirmation-flat")).to_be_visible()
    row = admin.locator('tr[data-letter="D"]')
    expect(row).to_contain_text("归口单位")
    row.locator("select").select_option(label="上级单位")
    admin.get_by_test_id("remap-submit").click()
    expect(admin.locator('tr[data-letter="D"]')).to_contain_text("手动指定")
    expect(admin.get_by_test_id("confirmation-flat")).to_have_count(0)
    admin.get_by_label("保存这套映射，以后上传表头相同的文件时自动套用：").fill("县委编办机构名录")
    admin.get_by_test_id("mapping").scroll_into_view_if_needed()
    admin.screenshot(path=str(screenshot_dir / "import-mapping.png"), full_page=True)
    admin.get_by_test_id("mapping-save").click()
    expect(admin.get_by_text("列映射“县委编办机构名录”已保存")).to_be_visible()

    admin.get_by_role("button", name="确认导入").first.click()
    admin.get_by_test_id("apply-submit").click()
    expect(admin.get_by_test_id("done-summary")).to_be_visible()
    school = Unit.objects.get(code="YS000005")
    assert school.parent is not None and school.parent.name == "云山县教育体育局"
    militia = Unit.objects.get(name="云山县人民武装部")
    assert militia.code_is_internal and militia.parent is not None and militia.parent.code == "YS000001"
