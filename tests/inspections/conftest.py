"""Fixtures of the move-in / move-out tests: a vacant dwelling of agency A, staff, a PNG signature."""

import base64
import io
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image

from tenancies.models import ChargeType, DwellingCharge
from tenancies.roles import Role
from tests.factories import DwellingFactory, HouseholdFactory, PersonFactory, UserFactory


def png_bytes(size=(40, 20), color=(0, 0, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(size=(1200, 900)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (120, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "TabletMaker"  # Make
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


SIGNATURE = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


@pytest.fixture
def signature():
    return SIGNATURE


@pytest.fixture
def vacant(world):
    """A vacant T2 of agency A's building (rent 420,00 €, cold-water provision 20,00 €)."""
    dwelling = DwellingFactory(
        building=world["A"].building, reference="AAA-LGT-0002", typology="T2", rent=Decimal("420.00")
    )
    DwellingCharge.objects.create(
        dwelling=dwelling, charge_type=ChargeType.objects.get(code="eau_froide"), monthly_amount=Decimal("20.00")
    )
    return dwelling


@pytest.fixture
def newcomers(world):
    household = HouseholdFactory(agency=world["A"].agency)
    PersonFactory(household=household, last_name="Nouveau", first_name="Nina", role="titulaire")
    return household


@pytest.fixture
def resp(world):
    return UserFactory(username="resp.a", roles=[Role.RESPONSABLE_AGENCE], agencies_list=[world["A"].agency])


@pytest.fixture
def resp2(world):
    return UserFactory(username="resp2.a", roles=[Role.RESPONSABLE_AGENCE], agencies_list=[world["A"].agency])


TODAY = date(2026, 11, 20)
