from review.permissions import user_is_coordinator, user_is_reviewer


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_coordinator": False, "is_reviewer": False}
    return {
        "is_coordinator": user_is_coordinator(user),
        "is_reviewer": user_is_reviewer(user),
        # Copied from the reviewer's saved preference at login (review/signals.py): read
        # from the session the request has loaded anyway, so no query per page.
        "text_size": request.session.get("text_size", "m"),
    }
