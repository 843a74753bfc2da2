"""At login, the reviewer's saved display preference goes into their session, so every page
can apply it without a query. Each SQLite connection (the demo) gets the review_fold SQL
function its report search uses. A change to a user, their groups or permissions forgets
the users it concerns in the user cache (`user_cache`)."""

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission, User
from django.contrib.auth.signals import user_logged_in
from django.db.backends.signals import connection_created
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from review import user_cache
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


# --- the user cache: who a change concerns -------------------------------------------------
# m2m_changed: `reverse` is False when the change is made from the model declaring the
# relation (user.groups.add(g), group.permissions.add(p)), True from the other side
# (group.user_set.add(u)); pk_set holds the other side's ids; pre_clear has none, so the
# members are read before the rows go.
_M2M_ACTIONS = {"post_add", "post_remove", "pre_clear"}


def _group_members(group_ids: Iterable[int]) -> Iterable[int]:
    # Lazy: read only when the cache is on (users_forget), and then at once.
    return User.objects.filter(groups__in=group_ids).values_list("pk", flat=True)


@receiver(post_save, sender=User, dispatch_uid="review.user_cache.user_saved")
@receiver(post_delete, sender=User, dispatch_uid="review.user_cache.user_deleted")
def user_changed(sender, instance: User, **kwargs) -> None:
    user_cache.users_forget(user_ids=[instance.pk])


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="review.user_cache.groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="review.user_cache.perms")
def user_groups_or_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in _M2M_ACTIONS:
        return
    if not reverse:
        user_ids: Iterable[int] = [instance.pk]
    elif action == "pre_clear" and isinstance(instance, Group):
        user_ids = _group_members([instance.pk])
    elif action == "pre_clear":  # permission.user_set.clear()
        user_ids = instance.user_set.values_list("pk", flat=True)
    else:
        user_ids = pk_set or ()
    user_cache.users_forget(user_ids=user_ids)


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="review.user_cache.group")
def group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in _M2M_ACTIONS:
        return
    if not reverse:
        group_ids: Iterable[int] = [instance.pk]
    elif action == "pre_clear":  # permission.group_set.clear()
        group_ids = instance.group_set.values_list("pk", flat=True)
    else:
        group_ids = pk_set or ()
    user_cache.users_forget(user_ids=_group_members(group_ids))


@receiver(pre_delete, sender=Group, dispatch_uid="review.user_cache.group_deleted")
def group_deleted(sender, instance: Group, **kwargs) -> None:
    user_cache.users_forget(user_ids=_group_members([instance.pk]))


@receiver(pre_delete, sender=Permission, dispatch_uid="review.user_cache.permission_deleted")
def permission_deleted(sender, instance: Permission, **kwargs) -> None:
    holders = User.objects.filter(Q(user_permissions=instance) | Q(groups__permissions=instance))
    user_cache.users_forget(user_ids=holders.values_list("pk", flat=True))


@receiver(post_save, sender=Token, dispatch_uid="review.user_cache.token_saved")
@receiver(post_delete, sender=Token, dispatch_uid="review.user_cache.token_deleted")
def token_changed(sender, instance: Token, **kwargs) -> None:
    user_cache.token_forget(token=instance.key)
