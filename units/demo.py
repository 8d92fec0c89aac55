"""The demo county 示范县: a unit tree of about a hundred units and one account per role.

`python manage.py load_demo` builds it through the same services the importers use (`unit_create`,
`user_create`), so the demo exercises the real code paths and leaves an audit trail.

Other apps contribute demo data by shipping a `demo` module (e.g. `ledger/demo.py`) that defines:

    def load_demo(stdout) -> None      # required; called after the units, on every run of load_demo
    def reset_demo(stdout) -> None     # optional; called before the units are deleted by --reset

`load_demo(stdout)` must be idempotent: check for its own data and return early when it is there, so that
running the command again (as `make run` does on every start) changes nothing. Hooks run in INSTALLED_APPS order
(campaigns before ledger); `reset_demo` hooks run in the reverse order. Each hook runs in its own transaction.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import Any, Protocol

from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils.module_loading import module_has_submodule

from .models import Role, Unit, UnitKind, User
from .services import unit_create, user_create
from .validators import USCC_ALPHABET, uscc_check_char


class Writer(Protocol):
    def write(self, msg: str = "", style_func: Callable[[str], str] | None = None, ending: str | None = None) -> None:
        ...


# --- 统一社会信用代码 for the demo -------------------------------------------------------------------------------
# A fictional administrative division code: "99" is no province, so no demo code can belong to a real body.
DEMO_REGION = "990101"

# 登记管理部门 + 机构类别 (GB 32100-2015): 11 机关, 12 事业单位, 13 群众团体, 54 基层群众性自治组织 (村/居委会),
# 91 企业.
_REGISTRATION = {
    UnitKind.PARTY: "11",
    UnitKind.GOVERNMENT: "11",
    UnitKind.TOWNSHIP: "11",
    UnitKind.OTHER: "11",
    UnitKind.INSTITUTION: "12",
    UnitKind.MASS_ORGANIZATION: "13",
    UnitKind.STATE_ENTERPRISE: "91",
}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code_check(body8: str) -> str:
    """The check character of a 9-character 组织机构代码 (GB 11714-1997)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def demo_uscc(*, registration: str, name: str) -> str:
    """A deterministic, well-formed 18-character code for a demo unit, derived from its full name."""
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    if registration == "91":
        # Codes issued to companies since 2015 read like "MA" followed by letters and digits.
        tail = ""
        for _ in range(6):
            digest, idx = divmod(digest, len(USCC_ALPHABET))
            tail += USCC_ALPHABET[idx]
        body = "MA" + tail
    else:
        body = f"{digest % 10**8:08d}"
    first17 = registration + DEMO_REGION + body + _org_code_check(body)
    check = uscc_check_char(first17)
    assert check is not None  # every character above is in the alphabet
    return first17 + check


# --- The tree -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoUnit:
    name: str
    short_name: str
    kind: str
    kind_label: str
    children: tuple[DemoUnit, ...] = ()
    registration: str = ""  # overrides the registration prefix derived from the kind

    @property
    def code(self) -> str:
        return demo_uscc(registration=self.registration or _REGISTRATION[UnitKind(self.kind)], name=self.name)


def _u(name: str, short: str, kind: str, label: str, *children: DemoUnit, registration: str = "") -> DemoUnit:
    return DemoUnit(name, short, kind, label, tuple(children), registration)


def _party(name: str, short: str, label: str = "县委工作机关", *children: DemoUnit) -> DemoUnit:
    return _u(name, short, UnitKind.PARTY, label, *children)


def _gov(name: str, short: str, label: str = "县政府工作部门", *children: DemoUnit) -> DemoUnit:
    return _u(name, short, UnitKind.GOVERNMENT, label, *children)


def _inst(name: str, short: str, label: str) -> DemoUnit:
    return _u(name, short, UnitKind.INSTITUTION, label)


def _township(
    name: str, short: str, label: str, sections: Sequence[str], places: Sequence[str], *, street: bool
) -> DemoUnit:
    """A 乡镇 or 街道 with its 内设机构 (科室) and its 村 or 社区."""
    section_label = "街道内设机构" if street else "乡镇内设机构"
    place_label = "社区居民委员会" if street else "村民委员会"
    place_suffix = "居民委员会" if street else "村民委员会"
    children = [
        _u(f"{short}{s}", f"{short}{s.removesuffix('公室')}", UnitKind.TOWNSHIP, section_label) for s in sections
    ]
    children += [
        _u(f"{short}{p}{place_suffix}", p, UnitKind.TOWNSHIP, place_label, registration="54") for p in places
    ]
    return _u(name, short, UnitKind.TOWNSHIP, label, *children)


