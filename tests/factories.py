import functools
from datetime import timedelta
from decimal import Decimal

import factory
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

# One password for every test account, hashed once per test process: PBKDF2 is slow on
# purpose (about a quarter of a second), and a test may make half a dozen accounts.
TEST_PASSWORD = "correct horse battery staple 42"


@functools.cache
def _test_password_hash() -> str:
    return make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.test")
    password = factory.LazyFunction(_test_password_hash)

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
    # Allergies typed in a test are an answer (Patient.clean); none typed: not asked yet.
    allergy_status = factory.LazyAttribute(lambda p: "listed" if p.allergies else "not_asked")
    allergies = ""


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
    return FormulaFactory(name=name, compounds=compounds, indication_code=indication_code)


def list_on_formulary(compound, jurisdiction, status="permitted", note=""):
    from treatments.models import FormularyRule

    return FormularyRule.objects.create(
        compound=compound, jurisdiction=jurisdiction, status=status, note=note
    )


def _treatments(model_name):
    return apps.get_model("treatments", model_name)


class CompoundLotFactory(factory.django.DjangoModelFactory):
    """A lot with a year left before it expires, counted from whatever today is.

    CompoundLotFactory(expired=True): one that expired two years ago, too old to be
    offered in the session form (it lists lots still usable a year back).
    """

    class Meta:
        model = "treatments.CompoundLot"

    class Params:
        expired = factory.Trait(
            expiry_date=factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=2 * 365))
        )

    compound = factory.SubFactory(CompoundFactory)
    lot_number = factory.Sequence(lambda n: f"LOT-{n:04d}")
    expiry_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
    # Three years before it expires: in stock for any session a test dates in the past.
    received_on = factory.LazyAttribute(lambda lot: lot.expiry_date - timedelta(days=3 * 365))


class FormulaIngredientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "treatments.FormulaIngredient"

    formula = factory.SubFactory("tests.factories.FormulaFactory", compounds=[])
    compound = factory.SubFactory(CompoundFactory)
    amount_per_ml = Decimal("1")
    unit = "mg"


class FormulaFactory(factory.django.DjangoModelFactory):
    """A mixture: FormulaFactory(compounds=[...]) puts 1 mg/mL of each in it; without
    compounds it gets one new compound."""

    class Meta:
        model = "treatments.Formula"
        skip_postgeneration_save = True

    class Params:
        indication_code = "cellulite"

    name = factory.Sequence(lambda n: f"Mixture {n}")
    indication = factory.LazyAttribute(
        lambda f: _treatments("Indication").objects.get(code=f.indication_code)
    )

    @factory.post_generation
    def compounds(self, create, extracted, **kwargs):
        if not create:
            return
        for compound in [CompoundFactory()] if extracted is None else extracted:
            FormulaIngredientFactory(formula=self, compound=compound)


class TreatmentMapFactory(factory.django.DjangoModelFactory):
    """An active map, mapped standing just now; zones come from MapZoneFactory."""

    class Meta:
        model = "treatments.TreatmentMap"

    patient = factory.SubFactory(PatientFactory)
    indication = factory.LazyFunction(
        lambda: _treatments("Indication").objects.get(code="cellulite")
    )
    location = factory.SubFactory(LocationFactory)
    mapped_standing = True
    # Mapped before the sessions of the tests (six weeks ago): a session cannot predate its map.
    mapped_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=90))
    planned_sessions = 6
    days_between = 14
    created_by = factory.SubFactory(UserFactory)


class MapZoneFactory(factory.django.DjangoModelFactory):
    """A fully planned zone: MapZoneFactory(treatment_map=m, region_code="knee_left")."""

    class Meta:
        model = "treatments.MapZone"

    class Params:
        region_code = "thigh_outer_right"

    treatment_map = factory.SubFactory(TreatmentMapFactory)
    region = factory.LazyAttribute(
        lambda z: _treatments("BodyRegion").objects.get(code=z.region_code)
    )
    needle_length_mm = Decimal("4")
    gauge = 30
    depth_mm = Decimal("4")
    technique = "nappage"
    spacing_mm = Decimal("10")
    formula = factory.SubFactory(FormulaFactory)
    planned_volume_ml = Decimal("2.5")


class TreatmentSessionFactory(factory.django.DjangoModelFactory):
    """A draft session of a map, six weeks ago, every checklist item ticked. No
    injections: make_session() records one per zone of the map, with lots."""

    class Meta:
        model = "treatments.TreatmentSession"

    treatment_map = factory.SubFactory(TreatmentMapFactory)
    patient = factory.SelfAttribute("treatment_map.patient")
    location = factory.SelfAttribute("treatment_map.location")
    practitioner = factory.SelfAttribute("treatment_map.created_by")
    performed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(weeks=6))
    check_consent_current = True
    check_contraindications_reviewed = True
    check_mapped_standing = True
    check_skin_cleansed = True
    check_patient_positioned = True
    check_single_use_needles = True
    immediate_reactions = "Mild redness"
    aftercare = "No sauna for 48 h"


class InjectionFactory(factory.django.DjangoModelFactory):
    """What went into one zone, as the zone planned it; its lots are InjectionLotFactory."""

    class Meta:
        model = "treatments.Injection"

    session = factory.SubFactory(TreatmentSessionFactory)
    map_zone = factory.SubFactory(
        MapZoneFactory, treatment_map=factory.SelfAttribute("..session.treatment_map")
    )
    region = factory.SelfAttribute("map_zone.region")
    formula = factory.SelfAttribute("map_zone.formula")
    volume_ml = factory.SelfAttribute("map_zone.planned_volume_ml")
    points = 40
    depth_mm = factory.SelfAttribute("map_zone.depth_mm")
    needle_length_mm = factory.SelfAttribute("map_zone.needle_length_mm")
    gauge = factory.SelfAttribute("map_zone.gauge")
    technique = factory.SelfAttribute("map_zone.technique")
    region_label = factory.SelfAttribute("region.label")
    formula_name = factory.SelfAttribute("formula.name")


