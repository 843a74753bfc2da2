"""Who may reach what: the wrong role gets 403 on pages and the API; roles are read in one
query with ModelBackend's rules."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.authtoken.models import Token

from review import permissions
from review.models import Assignment, Rating
from tests.factories import PASSWORD, CoordinatorFactory, ReviewerFactory, UserFactory

COORDINATOR_PAGES = [
    ("review:study_list", []),
    ("review:study_create", []),
    ("review:report_list", []),
]


def _theirs(study, reviewer):
    return Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position").first()


@pytest.mark.parametrize(("name", "args"), COORDINATOR_PAGES)
def test_reviewer_gets_403_on_coordinator_pages(reviewer_client, open_study, name, args):
    response = reviewer_client.get(reverse(name, args=args))
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_reviewer_gets_403_on_study_detail_and_report_detail(reviewer_client, open_study):
    report = open_study.reports.first()
    assert (
        reviewer_client.get(reverse("review:study_detail", args=[open_study.pk])).status_code == 403
    )
    assert (
        reviewer_client.get(reverse("review:report_detail", args=[report.code])).status_code == 403
    )
    assert (
        reviewer_client.post(
            reverse("review:study_action", args=[open_study.pk, "close"])
        ).status_code
        == 403
    )


def test_reviewer_cannot_enter_admin(reviewer_client, reviewer):
    reviewer.is_staff = True  # even a mistakenly staff-flagged reviewer
    reviewer.save()
    response = reviewer_client.get("/admin/review/report/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_coordinator_enters_admin(coordinator_client):
    assert coordinator_client.get("/admin/review/report/").status_code == 200


def test_anonymous_sent_to_login(client, open_study):
    for url in [
        reverse("review:home"),
        reverse("review:study_list"),
        reverse("review:continue", args=[open_study.code]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_api_refused(client, open_study):
    # 401 with a challenge, as HTTP asks of a request without credentials.
    for url in ("/api/v1/me/queue/", "/api/v1/studies/"):
        response = client.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_bad_token_401_with_challenge(client, open_study):
    response = client.get("/api/v1/studies/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Invalid token."}


def test_reviewer_a_cannot_read_reviewer_b_assignment(reviewer_client, open_study, other_reviewer):
    theirs = _theirs(open_study, other_reviewer)
    assert reviewer_client.get(reverse("review:rate", args=[theirs.code])).status_code == 404
    assert reviewer_client.get(f"/api/v1/me/assignments/{theirs.code}/").status_code == 404


def test_reviewer_a_cannot_write_reviewer_b_assignment(reviewer_client, open_study, other_reviewer):
    theirs = _theirs(open_study, other_reviewer)
    responses = [
        reviewer_client.post(
            reverse("review:rate_score", args=[theirs.code, "completeness"]),
            {"score-completeness": "5"},
            HTTP_HX_REQUEST="true",
        ),
        reviewer_client.post(reverse("review:rate_comment", args=[theirs.code]), {"comment": "x"}),
        reviewer_client.post(reverse("review:rate_submit", args=[theirs.code])),
        reviewer_client.post(
            reverse("review:rate_heartbeat", args=[theirs.code]), {"active_ms": "15"}
        ),
        reviewer_client.put(
            f"/api/v1/me/assignments/{theirs.code}/ratings/",
            data={"scores": {"completeness": 5}},
            content_type="application/json",
        ),
        reviewer_client.post(f"/api/v1/me/assignments/{theirs.code}/submit/"),
    ]
    assert [r.status_code for r in responses] == [404] * 6
    assert Rating.objects.count() == 0
    theirs.refresh_from_db()
    assert (theirs.comment, theirs.active_ms, theirs.status) == ("", 0, "pending")


def test_unknown_study_continue_is_404(reviewer_client, open_study):
    assert reviewer_client.get(reverse("review:continue", args=["S-NOPE00"])).status_code == 404


def test_coordinator_without_reviewer_role_cannot_rate(coordinator_client, open_study, reviewer):
    mine = _theirs(open_study, reviewer)
    assert coordinator_client.get(reverse("review:rate", args=[mine.code])).status_code == 403


def test_login_page_logs_in(client, reviewer):
    response = client.post(reverse("login"), {"username": reviewer.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("review:home")


# --- roles: the review permissions read in one query, with ModelBackend's rules ---------


def test_roles_from_groups(db):
    reviewer, coordinator = ReviewerFactory(), CoordinatorFactory()
    assert (permissions.user_is_reviewer(reviewer), permissions.user_is_coordinator(reviewer)) == (
        True,
        False,
    )
    assert (
        permissions.user_is_reviewer(coordinator),
        permissions.user_is_coordinator(coordinator),
    ) == (False, True)


def test_roles_from_a_permission_granted_to_the_user_directly(db):
    user = UserFactory()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="review", codename="rate")
    )
    assert permissions.user_is_reviewer(user) is True
    assert permissions.user_is_coordinator(user) is False


def test_roles_of_user_without_permission_inactive_and_superuser(db):
    plain = UserFactory()
    inactive = ReviewerFactory()
    inactive.is_active = False
    superuser = get_user_model().objects.create_superuser("root", password="x")
    assert permissions.user_is_reviewer(plain) is False
    assert permissions.user_is_reviewer(inactive) is False
    assert permissions.user_is_coordinator(superuser) is True
    assert permissions.user_is_reviewer(superuser) is True


def test_roles_are_read_once_per_user_object(db, django_assert_num_queries):
    reviewer = ReviewerFactory()
    with django_assert_num_queries(1):
        assert permissions.user_is_reviewer(reviewer) is True
        assert permissions.user_is_coordinator(reviewer) is False
        assert permissions.user_is_reviewer(reviewer) is True


# --- the user and their roles in one query (issue 21) ----------------------------------


def _users_of_every_kind():
    direct = UserFactory()
    direct.user_permissions.add(
        Permission.objects.get(content_type__app_label="review", codename="coordinate")
    )
    both = ReviewerFactory()
    both.groups.add(*CoordinatorFactory().groups.all())
    superuser = get_user_model().objects.create_superuser("root", password="x")
    return [ReviewerFactory(), CoordinatorFactory(), UserFactory(), direct, both, superuser]


def _roles(user):
    return (permissions.user_is_reviewer(user), permissions.user_is_coordinator(user))


def test_backend_reads_the_same_roles_as_the_role_query(db, django_assert_num_queries):
    backend = permissions.RoleReadingModelBackend()
    expected = [
        (True, False),
        (False, True),
        (False, False),
        (False, True),
        (True, True),
        (True, True),
    ]
    for user, roles in zip(_users_of_every_kind(), expected, strict=True):
        fresh = get_user_model().objects.get(pk=user.pk)
        assert _roles(fresh) == roles
        with django_assert_num_queries(1):
            loaded = backend.get_user(user.pk)
            assert _roles(loaded) == roles
        assert (loaded.pk, loaded.username, loaded.password) == (
            user.pk,
            user.username,
            user.password,
        )


def test_backend_refuses_an_inactive_or_unknown_user(db):
    inactive = ReviewerFactory(is_active=False)
    backend = permissions.RoleReadingModelBackend()
    assert backend.get_user(inactive.pk) is None
    assert backend.get_user(inactive.pk + 1000) is None


def test_a_role_removed_is_gone_at_the_next_request(reviewer_client, reviewer, open_study):
    code = Assignment.objects.filter(study=open_study, reviewer=reviewer).first().code
    assert reviewer_client.get(reverse("review:rate", args=[code])).status_code == 200
    reviewer.groups.clear()
    assert reviewer_client.get(reverse("review:rate", args=[code])).status_code == 403


def test_token_reads_user_and_roles_in_one_query(db, django_assert_num_queries):
    authentication = permissions.RoleReadingTokenAuthentication()
    reviewer = ReviewerFactory()
    token = Token.objects.create(user=reviewer)
    with django_assert_num_queries(1):
        user, auth = authentication.authenticate_credentials(token.key)
        assert _roles(user) == (True, False)
    assert (user.pk, auth.key) == (reviewer.pk, token.key)


def test_token_of_an_inactive_user_or_unknown_is_401(client, db):
    inactive = ReviewerFactory(is_active=False)
    token = Token.objects.create(user=inactive)
    for key in (token.key, "0" * 40):
        response = client.get("/api/v1/me/queue/", HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 401
        assert response.json()["detail"] == (
            "User inactive or deleted." if key == token.key else "Invalid token."
        )
