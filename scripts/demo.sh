#!/usr/bin/env bash
# Start the demo: SQLite database, file-system Celery broker, offline generator.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=true
PY=.venv/bin/python
PORT="${PORT:-8000}"
$PY manage.py migrate --noinput -v 0
$PY manage.py seed_demo
$PY -m celery -A synthreports worker --loglevel=WARNING --concurrency=2 --pool=threads &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo
echo "synthreports demo: open http://127.0.0.1:${PORT}/ and log in as reviewer1 (see above)."
echo "Press Ctrl-C to stop."
$PY manage.py runserver "127.0.0.1:${PORT}"
