import pytest

from tenancies.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def responsable(world):
    return UserFactory(username="resp.a", roles=[Role.RESPONSABLE_AGENCE], agencies_list=[world["A"].agency])
