#!/usr/bin/env bash
# Start the demo: SQLite database, file-system Celery broker, offline generator, DEBUG off
# (users meet the real error pages; WhiteNoise serves the collected static files).
# The URL and the logins are printed last, once the login page answers, and written to
# var/demo-logins.txt; the web server's and the worker's output go to var/demo-*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
mkdir -p var

# Production-shaped settings on a laptop: no TLS in front, so no secure-only cookies or
# HTTPS redirect; a secret key made once per checkout and kept out of git (var/ is ignored).
if [ ! -s var/demo-secret-key ]; then
  (umask 077 && $PY -c 'import secrets; print(secrets.token_urlsafe(50))' > var/demo-secret-key)
fi
export DEBUG=false
export SECRET_KEY_FILE=var/demo-secret-key
export ALLOWED_HOSTS="127.0.0.1,localhost,[::1]"
export SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false
export SECURE_HSTS_SECONDS=0 SECURE_HSTS_PRELOAD=false
# Invitations and reminders are printed into var/demo-web.log instead of being sent.
export EMAIL_BACKEND=console

echo "synthreports demo: preparing the database and static files…"
# --skip-checks: the system checks import every view (pandas, SciPy, Matplotlib), seconds
# per command on a cold start; gunicorn below loads the same code once.
# Both at once (collectstatic needs no database): two cores, two CPU-bound commands.
$PY manage.py collectstatic --noinput -v 0 --skip-checks &
COLLECT=$!
$PY manage.py migrate --noinput -v 0 --skip-checks
wait $COLLECT
# The web server and the worker start while the demo data is seeded.
$PY -m celery -A synthreports worker --loglevel=WARNING --concurrency=2 --pool=threads \
  > var/demo-worker.log 2>&1 &
WORKER=$!
GUNICORN_ACCESS_LOG=var/demo-web.log $PY -m gunicorn -c gunicorn.conf.py \
  --bind "127.0.0.1:${PORT}" --workers 1 --threads 4 --error-logfile var/demo-web.log \
  synthreports.wsgi:application >> var/demo-web.log 2>&1 &
WEB=$!
trap 'kill $WEB $WORKER 2>/dev/null || true' EXIT INT TERM
$PY manage.py seed_demo --skip-checks > var/demo-seed.txt

# Wait for the login page (at most 60 s), so the lines below are the last ones shown.
URL="http://127.0.0.1:${PORT}/"
$PY - "$URL" <<'EOF'
import sys, time, urllib.request
deadline = time.monotonic() + 60
while True:
    try:
        urllib.request.urlopen(sys.argv[1] + "accounts/login/", timeout=2).read()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("The web server did not answer within 60 s; see var/demo-web.log.")
        time.sleep(0.3)
EOF

{
  echo "synthreports demo: open ${URL}"
  grep -E '^  [a-z]+:' var/demo-seed.txt
  echo "Admin: ${URL}admin/ · E-mails (invitations, reminders): var/demo-web.log"
} > var/demo-logins.txt
echo
cat var/demo-logins.txt
echo "(also in var/demo-logins.txt; logs in var/demo-web.log, var/demo-worker.log) Press Ctrl-C to stop."
wait $WEB
