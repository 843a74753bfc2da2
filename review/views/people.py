"""People page (coordinators): invite by e-mail, deactivate, reset access; and the
set-password page the invitation links to."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from review import people
from review.exceptions import ServiceError
from review.forms import InvitationForm
from review.permissions import AuthenticatedRequest, coordinator_required


def _base_url(request: AuthenticatedRequest) -> str:
    # The links in e-mails point back at the host the coordinator is using (ALLOWED_HOSTS
    # already vouches for it).
    return request.build_absolute_uri("/")


@coordinator_required
@require_http_methods(["GET", "POST"])
def people_page(request: AuthenticatedRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation = people.user_invite(
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    full_name=form.cleaned_data["full_name"],
                    actor=request.user,
                    base_url=_base_url(request),
                )
            except ServiceError as exc:
                form.add_error("email", exc.message)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": invitation.user.email},
                )
                return redirect("review:people")
        else:
            status = 400
    return render(
        request,
        "review/people.html",
        {
            "form": form,
            "people": people.people_list(),
            "valid_days": people.invitation_valid_days(),
        },
        status=status,
    )


@coordinator_required
@require_POST
def person_action(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    try:
        if action == "deactivate":
            people.user_active_set(user=user, active=False, actor=request.user)
            messages.success(request, _("%(user)s can no longer log in.") % {"user": user})
        elif action == "activate":
            people.user_active_set(user=user, active=True, actor=request.user)
            messages.success(request, _("%(user)s can log in again.") % {"user": user})
        elif action == "reset-access":
            people.user_access_reset(user=user, actor=request.user, base_url=_base_url(request))
            messages.success(
                request,
                _("%(user)s's password no longer works; a new link was sent to %(email)s.")
                % {"user": user, "email": user.email},
            )
        else:
            return HttpResponse(_("Unknown action."), status=404)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("review:people")


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The invitation's link: choose a password, then land logged in on one's own page."""

    template_name = "registration/password_set.html"
    post_reset_login = True
    # Two backends are configured (django-axes first): name the one that logs in.
    post_reset_login_backend = "review.permissions.RoleReadingModelBackend"
    success_url = reverse_lazy("review:home")
