"""Print one requirement a line from pyproject.toml: `runtime` ([project].dependencies) or
an extra's name (`dev`). `make demo` pipes the runtime list into pip, so the demo installs
what running needs without building the project itself (manage.py runs from the checkout).
"""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
group = sys.argv[1] if len(sys.argv) > 1 else "runtime"
if group == "runtime":
    requirements = project["project"]["dependencies"]
else:
    extras = project["project"]["optional-dependencies"]
    if group not in extras:
        sys.exit(f"unknown group {group!r}: runtime or one of {', '.join(extras)}")
    requirements = extras[group]
print("\n".join(requirements))
