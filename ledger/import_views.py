"""The ledger import pages: upload → preview (problem by problem) → confirm, through units' Job machinery.

The office only; anyone else gets 403. Jobs of other kinds are not found here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.models import DEFAULT_SOURCES, Campaign, Category, Source
from campaigns.services import CODE_RE
from core.audit import client_ip
from core.jobs import job_apply, job_import_create, job_preview, job_repreview
from core.mappings import field_choices, mapping_from_post, mapping_save
from core.models import Job
from ledger import workflow
from ledger.excel import LEDGER_KIND
from ledger.excel.columns import LEDGER_COLUMNS
from ledger.excel.exporter import export_ledger_xlsx
from ledger.excel.vocab import ADD, category_label
from ledger.models import Problem
from units import selectors as unit_selectors
from units.middleware import HtmxHttpRequest
from units.views import import_progress_response

PAGE_SIZE = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOTES = [
    "两种格式都可以导入：每项措施一行（问题的各列向下合并单元格），或每个问题一行（措施在一格内编号：1.…；2.…）。",
    "表头上方可以有标题行和填报单位、填报日期行；列名可用常见写法（如“问题内容”“具体表现”“责任单位”“完成时限”）。",
    "牵头单位、配合单位、措施责任单位填单位全称或简称，多个单位用顿号、逗号或分号分隔；系统中没有的单位会报错。",
    "整改时限可写 2022-06-30、2022年6月30日、2022.6.30、2022/06/30，或“长期坚持”“立行立改”。",
    "整改状态、销号情况按常用说法识别（已完成、正在推进、未启动、长期坚持；已销号、申请销号、未销号）。",
    "同一文件可以反复导入：已导入的问题按编号（或序号、问题描述）对应，只更新有变化的内容；任何一处出错都不会写入。",
]


class LedgerUploadForm(forms.Form):
    file = forms.FileField(
        label="台账文件",
        help_text="仅支持 .xlsx 格式（Excel 2007 及以上，或 WPS 另存为 .xlsx）。",
        error_messages={"required": "请选择要上传的台账文件。", "empty": "上传的文件是空的。"},
    )
    campaign = forms.CharField(
        label="专项行动编号", max_length=32,
        help_text="如 ZF2022；填写系统中没有的编号时，导入时将新建该专项行动。",
        error_messages={"required": "请填写专项行动编号。"},
    )
    campaign_name = forms.CharField(
        label="新建专项行动的名称", max_length=200, required=False,
        help_text="仅在新建专项行动时使用；不填则取台账的标题。",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"class": "form-control", "accept": ".xlsx"})
        self.fields["campaign"].widget.attrs.update({"class": "form-control", "list": "campaign-codes",
                                                      "autocomplete": "off"})
        self.fields["campaign_name"].widget.attrs.update({"class": "form-control"})

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("只能上传 .xlsx 格式的 Excel 文件。")
        return f

    def clean_campaign(self) -> str:
        code = self.cleaned_data["campaign"].strip()
        if not CODE_RE.match(code):
            raise forms.ValidationError("编号只能由字母、数字、“-”和“_”组成，如 ZF2022。")
        existing = Campaign.objects.filter(code__iexact=code).first()
        return existing.code if existing else code


def _require_importer(request: HttpRequest) -> None:
    user: Any = request.user
    if not workflow.is_office(user):  # as the workflow's 台账导入 step asks
        raise PermissionDenied(workflow.STEPS[workflow.A.IMPORT].who_message)


def _get_job(request: HttpRequest, pk: int) -> Job:
    _require_importer(request)
    return get_object_or_404(Job.objects.select_related("owner"), pk=pk, kind=LEDGER_KIND)


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    initial = {"campaign": request.GET.get("campaign", "")}
    form = LedgerUploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        options = {
            "campaign": form.cleaned_data["campaign"], "campaign_name": form.cleaned_data["campaign_name"],
            "user_id": request.user.pk,  # the preview checks edits against the uploader's role
        }
        try:
            job = job_import_create(kind=LEDGER_KIND, upload=form.cleaned_data["file"], by=request.user,
                                    options=options)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            job_preview(job=job)
            return redirect("ledger:import_job", pk=job.pk)
    context = {
        "form": form,
        "columns": LEDGER_COLUMNS,
        "notes": NOTES,
        "campaigns": Campaign.objects.visible_to(request.user).order_by("-start_date", "-id"),
        "recent_jobs": Job.objects.filter(kind=LEDGER_KIND).select_related("owner")[:10],
    }
    return render(request, "ledger/import/start.html", context)


def _campaign_words(job: Job) -> tuple[list[str], list[str]]:
    """The sources and categories a word of the file can be mapped to (the campaign's, or the defaults of the
    campaign the import will create)."""
    campaign = Campaign.objects.filter(code__iexact=job.options.get("campaign", "")).first()
    if campaign is None:
        return list(DEFAULT_SOURCES), []
    sources = list(Source.objects.filter(campaign=campaign, is_active=True).values_list("name", flat=True))
    categories = [category_label(c) for c in Category.objects.filter(campaign=campaign, is_active=True)]
    return sources, categories


@login_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    report = job.report or {}
    sources, categories = _campaign_words(job)
    context = {
        "job": job, **unit_selectors.import_preview_context(report, request.GET, PAGE_SIZE),
        "campaign_code": report.get("campaign", {}).get("code") or job.options.get("campaign", ""),
        "field_choices": field_choices(LEDGER_COLUMNS), "source_choices": sources, "category_choices": categories,
        "remap_url": reverse("ledger:import_remap", args=[job.pk]),
        "save_url": reverse("ledger:import_mapping_save", args=[job.pk]),
    }
    return render(request, "ledger/import/job.html", context)


def _word_choices(words: list[dict[str, Any]], post: Any, prefix: str, allowed: list[str],
                  decided: dict[str, str]) -> dict[str, str]:
    """The decisions of the form on the preview's words, merged into the earlier ones; a forged value is refused."""
    out = dict(decided)
    for i, w in enumerate(words):
        value = (post.get(f"{prefix}_{i}") or "").strip()
        if not value:
            continue
        if value != ADD and value not in allowed:
            raise ValidationError(f"“{w['word']}”选择的“{value}”不是可选的对应项。")
        out[w["word"]] = value
    return out