_STREET_SECTIONS = ("党政办公室", "经济发展办公室", "社会事务办公室")
_TOWN_SECTIONS = ("党政综合办公室", "经济发展办公室", "社会事务办公室")

ROOT = _u(
    "示范县",
    "示范县",
    UnitKind.OTHER,
    "县级",
    _party(
        "中共示范县委员会",
        "县委",
        "县委",
        _party("中共示范县委办公室", "县委办"),
        _party("中共示范县纪律检查委员会 示范县监察委员会", "县纪委监委", "纪检监察机关"),
        _party("中共示范县委组织部", "县委组织部"),
        _party(
            "中共示范县委宣传部",
            "县委宣传部",
            "县委工作机关",
            _inst("示范县融媒体中心", "县融媒体中心", "部门所属事业单位"),
        ),
        _party("中共示范县委统一战线工作部", "县委统战部"),
        _party("中共示范县委政法委员会", "县委政法委"),
        _party("中共示范县委机构编制委员会办公室", "县委编办"),
        _party("中共示范县委巡察工作领导小组办公室", "县委巡察办"),
        _party("示范县作风建设工作领导小组办公室", "县作风办", "县委议事协调机构办事机构"),
        _inst("中共示范县委党校", "县委党校", "参公事业单位"),
    ),
    _gov(
        "示范县人民政府",
        "县政府",
        "县政府",
        _gov("示范县人民政府办公室", "县政府办"),
        _gov("示范县发展和改革局", "县发改局"),
        _gov(
            "示范县教育体育局",
            "县教体局",
            "县政府工作部门",
            _inst("示范县第一高级中学", "县一中", "局属事业单位"),
            _inst("示范县实验小学", "县实验小学", "局属事业单位"),
            _inst("示范县城关第一幼儿园", "城关一幼", "局属事业单位"),
        ),
        _gov("示范县公安局", "县公安局"),
        _gov("示范县民政局", "县民政局"),
        _gov("示范县司法局", "县司法局"),
        _gov(
            "示范县财政局",
            "县财政局",
            "县政府工作部门",
            _inst("示范县国库集中支付中心", "县国库支付中心", "二级单位"),
        ),
        _gov("示范县人力资源和社会保障局", "县人社局"),
        _gov("示范县自然资源局", "县自然资源局"),
        _gov("示范县住房和城乡建设局", "县住建局"),
        _gov("示范县交通运输局", "县交通运输局"),
        _gov("示范县水利局", "县水利局"),
        _gov(
            "示范县农业农村局",
            "县农业农村局",
            "县政府工作部门",
            _inst("示范县农业技术推广中心", "县农技中心", "二级单位"),
        ),
        _gov("示范县文化广电和旅游局", "县文广旅局"),
        _gov(
            "示范县卫生健康委员会",
            "县卫健委",
            "县政府工作部门",
            _inst("示范县人民医院", "县人民医院", "委属事业单位"),
            _inst("示范县中医医院", "县中医院", "委属事业单位"),
            _inst("示范县疾病预防控制中心", "县疾控中心", "委属事业单位"),
        ),
        _gov("示范县退役军人事务局", "县退役军人局"),
        _gov("示范县应急管理局", "县应急局"),
        _gov("示范县审计局", "县审计局"),
        _gov("示范县市场监督管理局", "县市场监管局"),
        _gov("示范县统计局", "县统计局", "县政府直属机构"),
        _gov("示范县医疗保障局", "县医保局", "县政府直属机构"),
        _gov("示范县信访局", "县信访局", "县政府直属机构"),
        _gov("示范县政务服务和大数据管理局", "县政务服务局", "县政府直属机构"),
    ),
    _u("示范县人大常委会机关", "县人大常委会", UnitKind.OTHER, "人大机关"),
    _u("政协示范县委员会机关", "县政协", UnitKind.OTHER, "政协机关"),
    _u("示范县人民法院", "县法院", UnitKind.OTHER, "审判机关"),
    _u("示范县人民检察院", "县检察院", UnitKind.OTHER, "检察机关"),
    _inst("示范县档案馆", "县档案馆", "县直事业单位"),
    _inst("示范县公共资源交易中心", "县公共资源交易中心", "县直事业单位"),
    _inst("示范县城市管理综合执法大队", "县城管执法大队", "参公事业单位"),
    _u(
        "示范县城市建设投资集团有限公司",
        "县城投集团",
        UnitKind.STATE_ENTERPRISE,
        "县属国有企业",
        _u("示范县水务有限公司", "县水务公司", UnitKind.STATE_ENTERPRISE, "二级子公司"),
        _u("示范县城投置业有限公司", "城投置业", UnitKind.STATE_ENTERPRISE, "二级子公司"),
    ),
    _u("示范县交通投资有限公司", "县交投公司", UnitKind.STATE_ENTERPRISE, "县属国有企业"),
    _u("示范县农业发展投资有限公司", "县农投公司", UnitKind.STATE_ENTERPRISE, "县属国有企业"),
    _u("示范县总工会", "县总工会", UnitKind.MASS_ORGANIZATION, "群团组织"),
    _u("共青团示范县委员会", "团县委", UnitKind.MASS_ORGANIZATION, "群团组织"),
    _u("示范县妇女联合会", "县妇联", UnitKind.MASS_ORGANIZATION, "群团组织"),
    _u("示范县科学技术协会", "县科协", UnitKind.MASS_ORGANIZATION, "群团组织"),
    _u("示范县工商业联合会", "县工商联", UnitKind.MASS_ORGANIZATION, "群团组织"),
    _u("示范县残疾人联合会", "县残联", UnitKind.MASS_ORGANIZATION, "群团组织"),
    _township(
        "示范县城关街道办事处", "城关街道", "街道", _STREET_SECTIONS,
        ("和平社区", "建设社区", "文昌社区", "城南社区"), street=True,
    ),
    _township(
        "示范县东城街道办事处", "东城街道", "街道", _STREET_SECTIONS,
        ("东关社区", "新华社区", "迎宾社区"), street=True,
    ),
    _township(
        "示范县青石镇人民政府", "青石镇", "镇", _TOWN_SECTIONS,
        ("青石村", "石桥村", "柳林村", "河西村"), street=False,
    ),
    _township(
        "示范县柳河镇人民政府", "柳河镇", "镇", _TOWN_SECTIONS,
        ("柳河村", "王庄村", "高家村"), street=False,
    ),
    _township(
        "示范县红旗镇人民政府", "红旗镇", "镇", _TOWN_SECTIONS,
        ("红旗村", "前进村", "新民村"), street=False,
    ),
    _township(
        "示范县白云乡人民政府", "白云乡", "乡", _TOWN_SECTIONS,
        ("白云村", "松树村", "杨家坪村"), street=False,
    ),
)
ROOT_CODE = ROOT.code


