"""What roster files call things: header aliases, unit kinds and role names as offices write them.

Extend these tables when a new office's roster brings a new wording; nothing else needs to change.
Header matching ignores spaces, asterisks, brackets and a trailing colon, so list each wording once.
"""

from __future__ import annotations

from core.xlsx import Column
from units.models import Role, UnitKind

# 单位名册 ---------------------------------------------------------------------------------------------------
UNIT_COLUMNS: tuple[Column, ...] = (
    Column(
        "code", "单位编码",
        ("统一社会信用代码", "机构代码", "组织机构代码", "单位代码", "社会信用代码", "信用代码", "编码", "代码"),
        required=True,
    ),
    Column("name", "单位名称", ("机构名称", "单位全称", "机构全称", "全称", "名称", "单位详细名称"), required=True),
    Column("short_name", "单位简称", ("简称", "机构简称")),
    Column(
        "kind", "单位类型",
        ("单位性质", "机构类别", "机构类型", "机构性质", "单位类别", "类型", "类别", "单位基本性质"),
    ),
    Column(
        "parent", "上级单位",
        (
            "上级单位编码", "上级单位代码", "上级单位名称", "上级编码", "主管单位", "主管单位编码", "主管部门",
            "上级机构", "上级机构代码", "上级机构名称", "上级部门", "隶属单位", "隶属关系", "隶属部门", "所属上级",
            "上级主管单位", "上级主管部门", "归口管理单位", "举办单位", "行政主管部门", "单位隶属",
        ),
    ),
    Column("sort_order", "排序号", ("排序", "顺序号", "显示顺序", "排列顺序")),
)

# Roster wording of a unit's kind → UnitKind. Exact words first (after removing spaces and brackets) …
UNIT_KIND_WORDS: dict[str, UnitKind] = {
    "县委工作机关": UnitKind.PARTY,
    "党委工作机关": UnitKind.PARTY,
    "党委工作部门": UnitKind.PARTY,
    "党的工作机关": UnitKind.PARTY,
    "县委部门": UnitKind.PARTY,
    "党委办事机构": UnitKind.PARTY,
    "纪检监察机关": UnitKind.PARTY,
    "县政府工作部门": UnitKind.GOVERNMENT,
    "政府工作部门": UnitKind.GOVERNMENT,
    "政府组成部门": UnitKind.GOVERNMENT,
    "政府直属机构": UnitKind.GOVERNMENT,
    "行政机关": UnitKind.GOVERNMENT,
    "乡镇": UnitKind.TOWNSHIP,
    "街道": UnitKind.TOWNSHIP,
    "乡镇街道": UnitKind.TOWNSHIP,
    "乡": UnitKind.TOWNSHIP,
    "镇": UnitKind.TOWNSHIP,
    "事业单位": UnitKind.INSTITUTION,
    "二级单位": UnitKind.INSTITUTION,
    "参公单位": UnitKind.INSTITUTION,
    "参照公务员法管理事业单位": UnitKind.INSTITUTION,
    "国企": UnitKind.STATE_ENTERPRISE,
    "国有企业": UnitKind.STATE_ENTERPRISE,
    "县属国企": UnitKind.STATE_ENTERPRISE,
    "群团": UnitKind.MASS_ORGANIZATION,
    "群团组织": UnitKind.MASS_ORGANIZATION,
    "人民团体": UnitKind.MASS_ORGANIZATION,
    "群众团体": UnitKind.MASS_ORGANIZATION,
    # Not a state enterprise although the word holds 企业; and the units a county roster lists without a kind.
    "民办非企业单位": UnitKind.OTHER,
    "社会组织": UnitKind.OTHER,
    "垂直管理部门": UnitKind.OTHER,
    "垂直管理单位": UnitKind.OTHER,
    "驻县单位": UnitKind.OTHER,
    "中央驻县单位": UnitKind.OTHER,
    "省直驻县单位": UnitKind.OTHER,
    "派出机构": UnitKind.OTHER,
}
# … then the first of these fragments the word contains; anything else is 其他.
UNIT_KIND_FRAGMENTS: tuple[tuple[str, UnitKind], ...] = (
    ("事业", UnitKind.INSTITUTION),
    ("参公", UnitKind.INSTITUTION),
    ("二级", UnitKind.INSTITUTION),
    ("企业", UnitKind.STATE_ENTERPRISE),
    ("国企", UnitKind.STATE_ENTERPRISE),
    ("公司", UnitKind.STATE_ENTERPRISE),
    ("群团", UnitKind.MASS_ORGANIZATION),
    ("团体", UnitKind.MASS_ORGANIZATION),
    ("乡镇", UnitKind.TOWNSHIP),
    ("街道", UnitKind.TOWNSHIP),
    ("党", UnitKind.PARTY),
    ("县委", UnitKind.PARTY),
    ("政府", UnitKind.GOVERNMENT),
    ("行政", UnitKind.GOVERNMENT),
)

# 人员名册 ---------------------------------------------------------------------------------------------------
USER_COLUMNS: tuple[Column, ...] = (
    Column("full_name", "姓名", ("人员姓名", "用户姓名", "真实姓名", "联络员姓名", "名字"), required=True),
    Column("phone", "手机号",
        ("手机", "手机号码", "移动电话", "联系手机", "联系电话", "电话", "联系方式", "手机号码登录名"),
    ),
    Column(
        "email", "邮箱",
        ("电子邮箱", "电子邮件", "邮件", "email", "e-mail", "邮箱地址", "电子信箱", "mail", "个人邮箱"),
    ),
    Column(
        "unit", "所属单位",
        (
            "所属单位编码", "所属单位名称", "所在单位", "工作单位", "单位", "单位编码", "单位代码", "单位名称",
            "所在部门", "工作部门", "部门", "单位部门", "任职单位", "所属部门",
        ),
        required=True,
    ),
    Column("roles", "角色", ("用户角色", "系统角色", "角色类型"), required=True),
    Column("overseen", "分管单位", ("分管单位编码", "分管单位名称", "分管部门")),
)

# Role wording → Role; the codes themselves (admin, office, …) and the labels are accepted too.
ROLE_WORDS: dict[str, Role] = {
    "管理员": Role.ADMIN,
    "系统管理员": Role.ADMIN,
    "作风办": Role.OFFICE,
    "作风办干部": Role.OFFICE,
    "作风建设办": Role.OFFICE,
    "作风建设工作领导小组办公室": Role.OFFICE,
    "联络员": Role.LIAISON,
    "部门联络员": Role.LIAISON,
    "单位联络员": Role.LIAISON,
    "领导": Role.LEADER,
    "分管领导": Role.LEADER,
    "县领导": Role.LEADER,
}
