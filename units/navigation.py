"""The navigation by role: one table, read by the base layout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from .models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str
    roles: tuple[str, ...]


MENU: tuple[NavItem, ...] = (
    NavItem("工作台", "home", "house", ()),
    NavItem("问题台账", "ledger:problem_list", "journal-text", (Role.OFFICE, Role.LEADER, Role.ADMIN)),
    NavItem("待核查", "ledger:review_queue", "clipboard-check", (Role.OFFICE,)),
    NavItem("本单位待办", "ledger:my_tasks", "list-check", (Role.LIAISON,)),
    NavItem("统计分析", "reports:dashboard", "bar-chart-line", (Role.OFFICE, Role.LEADER, Role.ADMIN)),
    NavItem("报表", "reports:run_list", "file-earmark-bar-graph", (Role.OFFICE, Role.LEADER, Role.ADMIN)),
    NavItem("督办单台账", "supervision:order_list", "megaphone", (Role.OFFICE,)),
    NavItem("每日巡查", "supervision:sweep_list", "alarm", (Role.OFFICE,)),
    NavItem("回头看", "ledger:lookback_list", "arrow-counterclockwise", (Role.OFFICE,)),
    NavItem("台账导入", "ledger:import_start", "file-earmark-arrow-up", (Role.OFFICE,)),
    NavItem("专项行动", "campaigns:campaign_list", "flag", (Role.OFFICE, Role.ADMIN)),
    NavItem("发送记录", "notifications:deliveries", "send-check", (Role.OFFICE, Role.ADMIN)),
    NavItem("通知渠道", "notifications:channels", "broadcast", (Role.OFFICE, Role.ADMIN)),
    NavItem("群机器人", "notifications:robot_list", "robot", (Role.OFFICE, Role.ADMIN)),
    NavItem("单位", "units:unit_tree", "diagram-3", (Role.ADMIN, Role.OFFICE, Role.LEADER, Role.LIAISON)),
    NavItem("用户", "units:user_list", "people", (Role.ADMIN,)),
    NavItem("名册导入", "units:import_start", "cloud-upload", (Role.ADMIN,)),
    NavItem("操作日志", "core:audit_list", "clock-history", (Role.ADMIN,)),
)


def menu_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for item in MENU:
        if item.roles and not user.has_role(*item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # a page not installed in this build
        items.append({"label": item.label, "url": url, "icon": item.icon, "active": False})
    # The current page belongs to the item with the longest matching URL: /units/import/3/ is 名册导入, not 单位.
    matching = [i for i in items if current_path == i["url"] or (i["url"] != "/" and current_path.startswith(i["url"]))]
    if matching:
        max(matching, key=lambda i: len(i["url"]))["active"] = True
    return items
