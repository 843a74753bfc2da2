"""Margin, scale and domains are locked once a study has submitted ratings: the settings
service refuses, and the admin asks for a reason and writes it to the audit trail."""

import pytest
from django.contrib.admin.sites import site
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.utils.translation import override

from review import services
from review.admin import DomainInline, StudyAdminForm
from review.exceptions import Conflict
from review.models import AuditEvent, Domain, Study
from tests.review.rated_study import rated_study


@pytest.fixture
def rated(coordinator, reviewers):
    return rated_study(coordinator=coordinator, reviewers=reviewers, n_real=2, n_synthetic=2)


def _form(study: Study, **changes) -> StudyAdminForm:
    data = {key: value for key, value in model_to_dict(study).items() if value is not None}
    data.update(changes)
    return StudyAdminForm(data=data, instance=study)


def test_settings_service_refuses_a_new_margin_once_ratings_are_submitted(rated):
    assert services.study_settings_locked(study=rated) is True
    with pytest.raises(Conflict) as caught:
        services.study_update_settings(study=rated, noninferiority_margin=0.5)
    assert caught.value.code == "settings_locked"
    rated.refresh_from_db()
    assert rated.noninferiority_margin == 1.0
    # The same margin again, or another field, is not a change of a locked setting.
    services.study_update_settings(study=rated, noninferiority_margin=1.0, name="Renamed")
    rated.refresh_from_db()
    assert rated.name == "Renamed"


def test_a_draft_study_is_not_locked(coordinator):
    study = services.study_create(name="Draft", created_by=coordinator)
    assert services.study_settings_locked(study=study) is False
    services.study_update_settings(study=study, noninferiority_margin=0.5)
    assert Study.objects.get(pk=study.pk).noninferiority_margin == 0.5


@override("en")
def test_admin_form_needs_a_reason_to_change_a_locked_setting(rated):
    form = _form(rated, noninferiority_margin=0.5)
    assert not form.is_valid()
    assert form.non_field_errors() == [
        "Ratings have been submitted: give a reason to change noninferiority_margin."
    ]
    # A scale the submitted scores (all 7) do not fit in is refused, reason or not.
    form = _form(rated, scale_min=8, scale_max=10, change_reason="protocol amendment 2")
    assert not form.is_valid()
    assert form.non_field_errors() == ["Some submitted scores lie outside 8–10."]


def test_admin_change_with_a_reason_is_written_to_the_audit_trail(rated, coordinator):
    form = _form(rated, noninferiority_margin=0.5, change_reason=" protocol amendment 2 ")
    assert form.is_valid(), form.errors
    request = RequestFactory().post("/admin/")
    request.user = coordinator
    site._registry[Study].save_model(request, form.save(commit=False), form, change=True)
    rated.refresh_from_db()
    assert rated.noninferiority_margin == 0.5
    event = AuditEvent.objects.get(action="study.locked_settings_change")
    assert event.actor == coordinator
    assert event.study == rated
    assert event.details == {
        "reason": "protocol amendment 2",
        "changes": {"noninferiority_margin": [1.0, 0.5]},
    }


def test_admin_domains_are_read_only_once_locked(rated, coordinator):
    inline = DomainInline(Study, site)
    request = RequestFactory().get("/admin/")
    request.user = coordinator
    assert Domain.objects.filter(study=rated).exists()
    assert inline.has_change_permission(request, rated) is False
    assert inline.has_add_permission(request, rated) is False
    assert inline.has_delete_permission(request, rated) is False
    draft = services.study_create(name="Draft", created_by=coordinator)
    assert inline.has_change_permission(request, draft) is True
