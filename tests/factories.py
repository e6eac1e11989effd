import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

# One password for every test account: hashing cost is paid once per user.
TEST_PASSWORD = "correct horse battery staple 42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.test")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "patients.Patient"

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    phototype = 3
    phone = factory.Sequence(lambda n: f"514-555-{n % 10000:04d}")


class ConsentTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "patients.ConsentTemplate"

    kind = "treatment"
    title = factory.LazyAttribute(lambda t: f"{t.kind.title()} consent")
    text = "I consent to mesotherapy as explained to me, including its expected side effects."


class JurisdictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clinic.Jurisdiction"
        django_get_or_create = ["code"]

    code = "CA-QC"
    name = "Québec"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clinic.Location"

    name = factory.Sequence(lambda n: f"Clinic {n}")
    address = "1 rue Sainte-Catherine"
    jurisdiction = factory.SubFactory(JurisdictionFactory)


class CompoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "treatments.Compound"

    name = factory.Sequence(lambda n: f"Compound {n}")
    category = factory.LazyFunction(
        lambda: __import__(
            "treatments.models", fromlist=["CompoundCategory"]
        ).CompoundCategory.objects.get(code="pharmaceutical")
    )
    concentration = "20"
    unit = "mg/mL"


def make_formula(name, compounds, *, indication_code="cellulite"):
    """A formula of these compounds, 1 unit of each per mL."""
    from treatments.models import Formula, FormulaIngredient, Indication

    formula = Formula.objects.create(
        name=name, indication=Indication.objects.get(code=indication_code)
    )
    for compound in compounds:
        FormulaIngredient.objects.create(
            formula=formula, compound=compound, amount_per_ml="1", unit="mg"
        )
    return formula


def list_on_formulary(compound, jurisdiction, status="permitted", note=""):
    from treatments.models import FormularyRule

    return FormularyRule.objects.create(
        compound=compound, jurisdiction=jurisdiction, status=status, note=note
    )
