"""factory_boy factories for the stock and the tenancy."""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from tenancies import models


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.Sequence(lambda n: f"Agence {n}")


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Commune
        django_get_or_create = ("insee_code",)

    insee_code = factory.Sequence(lambda n: f"{78000 + n}")
    name = factory.Sequence(lambda n: f"Commune {n}")
    postcode = "78200"
    ceiling_zone = models.CeilingZone.ILE_DE_FRANCE
    apl_zone = models.AplZone.II


class EstateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Estate

    agency = factory.SubFactory(AgencyFactory)
    code = factory.Sequence(lambda n: f"RES{n:03d}")
    name = factory.Sequence(lambda n: f"Résidence {n}")
    commune = factory.SubFactory(CommuneFactory)


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Building

    estate = factory.SubFactory(EstateFactory)
    name = factory.Sequence(lambda n: f"Bâtiment {n}")
    address = factory.Sequence(lambda n: f"{n} rue des Lilas")
    floors = 4


class DwellingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Dwelling

    building = factory.SubFactory(BuildingFactory)
    reference = factory.Sequence(lambda n: f"LGT-{n:05d}")
    typology = models.Typology.T3
    floor = 2
    living_area = Decimal("65.00")
    financing = models.Financing.PLUS
    max_rent_per_m2 = Decimal("6.50")
    rent = Decimal("412.50")
    status = models.DwellingStatus.VACANT


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Household

    agency = factory.SubFactory(AgencyFactory)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Person

    household = factory.SubFactory(HouseholdFactory)
    civility = models.Civility.MADAME
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    first_name = "Claire"
    birth_date = date(1980, 5, 17)
    role = models.PersonRole.TITULAIRE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Camille"
    last_name = "Agent"
    password = factory.PostGenerationMethodCall("set_password", "Mot-de-passe-test-2026")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=role))

    @factory.post_generation
    def agencies_list(self, create, extracted, **kwargs):
        for agency in extracted or []:
            self.agencies.add(agency)
        self.save()
