"""Create a coordinator and N reviewer accounts in a local synthreports and print the reviewers'
API tokens as JSON (the coordinator's token goes to stderr as 'ADMIN_TOKEN=...').

Setup helper for peer_side_by_side.py's synthreports adapters (not part of the harness). Users
through the ORM and the project's role groups; tokens through the project's own
`manage.py drf_create_token` command (call_command, one process). Run from the repository root
with the synthreports venv and the server's environment (DATABASE_URL, SECRET_KEY, ...):
  python $BENCH/sr_make_raters.py 16 > sr-raters.json
"""

import io
import json
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthreports.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402

PASSWORD = "benchpass123-sbs"
n = int(sys.argv[1]) if len(sys.argv) > 1 else 16
User = get_user_model()


def token_for(username: str) -> str:
    out = io.StringIO()
    call_command("drf_create_token", username, stdout=out)
    return out.getvalue().strip().split()[2]  # "Generated token <key> for user <name>"


def user(username: str, group: str) -> object:
    u = User.objects.filter(username=username).first()
    if u is None:
        u = User.objects.create_user(username=username, password=PASSWORD)
    u.groups.add(Group.objects.get(name=group))
    return u


user("sbs-coordinator", "coordinator")
print(
    f"ADMIN_TOKEN={token_for('sbs-coordinator')} ADMIN_USER=sbs-coordinator ADMIN_PASSWORD={PASSWORD}",
    file=sys.stderr,
)
out = []
for i in range(n):
    name = f"sbs-reviewer-{i:02d}"
    user(name, "reviewer")
    out.append({"email": name, "password": PASSWORD, "token": token_for(name)})
print(json.dumps(out))
