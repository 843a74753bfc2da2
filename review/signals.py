"""At login, the reviewer's saved display preference goes into their session, so every page
can apply it without a query. Each SQLite connection (the demo) gets the review_fold SQL
function its report search uses."""

from django.contrib.auth.signals import user_logged_in
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from review.models import ReviewerPreference
from review.text_folding import fold


@receiver(connection_created, dispatch_uid="review.sqlite_fold_function")
def sqlite_fold_function(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("review_fold", 1, fold, deterministic=True)


@receiver(user_logged_in, dispatch_uid="review.preference_to_session")
def preference_to_session(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    text_size = (
        ReviewerPreference.objects.filter(user=user).values_list("text_size", flat=True).first()
    )
    if text_size:
        request.session["text_size"] = text_size
