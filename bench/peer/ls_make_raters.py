"""Create N rater accounts in a local Label Studio and print their legacy API tokens as JSON.

Setup helper for peer_labelstudio.py (Label-Studio-specific, not part of the harness).
Run with the Label Studio venv's python and the same env vars as the server, e.g.:
  . $ANCHORS/ls-env.sh && $ANCHORS/ls-venv/bin/python ls_make_raters.py 16 > raters.json
"""

import json
import os
import sys

import label_studio

sys.path.insert(0, os.path.dirname(label_studio.__file__))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "label_studio.core.settings.label_studio")

import django  # noqa: E402

django.setup()

from organizations.models import Organization  # noqa: E402
from users.models import User  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 16
org = Organization.objects.order_by("id").first()
out = []
for i in range(n):
    email = f"rater{i:02d}@bench.local"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password="benchpass123")
    org.add_user(user)
    user.active_organization = org
    user.save(update_fields=["active_organization"])
    out.append({"email": email, "password": "benchpass123", "token": user.auth_token.key})
print(json.dumps(out))
