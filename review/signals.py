"""At login, the reviewer's saved display preference goes into their session, so every page
can apply it without a query."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from review.models import ReviewerPreference


@receiver(user_logged_in, dispatch_uid="review.preference_to_session")
def preference_to_session(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    text_size = (
        ReviewerPreference.objects.filter(user=user).values_list("text_size", flat=True).first()
    )
    if text_size:
        request.session["text_size"] = text_size