@login_required
@require_POST
def import_remap(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview again with the column mapping, or the decisions on the file's sources and categories, of the form."""
    job = _get_job(request, pk)
    report = job.report or {}
    sources, categories = _campaign_words(job)
    vocab = report.get("vocab") or {}
    try:
        if any(k.startswith(("src_", "cat_")) for k in request.POST):
            options: dict[str, Any] = {
                "sources": _word_choices(vocab.get("sources") or [], request.POST, "src", sources,
                                         job.options.get("sources") or {}),
                "categories": _word_choices(vocab.get("categories") or [], request.POST, "cat", categories,
                                            job.options.get("categories") or {}),
            }
        else:
            options = mapping_from_post(report, request.POST, LEDGER_COLUMNS, current=job.options.get("mapping"))
        job_repreview(job=job, options=options)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已按所选内容重新预检。")
    return redirect("ledger:import_job", pk=job.pk)


@login_required
@require_POST
def import_mapping_save(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    try:
        saved = mapping_save(kind=LEDGER_KIND, name=request.POST.get("name", ""), report=job.report or {},
                             by=request.user, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"列映射“{saved.name}”已保存：以后上传表头相同的台账时自动套用。")
    return redirect("ledger:import_job", pk=job.pk)


@login_required
@require_GET
def import_progress(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return import_progress_response(request, _get_job(request, pk), namespace="ledger")


@login_required
@require_POST
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    # Only conflicts the preview listed can be decided: a forged id picks nothing.
    offered = {c["id"] for r in (job.report or {}).get("rows") or [] for c in r.get("conflicts") or []}
    take_file = sorted(set(request.POST.getlist("take_file")) & offered)
    asked = {c["id"] for c in (job.report or {}).get("confirmations") or []}
    confirmed = sorted(set(request.POST.getlist("confirm")) & asked)
    try:
        job = job_apply(job=job, by=request.user, ip=client_ip(request),
                        params={"take_file": take_file, "confirmed": confirmed})
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        if job.status == Job.Status.DONE:
            messages.success(request, "台账导入完成。")
        elif job.status == Job.Status.PREVIEWED:
            messages.error(request, "导入时发现错误（数据可能在预检后发生了变化），未写入任何数据，请查看下表。")
        elif job.status == Job.Status.FAILED:
            messages.error(request, "导入失败，未写入任何数据。")
    return redirect("ledger:import_job", pk=job.pk)


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """An empty ledger in the layout the export writes and the import reads."""
    _require_importer(request)
    data = export_ledger_xlsx(Problem.objects.none(), title="××县××专项行动问题整改台账")
    response = HttpResponse(data, content_type=XLSX_TYPE)
    disposition = content_disposition_header(True, "问题台账模板.xlsx")
    assert disposition is not None  # always a header for an attachment
    response["Content-Disposition"] = disposition
    return response
