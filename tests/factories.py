"""factory_boy factories for the organisation models."""

import factory
from django.contrib.auth import get_user_model

from ecrf.models import Membership, Site, Study, StudySite
from ecrf.roles import Role

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"SITE-{n}")
    name = factory.Faker("company")
    city = factory.Faker("city")


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"STUDY-{n}")
    title = factory.Faker("sentence", nb_words=6)
    registry_number = factory.Sequence(lambda n: f"NCT{n:08d}")


class StudySiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudySite
        django_get_or_create = ["study", "site"]

    study = factory.SubFactory(StudyFactory)
    site = factory.SubFactory(SiteFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    study = factory.SubFactory(StudyFactory)
    site = factory.SubFactory(SiteFactory)
    role = Role.COORDINATOR
