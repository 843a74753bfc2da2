"""Role checks read the review permissions in one query, with ModelBackend's rules."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from review import selectors
from tests.factories import CoordinatorFactory, ReviewerFactory, UserFactory


def test_roles_from_groups(db):
    reviewer, coordinator = ReviewerFactory(), CoordinatorFactory()
    assert (selectors.user_is_reviewer(reviewer), selectors.user_is_coordinator(reviewer)) == (
        True,
        False,
    )
    assert (
        selectors.user_is_reviewer(coordinator),
        selectors.user_is_coordinator(coordinator),
    ) == (False, True)


def test_roles_from_a_permission_granted_to_the_user_directly(db):
    user = UserFactory()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="review", codename="rate")
    )
    assert selectors.user_is_reviewer(user) is True
    assert selectors.user_is_coordinator(user) is False


def test_roles_of_user_without_permission_inactive_and_superuser(db):
    plain = UserFactory()
    inactive = ReviewerFactory()
    inactive.is_active = False
    superuser = get_user_model().objects.create_superuser("root", password="x")
    assert selectors.user_is_reviewer(plain) is False
    assert selectors.user_is_reviewer(inactive) is False
    assert selectors.user_is_coordinator(superuser) is True
    assert selectors.user_is_reviewer(superuser) is True


def test_roles_are_read_once_per_user_object(db, django_assert_num_queries):
    reviewer = ReviewerFactory()
    with django_assert_num_queries(1):
        assert selectors.user_is_reviewer(reviewer) is True
        assert selectors.user_is_coordinator(reviewer) is False
        assert selectors.user_is_reviewer(reviewer) is True
