import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from review.models import Report

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ReviewerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"reviewer{n}")

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(Group.objects.get(name="reviewer"))


class CoordinatorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"coordinator{n}")
    is_staff = True

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(Group.objects.get(name="coordinator"))


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    source = Report.Source.REAL
    language = "fr"
    text = factory.Sequence(
        lambda n: f"Motif d'hospitalisation : bilan n°{n}.\n\nConclusion : patient stable, sortie."
    )


class SyntheticReportFactory(ReportFactory):
    source = Report.Source.SYNTHETIC
    provenance = factory.Sequence(
        lambda n: {
            "kind": "generation",
            "batch": "7",
            "model": "mistral-large-latest",
            "prompt_version": "fr-v1",
            "guideline": "oncology-fr@1",
        }
    )
