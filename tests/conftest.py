"""A small county and one named user per role and scope, shared by every test that wants them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.factories import UnitFactory, UserFactory
from units.models import Role, Unit, UnitKind, User

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
PASSWORD = "Passw0rd!"


@dataclass
class County:
    root: Unit
    office_unit: Unit
    education: Unit  # 县教育体育局
    education_school: Unit  # a child of 县教育体育局
    finance: Unit  # a sibling of 县教育体育局
    town: Unit  # a township overseen by the leader
    village: Unit


@dataclass
class People:
    admin: User
    office: User
    liaison: User  # liaison of 县教育体育局
    sibling_liaison: User  # liaison of 县财政局
    leader: User  # leader of 县财政局 who also oversees 城关街道
    outsider: User  # an account with no role


@pytest.fixture
def county(db: None) -> County:
    root = UnitFactory(code="ROOT", name="示范县", short_name="示范县", kind=UnitKind.OTHER)
    office_unit = UnitFactory(code="ZFB", name="县作风建设工作领导小组办公室", short_name="作风办", parent=root)
    education = UnitFactory(code="JTJ", name="县教育体育局", short_name="教体局", parent=root)
    school = UnitFactory(
        code="YZ", name="县第一高级中学", short_name="一中", parent=education, kind=UnitKind.INSTITUTION
    )
    finance = UnitFactory(code="CZJ", name="县财政局", short_name="财政局", parent=root)
    town = UnitFactory(code="CGJD", name="城关街道", short_name="城关街道", parent=root, kind=UnitKind.TOWNSHIP)
    village = UnitFactory(
        code="HPSQ", name="和平社区居委会", short_name="和平社区", parent=town, kind=UnitKind.TOWNSHIP
    )
    return County(root, office_unit, education, school, finance, town, village)


@pytest.fixture
def people(county: County) -> People:
    return People(
        admin=UserFactory(username="admin1", full_name="管理员", unit=county.office_unit, roles=[Role.ADMIN]),
        office=UserFactory(username="office1", full_name="作风办干部", unit=county.office_unit, roles=[Role.OFFICE]),
        liaison=UserFactory(username="liaison1", full_name="教体局联络员", unit=county.education, roles=[Role.LIAISON]),
        sibling_liaison=UserFactory(
            username="liaison2", full_name="财政局联络员", unit=county.finance, roles=[Role.LIAISON]
        ),
        leader=UserFactory(
            username="leader1", full_name="分管领导", unit=county.finance, roles=[Role.LEADER], overseen=[county.town]
        ),
        outsider=UserFactory(username="outsider", full_name="无角色用户", unit=county.village, roles=[]),
    )


@pytest.fixture
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _media_root(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Uploaded files (imports, evidence) of each test go to its own temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
