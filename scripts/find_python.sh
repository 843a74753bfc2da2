#!/usr/bin/env sh
# Print the path of a Python >= 3.12 (Django 6 needs it): $PYTHON if set, then the PATH,
# then pyenv's installed versions. Exits 1 with a message when there is none.
for candidate in "${PYTHON:-}" python3.14 python3.13 python3.12 python3 \
    "$(pyenv root 2>/dev/null)"/versions/3.1[2-9]*/bin/python3 \
    /root/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9]; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
echo "synthreports needs Python 3.12 or newer; none was found (set PYTHON=/path/to/python3.12)." >&2
exit 1
