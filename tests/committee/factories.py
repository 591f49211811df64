"""Committee test data: applications built by setting their denormalised columns directly (the
applications services of 4A keep them right in production)."""

from datetime import date
from decimal import Decimal

import factory

from applications.models import Application, ApplicationPerson, ApplicationStatus, HousingSituation, Relationship


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application
        skip_postgeneration_save = True

    local_number = factory.Sequence(lambda n: f"L-TEST-{n:06d}")
    status = ApplicationStatus.ACTIVE
    first_registered_on = factory.Sequence(lambda n: date(2022, 1, 1).replace(day=1 + n % 28))
    expires_on = date(2027, 6, 1)
    housing_situation = HousingSituation.HOSTED
    household_size = 3
    category = 3
    reference_income = Decimal("30000.00")
    monthly_income = Decimal("1600.00")
    score = 100

    @factory.post_generation
    def people(self, create, extracted, **kwargs):
        """people=[(relationship, birth_date), ...]; default: a couple and a child of 8."""
        rows = extracted
        if rows is None:
            rows = [
                (Relationship.APPLICANT, date(1988, 4, 2)),
                (Relationship.SPOUSE, date(1990, 9, 14)),
                (Relationship.CHILD, date(2018, 1, 20)),
            ][: self.household_size]
        for i, (relationship, birth) in enumerate(rows):
            ApplicationPerson.objects.create(
                application=self,
                relationship=relationship,
                last_name=f"Canari{self.local_number[-4:]}",
                first_name=f"Prénom{i}",
                birth_date=birth,
                dependant=relationship == Relationship.CHILD,
                phone="06 99 88 77 66",
                email=f"canari{self.pk}-{i}@example.fr",
                position=i,
            )
