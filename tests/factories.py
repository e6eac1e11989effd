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
