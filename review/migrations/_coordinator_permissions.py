"""Data migrations that give the coordinator group more of review's permissions share
this (0011, 0014). The permissions of a model are normally created after all migrations
have run; `grant` creates them first, so that they can be granted in the same run.
(The loader skips this module: its name starts with "_".)"""

from collections.abc import Sequence
from functools import partial

from django.contrib.auth.management import create_permissions
from django.db import migrations


def _permissions(apps, codenames: Sequence[str]):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="review", codename__in=list(codenames)
    )


def grant(apps, schema_editor, *, codenames: Sequence[str], create_for: str | None) -> None:
    """Create the permissions of app `create_for` (None: of every app), then give review's
    `codenames` to the coordinator group, made if missing."""
    configs = [apps.get_app_config(create_for)] if create_for else list(apps.get_app_configs())
    for app_config in configs:
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    coordinators, _ = apps.get_model("auth", "Group").objects.get_or_create(name="coordinator")
    coordinators.permissions.add(*_permissions(apps, codenames))


def revoke(apps, schema_editor, *, codenames: Sequence[str]) -> None:
    for group in apps.get_model("auth", "Group").objects.filter(name="coordinator"):
        group.permissions.remove(*_permissions(apps, codenames))


def coordinator_grant(
    codenames: Sequence[str], *, create_for: str | None = None
) -> migrations.RunPython:
    # functools.partial of module-level functions: squashmigrations can still write it.
    return migrations.RunPython(
        partial(grant, codenames=list(codenames), create_for=create_for),
        partial(revoke, codenames=list(codenames)),
    )