class InjectionLotFactory(factory.django.DjangoModelFactory):
    """The lot used for one compound of an injection, with the snapshot the record keeps."""

    class Meta:
        model = "treatments.InjectionLot"

    injection = factory.SubFactory(InjectionFactory)
    lot = factory.SubFactory(CompoundLotFactory)
    compound = factory.SelfAttribute("lot.compound")
    compound_name = factory.SelfAttribute("lot.compound.name")
    lot_number = factory.SelfAttribute("lot.lot_number")
    lot_expiry = factory.SelfAttribute("lot.expiry_date")
    amount_per_ml = factory.LazyAttribute(
        lambda used: used.injection.formula.ingredients.get(compound=used.compound).amount_per_ml
    )
    amount_unit = factory.LazyAttribute(
        lambda used: used.injection.formula.ingredients.get(compound=used.compound).unit
    )


def make_session(treatment_map, *, lots=None, **fields):
    """A draft session of this map: one injection per planned zone, and for each compound
    of its formula the lot in `lots` (by compound name), else a new usable lot."""
    lots = lots or {}
    session = TreatmentSessionFactory(treatment_map=treatment_map, **fields)
    zones = treatment_map.zones.exclude(formula=None).select_related("region", "formula")
    for zone in zones:
        injection = InjectionFactory(session=session, map_zone=zone)
        for ingredient in zone.formula.ingredients.select_related("compound"):
            compound = ingredient.compound
            lot = lots.get(compound.name) or CompoundLotFactory(compound=compound)
            InjectionLotFactory(injection=injection, lot=lot)
    return session


def make_amended_session(treatment_map, practitioner):
    """A signed session of this map with one amendment, through add_amendment (its PDF
    a stand-in: drawing real ones is left to the tests of the amended summary)."""
    from treatments.models import TreatmentSession
    from treatments.services.sessions import add_amendment

    session = make_session(treatment_map, practitioner=practitioner)
    # The draft -> signed UPDATE, as sign_session makes it (minus the PDF).
    TreatmentSession.objects.filter(pk=session.pk).update(
        status=TreatmentSession.Status.SIGNED, signed_at=timezone.now(), signed_by=practitioner
    )
    session.refresh_from_db()
    add_amendment(
        session=session,
        author=practitioner,
        reason="Wrong depth recorded",
        text="Depth was 3 mm.",
        render_pdf=lambda session, amendments: b"%PDF-1.7 as amended",
    )
    return session


def _clean_test_image():
    from patients.images import clean_image
    from tests.uploads import upload

    return clean_image(upload())


def make_scanned_consent(
    patient, recorded_by, *, template=None, kind="photography", signed_on=None
):
    """A consent signed today (or on `signed_on`), its signature a scanned image (through
    clean_image)."""
    from patients.models import Consent

    image = _clean_test_image()
    consent = Consent(
        patient=patient,
        template=template or ConsentTemplateFactory(kind=kind),
        signed_on=signed_on or timezone.localdate(),
        signed_by=patient.full_name,
        method=Consent.Method.SCAN,
        recorded_by=recorded_by,
    )
    consent.signature.save(image.content.name, image.content, save=False)
    consent.save()
    return consent


def make_photo(patient, uploaded_by, *, days_ago=1, phase="before", region="Right thigh"):
    """A front-view photo taken `days_ago`, stored as an upload would be (with thumbnail)."""
    from patients.models import Photo

    image = _clean_test_image()
    photo = Photo(
        patient=patient,
        taken_at=timezone.now() - timedelta(days=days_ago),
        region=region,
        view=Photo.View.FRONT,
        phase=phase,
        uploaded_by=uploaded_by,
        sha256=image.sha256,
    )
    photo.image.save(image.content.name, image.content, save=False)
    photo.thumbnail.save(image.thumbnail.name, image.thumbnail, save=False)
    photo.save()
    return photo


def copy_sessions(template, count: int, *, start, step, signed: bool = True) -> list:
    """`count` copies of a session (its injections and lots too) at start, start + step, ...

    For long histories: bulk inserts, a few queries however many copies (factories take
    seconds per hundred). Written as drafts, then signed in one UPDATE as sign_session
    does (the PDF aside), since a signed session's injections are frozen.
    """
    from treatments.models import Injection, InjectionLot, TreatmentSession

    def copy(instance, **fields):
        values = {
            f.attname: getattr(instance, f.attname)
            for f in instance._meta.concrete_fields
            if not f.primary_key
        }
        return type(instance)(**(values | fields))

    injections = list(template.injections.all())
    lots = {i.pk: list(i.lots.all()) for i in injections}
    sessions = TreatmentSession.objects.bulk_create(
        copy(template, performed_at=start + n * step, status=TreatmentSession.Status.DRAFT)
        for n in range(count)
    )
    copies = Injection.objects.bulk_create(
        copy(injection, session_id=session.pk) for session in sessions for injection in injections
    )
    originals = injections * len(sessions)
    InjectionLot.objects.bulk_create(
        copy(used, injection_id=made.pk)
        for made, original in zip(copies, originals, strict=True)
        for used in lots[original.pk]
    )
    if signed:
        ids = [session.pk for session in sessions]
        TreatmentSession.objects.filter(pk__in=ids).update(
            status=TreatmentSession.Status.SIGNED,
            signed_at=timezone.now(),
            signed_by_id=template.practitioner_id,
        )
    return sessions