def iter_tree(node: DemoUnit = ROOT) -> Iterable[DemoUnit]:
    yield node
    for child in node.children:
        yield from iter_tree(child)


# --- Accounts -------------------------------------------------------------------------------------------------
# One password for every demo account: easy to type in a demonstration, and it passes the password validators.
DEMO_PASSWORD = "Demo@2025"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    unit: str  # full name of a demo unit
    roles: tuple[str, ...]
    overseen: tuple[str, ...] = field(default=())
    phone: str = ""
    email: str = ""
    password: str = DEMO_PASSWORD


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "admin", "赵磊", "示范县政务服务和大数据管理局", (Role.ADMIN,), phone="13800000001", email="admin@demo.invalid"
    ),
    DemoAccount(
        "office", "孙丽", "示范县作风建设工作领导小组办公室", (Role.OFFICE,), phone="13800000002",
        email="office@demo.invalid",
    ),
    DemoAccount("liaison", "李娜", "示范县教育体育局", (Role.LIAISON,), phone="13800000003"),
    DemoAccount("liaison2", "周强", "示范县财政局", (Role.LIAISON,), phone="13800000004"),
    DemoAccount(
        "leader", "王建国", "示范县人民政府办公室", (Role.LEADER,),
        overseen=("示范县教育体育局", "示范县卫生健康委员会", "示范县城关街道办事处"), phone="13800000005",
    ),
)


# --- Loading --------------------------------------------------------------------------------------------------
def demo_root() -> Unit | None:
    return Unit.objects.filter(code=ROOT_CODE).first()


def demo_loaded() -> bool:
    return Unit.objects.filter(code=ROOT_CODE).exists()


def _create_tree(node: DemoUnit, parent: Unit | None, sort_order: int) -> int:
    unit = unit_create(
        by=None, code=node.code, name=node.name, short_name=node.short_name, kind=node.kind,
        kind_label=node.kind_label, parent=parent, sort_order=sort_order,
    )
    created = 1
    for i, child in enumerate(node.children, start=1):
        created += _create_tree(child, unit, i * 10)
    return created


def _check_accounts_free() -> None:
    taken = sorted(User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]).values_list(
        "username", flat=True
    ))
    if taken:
        raise ValidationError(
            f"登录名 {'、'.join(taken)} 已被其他账号占用，无法创建示范账号。请先停用或改名这些账号。"
        )


