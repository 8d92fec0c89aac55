"""The category catalogue: import from Excel (untidy files, every refusal, all or nothing), copy, browser edits."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns import selectors, services
from campaigns.models import Category
from campaigns.resources import category_workbook
from core.models import AuditEntry
from tests.campaigns.xlsx import HEADER, upload, xlsx_bytes
from tests.ledger.factories import make_problem


def tree(campaign) -> list[tuple[str, str, str]]:
    """(code, name, parent code) of every category, in display order."""
    return [
        (n.category.code, n.category.name, n.category.parent.code if n.category.parent else "")
        for n in selectors.category_tree(campaign)
    ]


def error_texts(report) -> list[str]:
    return [str(e) for e in report.errors]


# ---- import ------------------------------------------------------------------------------------------------------

@pytest.mark.smoke
def test_imports_the_shared_catalogue_as_a_tree(people, campaign, shared_data):
    with open(shared_data / "categories.xlsx", "rb") as fh:
        report = services.category_import(campaign=campaign, file=fh, by=people.office)
    assert report.ok and report.applied, error_texts(report)
    assert report.counts == {"new": 20, "changed": 0, "unchanged": 0, "error": 0}
    nodes = selectors.category_tree(campaign)
    assert [n.category.code for n in nodes if n.depth == 0] == ["1", "2", "3", "4", "5"]
    by_code = {n.category.code: n for n in nodes}
    assert by_code["1.01"].depth == 1 and by_code["1.01"].category.parent.code == "1"
    assert by_code["5.15"].category.name == "违规吃喝、违规收送礼品礼金"
    # display order follows the file: children right after their parent
    assert [n.category.code for n in nodes][:5] == ["1", "1.01", "1.02", "1.03", "2"]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, content_type__model="category").count() == 20


def test_dry_run_previews_without_writing(people, campaign):
    report = services.category_import(
        campaign=campaign, file=upload([HEADER, ("1", "政治责任方面", ""), ("1.01", "学用两张皮", "1")]),
        by=people.office, dry_run=True,
    )
    assert report.ok and not report.applied
    assert [(r.code, r.action) for r in report.rows] == [("1", "new"), ("1.01", "new")]
    assert not Category.objects.exists()


def test_upsert_by_code_renames_moves_and_leaves_others_alone(people, campaign):
    services.category_import(campaign=campaign, by=people.office, file=upload([
        HEADER, ("1", "政治责任方面", ""), ("2", "担当尽责方面", ""), ("1.01", "学用两张皮", "1"), ("9", "其他", ""),
    ]))
    report = services.category_import(campaign=campaign, by=people.office, file=upload([
        HEADER, ("1", "政治责任方面", ""), ("2", "担当作为方面", ""), ("1.01", "学用两张皮", "2"),
        ("2.01", "躺平式干部", "2"),
    ]))
    assert report.applied
    actions = {r.code: (r.action, r.changes) for r in report.rows}
    assert actions["1"] == ("unchanged", {})
    assert actions["2"] == ("changed", {"类别名称": ["担当尽责方面", "担当作为方面"]})
    assert actions["1.01"] == ("changed", {"上级类别": ["1", "2"]})
    assert actions["2.01"][0] == "new"
    assert set(tree(campaign)) == {
        ("1", "政治责任方面", ""), ("2", "担当作为方面", ""), ("1.01", "学用两张皮", "2"),
        ("2.01", "躺平式干部", "2"), ("9", "其他", ""),
    }


def test_tolerates_a_title_row_header_aliases_and_parents_after_children(people, campaign):
    rows = [
        ("2026年作风问题表现清单", None, None),
        (None, None, None),
        ("序号", "代码", "问题表现", "上级编码"),
        (1, "1.01", "  学用两张皮\u3000", "1"),
        (2, 1, "政治责任方面", None),
        (3, "1.02", "落实指示批示机械教条", "政治责任方面"),  # the parent named by its name
    ]
    report = services.category_import(campaign=campaign, file=upload(rows), by=people.office)
    assert report.ok, error_texts(report)
    assert set(tree(campaign)) == {
        ("1", "政治责任方面", ""), ("1.01", "学用两张皮", "1"), ("1.02", "落实指示批示机械教条", "1")
    }


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([HEADER, ("", "没有编码", "")], ["第2行「类别编码」列：不能为空"]),
        ([HEADER, ("1", "", "")], ["第2行「类别名称」列：不能为空"]),
        ([HEADER, ("1", "甲", ""), ("1", "乙", "")], ["第3行「类别编码」列：“1”与第2行重复"]),
        ([HEADER, ("1.01", "甲", "7")], ["第2行「上级类别编码」列：上级类别“7”不存在"]),
        ([HEADER, ("1", "甲", "1")], ["第2行「上级类别编码」列：上级类别不能是它自己"]),
        ([HEADER, ("1", "甲", "2"), ("2", "乙", "1")], ["第2行「上级类别编码」列", "第3行「上级类别编码」列"]),
        ([HEADER, ("1 01", "甲", "")], ["第2行「类别编码」列：“1 01”中含有空格"]),
        ([HEADER, ("1", "甲" * 201, "")], ["第2行「类别名称」列：超过 200 个字符"]),
    ],
)
def test_row_errors_name_row_and_column_and_nothing_is_written(people, campaign, rows, expected):
    good = [("8", "正常的一行", "")]
    report = services.category_import(campaign=campaign, file=upload([*rows, *good]), by=people.office)
    assert not report.ok and not report.applied
    texts = error_texts(report)
    for fragment in expected:
        assert any(fragment in t for t in texts), texts
    assert not Category.objects.exists()


def test_cycle_through_the_existing_catalogue_is_refused(people, campaign):
    services.category_create(campaign=campaign, by=people.office, code="1", name="甲")
    a = Category.objects.get(code="1")
    services.category_create(campaign=campaign, by=people.office, code="1.1", name="乙", parent=a)
    report = services.category_import(campaign=campaign, file=upload([HEADER, ("1", "甲", "1.1")]), by=people.office)
    assert [str(e) for e in report.errors] == ["第2行「上级类别编码」列：上级类别“1.1”是本类别的下级，会形成循环"]
    a.refresh_from_db()
    assert a.parent is None


def test_a_child_of_a_broken_row_is_not_reported_twice(people, campaign):
    report = services.category_import(
        campaign=campaign, file=upload([HEADER, ("1", "", ""), ("1.01", "学用两张皮", "1")]), by=people.office
    )
    assert error_texts(report) == ["第2行「类别名称」列：不能为空"]


def test_missing_required_column_is_a_file_error(people, campaign):
    report = services.category_import(campaign=campaign, file=upload([("类别编码", "上级类别编码"), ("1", "")]),
                                      by=people.office)
    assert "缺少必需的列" in report.file_error and "类别名称" in report.file_error
    assert not report.applied


def test_not_an_xlsx_file_is_refused_in_chinese(people, campaign):
    fake = io.BytesIO("类别编码,类别名称\n1,甲\n".encode())
    report = services.category_import(campaign=campaign, file=fake, by=people.office)
    assert "不是有效的 Excel" in report.file_error
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    assert "不是有效的 Excel" in services.category_import(campaign=campaign, file=docx, by=people.office).file_error


def test_header_only_file_is_refused(people, campaign):
    report = services.category_import(campaign=campaign, file=upload([HEADER]), by=people.office)
    assert "没有类别数据" in report.file_error


def test_formula_without_a_cached_value_is_an_error_on_its_cell(people, campaign):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(HEADER))
    ws.append(["1", "甲", None])
    ws.append(["2", '="乙"', None])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    report = services.category_import(campaign=campaign, file=buf, by=people.office)
    assert any(t.startswith("第3行「类别名称」列：公式没有计算结果") for t in error_texts(report)), error_texts(report)
    assert not Category.objects.exists()


def test_import_needs_office_or_admin(people, campaign):
    with pytest.raises(PermissionDenied):
        services.category_import(campaign=campaign, file=upload([HEADER, ("1", "甲", "")]), by=people.liaison,
                                 dry_run=True)


# ---- copy --------------------------------------------------------------------------------------------------------

def test_copy_reuses_an_earlier_catalogue_with_its_tree(people, campaign, shared_data):
    earlier = services.campaign_create(by=people.office, name="2022年作风年", code="ZF2022")
    with open(shared_data / "categories.xlsx", "rb") as fh:
        services.category_import(campaign=earlier, file=fh, by=people.office)
    services.category_set_active(category=Category.objects.get(campaign=earlier, code="5.15"), by=people.office,
                                 active=False)
    services.category_create(campaign=campaign, by=people.office, code="6", name="本次新增的方面")

    report = services.categories_copy(source_campaign=earlier, target_campaign=campaign, by=people.office)
    assert report.counts["new"] == 20
    assert [t for t in tree(campaign) if t[0] != "6"] == tree(earlier)
    assert ("6", "本次新增的方面", "") in tree(campaign)
    assert not Category.objects.get(campaign=campaign, code="5.15").is_active
    # the copies are the target's own rows
    assert not Category.objects.filter(campaign=campaign, parent__campaign=earlier).exists()
    # copying again changes nothing
    again = services.categories_copy(source_campaign=earlier, target_campaign=campaign, by=people.office)
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 20, "error": 0}


def test_copy_refuses_itself_and_an_empty_source(people, campaign):
    empty = services.campaign_create(by=people.office, name="空", code="EMPTY")
    with pytest.raises(ValidationError, match="同一个专项行动"):
        services.categories_copy(source_campaign=campaign, target_campaign=campaign, by=people.office)
    with pytest.raises(ValidationError, match="还没有问题类别"):
        services.categories_copy(source_campaign=empty, target_campaign=campaign, by=people.office)


# ---- edits in the browser ---------------------------------------------------------------------------------------

@pytest.fixture
def cats(people, campaign):
    office = people.office
    one = services.category_create(campaign=campaign, by=office, code="1", name="政治责任方面")
    two = services.category_create(campaign=campaign, by=office, code="2", name="担当尽责方面")
    child = services.category_create(campaign=campaign, by=office, code="1.01", name="学用两张皮", parent=one)
    grandchild = services.category_create(campaign=campaign, by=office, code="1.01.1", name="细项", parent=child)
    return one, two, child, grandchild


def test_create_appends_to_its_siblings_and_refuses_duplicates(people, campaign, cats):
    one, two, child, _ = cats
    assert (one.sort_order, two.sort_order) == (10, 20)
    with pytest.raises(ValidationError, match="已存在"):
        services.category_create(campaign=campaign, by=people.office, code="1", name="重复")
    with pytest.raises(ValidationError, match="请填写类别名称"):
        services.category_create(campaign=campaign, by=people.office, code="3", name=" ")
    other = services.campaign_create(by=people.office, name="别的", code="OTHER")
    with pytest.raises(ValidationError, match="不属于该专项行动"):
        services.category_create(campaign=other, by=people.office, code="1", name="甲", parent=one)


def test_rename_and_move_a_category_with_its_subtree(people, campaign, cats):
    one, two, child, grandchild = cats
    services.category_update(category=child, by=people.office, name="学用“两张皮”", parent=two)
    assert ("1.01", "学用“两张皮”", "2") in tree(campaign)
    depths = {n.category.code: n.depth for n in selectors.category_tree(campaign)}
    assert depths["1.01.1"] == 2  # the grandchild moved along
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, object_id=str(child.pk)).get()
    assert entry.changes["name"] == ["学用两张皮", "学用“两张皮”"]


def test_moving_under_itself_or_a_descendant_is_refused(people, cats):
    one, _, child, grandchild = cats
    for parent in (one, child, grandchild):
        with pytest.raises(ValidationError, match="形成循环"):
            services.category_update(category=one, by=people.office, parent=parent)
    one.refresh_from_db()
    assert one.parent is None


def test_deactivating_takes_the_subtree_and_activating_needs_an_active_parent(people, campaign, cats):
    one, two, child, grandchild = cats
    assert services.category_set_active(category=one, by=people.office, active=False) == 3
    assert set(Category.objects.filter(is_active=False).values_list("code", flat=True)) == {"1", "1.01", "1.01.1"}
    with pytest.raises(ValidationError, match="请先启用上级类别"):
        services.category_set_active(category=child, by=people.office, active=True)
    assert services.category_set_active(category=one, by=people.office, active=True) == 1
    assert services.category_set_active(category=child, by=people.office, active=True) == 1
    assert not Category.objects.get(code="1.01.1").is_active
    with pytest.raises(ValidationError, match="已停用"):
        services.category_create(campaign=campaign, by=people.office, code="1.01.1.1", name="甲", parent=grandchild)
    assert [c for c, _ in selectors.category_choices(campaign)] == [one.pk, child.pk, two.pk]


def test_a_deactivated_category_keeps_its_problems(people, county, campaign, cats):
    one, *_ = cats
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, category=one)
    services.category_set_active(category=one, by=people.office, active=False)
    p.refresh_from_db()
    assert p.category == one
    assert {n.category.code: n.problem_count for n in selectors.category_tree(campaign)}["1"] == 1


def test_browser_edits_need_office_or_admin(people, cats):
    one, *_ = cats
    with pytest.raises(PermissionDenied):
        services.category_update(category=one, by=people.liaison, name="改")
    with pytest.raises(PermissionDenied):
        services.category_set_active(category=one, by=people.leader, active=False)
    services.category_update(category=one, by=people.admin, name="改")


def test_export_round_trips_through_import(people, campaign, cats):
    data = category_workbook([n.category for n in selectors.category_tree(campaign)])
    other = services.campaign_create(by=people.office, name="别的", code="OTHER")
    report = services.category_import(campaign=other, file=io.BytesIO(data), by=people.office)
    assert report.applied
    assert tree(other) == tree(campaign)


def test_export_keeps_formula_like_names_as_text(people, campaign):
    services.category_create(campaign=campaign, by=people.office, code="1", name="=HYPERLINK(\"x\")")
    data = category_workbook(list(Category.objects.filter(campaign=campaign)))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    # escaped with an apostrophe, which the import strips again
    assert ws["B2"].data_type == "s" and ws["B2"].value == '\'=HYPERLINK("x")'
    assert xlsx_bytes([HEADER])  # the helper itself works


# ---- selects group categories under their headings ---------------------------------------------------------------

def _options(html: str, name: str) -> list[str]:
    import re

    select = re.search(rf"<select[^>]*name=\"{name}\"[^>]*>(.*?)</select>", html, re.S)
    assert select is not None, name
    return [o.strip(" \n\t") for o in re.findall(r"<option[^>]*>(.*?)</option>", select.group(1), re.S)]


def _heading_of(options: list[str]) -> dict[str, str]:
    """Each indented option → the last unindented option above it."""
    heading, out = "", {}
    for o in options:
        if o.startswith("\u3000") or "· \u3000" in o:
            out[o.replace("\u3000", "").split("· ")[-1]] = heading
        elif o and not o.startswith("全部") and o != "---------":
            heading = o.split("· ")[-1]
    return out


def test_every_category_select_groups_children_under_their_own_heading(client, people, campaign, shared_data):
    from django.urls import reverse

    with open(shared_data / "categories.xlsx", "rb") as fh:
        services.category_import(campaign=campaign, file=fh, by=people.office)
    expected = {str(c): str(c.parent) for c in Category.objects.filter(
        campaign=campaign, parent__isnull=False, parent__parent__isnull=True)}
    assert len(expected) > 10
    client.force_login(people.office, backend="django.contrib.auth.backends.ModelBackend")
    pages = [
        (reverse("ledger:problem_create") + f"?campaign={campaign.pk}", "category"),
        (reverse("ledger:problem_list") + f"?campaign={campaign.pk}", "category"),
        (reverse("ledger:problem_list"), "category"),
        (reverse("ledger:lookback_draw"), "category"),
    ]
    for page, name in pages:
        headings = _heading_of(_options(client.get(page).content.decode(), name))
        for child, parent in expected.items():
            assert headings.get(child) == parent, (page, child, headings.get(child), parent)
