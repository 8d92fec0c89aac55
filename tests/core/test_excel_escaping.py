"""Every Excel the site writes escapes text a spreadsheet would take for a formula (= + - @), through one function
(`core.text.excel_text`): every django-import-export resource of the project (found by walking the subclasses, so a
new one is covered), any Dataset written as xlsx, and the workbooks written cell by cell (categories, reports)."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import io
import itertools
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tablib
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from import_export import fields, resources
from openpyxl import load_workbook

from campaigns import services as campaign_services
from campaigns.models import Category
from campaigns.resources import category_workbook
from core.exporting import XLSX, ExportModelResource, ExportResource, escaped_dataset, xlsx_bytes
from core.text import FORMULA_CHARS, excel_text, unescape_formula
from tests.ledger.factories import CampaignFactory
from tests.reports.test_figures import timeline  # noqa: F401

HOSTILE = ["=SUM(1)", "@SUM(1)", "+cmd|' /C calc'!A0", "-2+3", '=HYPERLINK("http://x","点我")', "\x1b=1"]


def unsafe_cells(data: bytes) -> list[str]:
    """Every cell of every sheet that a spreadsheet would evaluate or read as a formula."""
    wb = load_workbook(io.BytesIO(data))
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value[:1] in FORMULA_CHARS):
                    found.append(f"{ws.title}!{cell.coordinate}={cell.value!r}")
    return found


def texts(data: bytes) -> set[str]:
    wb = load_workbook(io.BytesIO(data))
    return {c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)}


# ---- the function ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE)
def test_excel_text_escapes_and_the_import_undoes_it(value):
    escaped = excel_text(value)
    assert escaped[0] == "'" and escaped[1] in FORMULA_CHARS
    assert excel_text(escaped) == escaped  # escaping twice changes nothing
    assert unescape_formula(escaped) == value.replace("\x1b", "")


def test_numbers_and_dates_stay_what_they_are():
    assert [excel_text(v) for v in (-5, 1.5, dt.date(2022, 5, 31), None)] == [-5, 1.5, dt.date(2022, 5, 31), None]


# ---- every resource of the project -------------------------------------------------------------------------------

def project_resource_classes() -> list[type[resources.Resource]]:
    """Every Resource subclass defined in the project's apps (their resources modules imported first)."""
    roots = [a.name for a in apps.get_app_configs() if Path(a.path).parent == Path(settings.BASE_DIR)]
    for root in roots:
        package = importlib.import_module(root)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{root}."):
            if info.name.rsplit(".", 1)[-1] in ("resources", "exporting") or ".resources." in info.name:
                importlib.import_module(info.name)

    def walk(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    found = {c for c in walk(resources.Resource) if c.__module__.split(".")[0] in roots}
    return sorted(found - {ExportResource, ExportModelResource}, key=lambda c: c.__qualname__)


def test_the_walk_finds_the_known_resources():
    names = {c.__name__ for c in project_resource_classes()}
    assert {"DeliveryResource", "OrderResource", "UnitRowResource", "GroupResource", "TrendResource"} <= names


def instantiate(cls: type[resources.Resource]) -> resources.Resource:
    """An instance, hostile text for each argument its constructor requires (a heading, say)."""
    required = [p for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self" and p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    args = {p.name: HOSTILE[0] for p in required}
    return cls(**args)


@pytest.mark.parametrize("cls", project_resource_classes(), ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_resource_escapes_every_cell(cls, monkeypatch, db):
    assert issubclass(cls, ExportResource | ExportModelResource), (
        f"{cls.__qualname__} must derive from core.exporting.ExportResource or ExportModelResource")
    hostile = itertools.cycle(HOSTILE)
    # Whatever a field or its dehydrate method would give, each cell and header is hostile text.
    monkeypatch.setattr(resources.Resource, "export_field", lambda self, field, instance, **kw: next(hostile))
    resource = instantiate(cls)
    for field in resource.fields.values():
        field.column_name = "@表头"
    dataset = resource.export(queryset=[object(), object()])
    assert dataset.height == 2 and dataset.width == len(resource.get_export_fields()) > 0
    cells = [*dataset.headers, *itertools.chain.from_iterable(dataset)]
    assert all(isinstance(c, str) and c.startswith("'") for c in cells), cells
    assert not unsafe_cells(xlsx_bytes(dataset))


def test_a_dataset_written_as_xlsx_is_escaped_even_without_our_resources():
    """A resource that forgot the base class, or a Dataset built by hand: tablib's xlsx is ours."""

    class Forgetful(resources.Resource):
        text = fields.Field(column_name="内容")

        def dehydrate_text(self, value: Any) -> str:
            return value

    dataset = Forgetful().export(queryset=HOSTILE)
    assert dataset["内容"] == HOSTILE  # the Dataset itself is not escaped …
    data = dataset.export("xlsx")
    assert not unsafe_cells(data)  # … but what it writes as Excel is
    assert {excel_text(v) for v in HOSTILE} <= texts(data)
    book = tablib.Databook([tablib.Dataset(*[[v] for v in HOSTILE], headers=["=h"], title="s")])
    assert not unsafe_cells(book.export("xlsx"))
    assert dataset["内容"] == HOSTILE  # and it was not changed in place


def test_the_import_export_format_escapes_too():
    dataset = tablib.Dataset(*[[v, 1] for v in HOSTILE], headers=["=a", "b"])
    assert not unsafe_cells(XLSX().export_data(dataset))
    assert escaped_dataset(dataset)[0] == (excel_text(HOSTILE[0]), 1)


# ---- the exports of the site, with hostile text in the database ------------------------------------------------

def test_the_category_export_escapes_and_reimports_unchanged(people):
    campaign = CampaignFactory()
    for i, name in enumerate(HOSTILE[:5], start=1):
        campaign_services.category_create(campaign=campaign, by=people.office, code=f"{i}", name=name)
    data = category_workbook(list(Category.objects.filter(campaign=campaign).order_by("code")))
    assert not unsafe_cells(data)
    assert {excel_text(v) for v in HOSTILE[:5]} <= texts(data)
    other = CampaignFactory()
    report = campaign_services.category_import(campaign=other, file=io.BytesIO(data), by=people.office)
    assert report.applied, report.errors
    assert sorted(Category.objects.filter(campaign=other).values_list("name", flat=True)) == sorted(HOSTILE[:5])


def test_the_category_export_view_escapes(client, people):
    campaign = CampaignFactory()
    campaign_services.category_create(campaign=campaign, by=people.office, code="1", name="@SUM(1)")
    campaign_services.category_create(campaign=campaign, by=people.office, code="2",
                                      name="+cmd|' /C calc'!A0")
    client.force_login(people.office)
    response = client.get(reverse("campaigns:category_export", args=[campaign.pk]))
    data = b"".join(response.streaming_content)
    assert not unsafe_cells(data)
    assert {"'@SUM(1)", "'+cmd|' /C calc'!A0"} <= texts(data)


def test_the_delivery_log_export_escapes(client, people, county):
    from notifications.models import Delivery

    for i, value in enumerate(HOSTILE):
        Delivery.objects.create(key=f"k{i}", channel="email", recipient=people.liaison, unit=county.education,
                                batch="b", subject=value, body=value, status="failed", error=value)
    client.force_login(people.office)
    response = client.get(reverse("notifications:deliveries_export"))
    assert response.status_code == 200
    assert not unsafe_cells(response.content)
    assert excel_text(HOSTILE[2]) in texts(response.content)


@pytest.fixture
def hostile_timeline(timeline):  # noqa: F811
    """The reports' scripted timeline with formula-like text wherever a report writes a name or a summary."""
    from ledger.models import Problem
    from units.models import Unit

    campaign, county = timeline
    Unit.objects.filter(pk=county.education.pk).update(name="=HYPERLINK(\"http://x\")", short_name="@教体局")
    Problem.objects.filter(campaign=campaign).update(summary="+cmd|' /C calc'!A0")
    type(campaign).objects.filter(pk=campaign.pk).update(name="-专项行动")
    campaign.refresh_from_db()
    return campaign, county


def test_the_reports_workbooks_escape(hostile_timeline):
    from reports.figures import Period
    from reports.monthly import build_monthly_xlsx
    from reports.quarterly import Bulletin, build_quarterly_xlsx
    from reports.weekly import build_weekly_xlsx

    campaign, _ = hostile_timeline
    monthly = build_monthly_xlsx(campaign, Period.month(2022, 5), notes="=1+1")
    weekly = build_weekly_xlsx(campaign, Period.week(2022, 21))
    quarterly = build_quarterly_xlsx(Bulletin(campaign=campaign, year=2022, quarter=2, period=Period.quarter(2022, 2),
                                              doc_number="作风办〔2022〕5号", issued_on=dt.date(2022, 7, 8),
                                              office_name="作风办", requirements=""))
    for name, data in (("月调度", monthly), ("周报", weekly), ("季通报", quarterly)):
        assert not unsafe_cells(data), name
    assert any(t.startswith("'=HYPERLINK") for t in texts(monthly))
    assert any(t.startswith("'+cmd") for t in texts(quarterly))


def test_the_dashboard_table_export_escapes(client, people, hostile_timeline):
    campaign, _ = hostile_timeline
    client.force_login(people.office)
    for table in ("units", "slowest", "trend", "category", "source"):
        response = client.get(reverse("reports:dashboard_export", args=[table]),
                              {"campaign": campaign.pk, "as_of": "2022-05-31"})
        assert response.status_code == 200, table
        assert not unsafe_cells(response.content), table
    response = client.get(reverse("reports:dashboard_export", args=["units"]),
                          {"campaign": campaign.pk, "as_of": "2022-05-31"})
    assert "'=HYPERLINK(\"http://x\")" in texts(response.content)