@transaction.atomic
def load_units_and_accounts(stdout: Writer) -> bool:
    """Build the demo tree and accounts; False (and no change) if they are already there."""
    if demo_loaded():
        stdout.write("示范县已加载，未做改动（如需重建：python manage.py load_demo --reset）。")
        return False
    _check_accounts_free()
    count = _create_tree(ROOT, None, _next_root_sort_order())
    by_name = {u.name: u for u in Unit.objects.filter(code__in=[n.code for n in iter_tree()])}
    for account in DEMO_ACCOUNTS:
        probe = User(username=account.username, full_name=account.full_name, email=account.email)
        validate_password(account.password, probe)
        user_create(
            by=None, username=account.username, full_name=account.full_name, unit=by_name[account.unit],
            roles=account.roles, phone=account.phone, email=account.email,
            overseen_units=[by_name[n] for n in account.overseen], password=account.password,
        )
    stdout.write(f"已创建示范县：{count} 个单位，{len(DEMO_ACCOUNTS)} 个示范账号。")
    return True


def _next_root_sort_order() -> int:
    top = Unit.objects.filter(parent__isnull=True).aggregate(m=Max("sort_order"))["m"]
    return 0 if top is None else top + 10


def demo_modules() -> list[ModuleType]:
    """The `demo` modules of installed apps other than units, in INSTALLED_APPS order."""
    found = []
    for config in apps.get_app_configs():
        if config.name == "units" or not module_has_submodule(config.module, "demo"):
            continue
        module = import_module(f"{config.name}.demo")
        if callable(getattr(module, "load_demo", None)):
            found.append(module)
    return found


def load_demo(stdout: Writer) -> bool:
    """Units and accounts first, then every other app's hook. True if the units were created by this call."""
    created = load_units_and_accounts(stdout)
    for module in demo_modules():
        with transaction.atomic():
            module.load_demo(stdout)
    return created


# --- Reset ----------------------------------------------------------------------------------------------------
@transaction.atomic
def reset_demo(stdout: Writer) -> None:
    """Delete the demo county: other apps' demo data first (their reset_demo hooks), then users, then units."""
    for module in reversed(demo_modules()):
        hook = getattr(module, "reset_demo", None)
        if callable(hook):
            hook(stdout)
    root = demo_root()
    usernames = [a.username for a in DEMO_ACCOUNTS]
    if root is None:
        users = User.objects.filter(username__in=usernames)
        removed_users = users.count()
        users.delete()
        stdout.write(f"示范县不存在；已删除 {removed_users} 个示范账号。")
        return
    subtree = Unit.objects.subtree_of(root)
    users = User.objects.filter(username__in=usernames) | User.objects.filter(unit__in=subtree)
    removed_users = users.count()
    User.objects.filter(pk__in=list(users.values_list("pk", flat=True))).delete()
    removed_units = 0
    try:
        # Parents are protected while they have children: delete the deepest level first.
        for depth in sorted(set(subtree.values_list("depth", flat=True)), reverse=True):
            deleted, _ = Unit.objects.subtree_of(root).filter(depth=depth).delete()
            removed_units += deleted
    except ProtectedError as exc:
        refs = sorted({f"{obj._meta.verbose_name}：{obj}" for obj in list(exc.protected_objects)[:5]})
        raise ValidationError(
            "示范县的单位仍被其他数据引用，无法删除（" + "；".join(refs) + "）。"
            "引用它们的应用应在其 demo.reset_demo 中先删除自己的示范数据。"
        ) from exc
    stdout.write(f"已删除示范县：{removed_units} 条记录（单位及其关联），{removed_users} 个账号。")


# --- Output ---------------------------------------------------------------------------------------------------
def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table that stays aligned with Chinese (double-width) characters."""
    widths = [max(_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True)) + " |", line]
    out += ["| " + " | ".join(_pad(str(c), w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    out.append(line)
    return "\n".join(out)


def accounts_table() -> str:
    users = {
        u.username: u
        for u in User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS])
        .select_related("unit")
        .prefetch_related("overseen_units", "role_grants")
    }
    rows: list[list[str]] = []
    for account in DEMO_ACCOUNTS:
        user: Any = users.get(account.username)
        if user is None:
            continue
        overseen = "、".join(u.display_name for u in user.overseen_units.all())
        rows.append([
            account.username, account.password, user.full_name, "、".join(user.role_labels),
            user.unit.display_name if user.unit else "", overseen or "—",
        ])
    return format_table(["登录名", "密码", "姓名", "角色", "所属单位", "分管单位"], rows)
