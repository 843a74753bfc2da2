#!/usr/bin/env bash
# One whole side-by-side run of the rating flow: Label Studio and synthreports, both under
# gunicorn (4 workers x 2 threads, gthread) on the same PostgreSQL, same reports, same 16
# raters, interleaved cycles (LS, ours over the API, ours as the browser drives it).
# Re-runnable end to end on an idle machine:
#
#   bench/peer/run_side_by_side.sh                 # 1 cycle, figures into $OUT
#   CYCLES=3 ITEMS=2000 bench/peer/run_side_by_side.sh
#   APPS="synthreports" bench/peer/run_side_by_side.sh   # some adapters only (old against new)
#
# Needs: the repository's .venv (make .venv/.installed), PostgreSQL and Redis on 127.0.0.1,
# and Label Studio installed from PyPI into a separate venv in a scratch folder, never in
# this repository:
#   python3.12 -m venv $SCRATCH/ls-venv && $SCRATCH/ls-venv/bin/pip install label-studio httpx gunicorn
# The script makes (and at the end drops) two databases, labelstudio_perf and perf_sr; set
# KEEP_DATABASES=1 to keep them. Each server is started fresh for every run.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
BENCH="$REPO/bench/peer"
SCRATCH="${SCRATCH:-/work/scratch/ls}"
LS_VENV="${LS_VENV:-$SCRATCH/ls-venv}"
SR_PY="${SR_PY:-$REPO/.venv/bin/python}"
OUT="${OUT:-$SCRATCH/out-$(date -u +%Y%m%dT%H%M)}"
CYCLES="${CYCLES:-1}"
ITEMS="${ITEMS:-2000}"
REQUESTS="${REQUESTS:-300}"
MAX_SECONDS="${MAX_SECONDS:-240}"
CONCURRENCY="${CONCURRENCY:-1,16}"
PHASES="${PHASES:-setup,rate,export}"
PG="psql -h 127.0.0.1 -U postgres -q"
LS_PORT=8080
SR_PORT=8001
LS_TOKEN=0123456789abcdef0123456789abcdef01234567
mkdir -p "$OUT" "$SCRATCH/data"
APPS="${APPS:-label-studio synthreports synthreports-browser}"
with_ls() { [[ " $APPS " == *" label-studio "* ]]; }
LSPKG=""
if with_ls; then
  LSPKG="$("$LS_VENV/bin/python" -c 'import label_studio, os; print(os.path.dirname(label_studio.__file__))')"
fi
PM="$(head -1 "$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW data_directory')/postmaster.pid")"

ls_env() {
  export DJANGO_DB=default POSTGRE_NAME=labelstudio_perf POSTGRE_USER=postgres POSTGRE_PASSWORD=
  export POSTGRE_HOST=127.0.0.1 POSTGRE_PORT=5432 DEBUG=false SENTRY_DSN= FRONTEND_SENTRY_DSN=
  export LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false LOG_LEVEL=WARNING
  export LABEL_STUDIO_BASE_DATA_DIR="$SCRATCH/data" HOST="http://127.0.0.1:$LS_PORT"
  export SECRET_KEY=bench-ls-secret-key-not-for-production-0123456789
}
sr_env() {
  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/perf_sr SECRET_KEY=bench-sr-secret-key-not-for-production
  export DEBUG=false ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false
  export CSRF_COOKIE_SECURE=false STATIC_MANIFEST=true STATIC_ROOT="$SCRATCH/sr-static"
  export CELERY_BROKER_URL=redis://127.0.0.1:6379/6 REDIS_URL=redis://127.0.0.1:6379/6
  export LOG_LEVEL=WARNING GUNICORN_ACCESS_LOG= GUNICORN_BIND=127.0.0.1:$SR_PORT
  export GUNICORN_WORKERS=4 GUNICORN_THREADS=2 AXES_ENABLED=false
}

databases_create() {
  $PG -c "DROP DATABASE IF EXISTS labelstudio_perf WITH (FORCE)" -c "DROP DATABASE IF EXISTS perf_sr WITH (FORCE)"
  $PG -c "CREATE DATABASE perf_sr"
  redis-cli -n 6 FLUSHDB >/dev/null
  if with_ls; then
    # Label Studio's migrations take minutes: made once into a template database, copied after.
    if $PG -Atc "SELECT 1 FROM pg_database WHERE datname = 'labelstudio_template'" | grep -q 1; then
      $PG -c "CREATE DATABASE labelstudio_perf TEMPLATE labelstudio_template"
    else
      $PG -c "CREATE DATABASE labelstudio_perf"
      (ls_env; cd "$SCRATCH" && "$LS_VENV/bin/label-studio" init --username admin@bench.local \
        --password benchpass123 --user-token "$LS_TOKEN" --enable-legacy-api-token > "$OUT/ls-init.log" 2>&1)
      $PG -c "CREATE DATABASE labelstudio_template TEMPLATE labelstudio_perf"
    fi
    (ls_env; cd "$SCRATCH" && "$LS_VENV/bin/python" "$BENCH/ls_make_raters.py" 16 > "$OUT/ls-raters.json")
  fi
  (sr_env; cd "$REPO" && "$SR_PY" manage.py migrate --noinput -v 0 \
    && "$SR_PY" manage.py collectstatic --noinput -v 0 \
    && "$SR_PY" "$BENCH/sr_make_raters.py" 16 > "$OUT/sr-raters.json" 2> "$OUT/sr-admin.txt")
}

server_start() {  # $1 = ls | sr; prints the gunicorn master's pid
  if [ "$1" = ls ]; then
    (ls_env; cd "$LSPKG" && DJANGO_SETTINGS_MODULE=core.settings.label_studio exec "$LS_VENV/bin/gunicorn" \
      core.wsgi:application --workers 4 --threads 2 --worker-class gthread --bind 127.0.0.1:$LS_PORT \
      --keep-alive 10 --no-control-socket --log-level warning >> "$OUT/ls-server.log" 2>&1) &
    PORT=$LS_PORT
  else
    (sr_env; cd "$REPO" && exec "$REPO/.venv/bin/gunicorn" synthreports.wsgi:application \
      --config gunicorn.conf.py --no-control-socket >> "$OUT/sr-server.log" 2>&1) &
    PORT=$SR_PORT
  fi
  local pid=$!
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/" -m 2 && break
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/" -m 2 | grep -qE '^(2|3|4)' && break
    sleep 1
  done
  echo "$pid"
}

server_stop() {  # the master was started in a subshell: wait for it to be gone, port freed
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$1" 2>/dev/null || break; sleep 1; done
}

run() {  # $1 = adapter, $2 = cycle, $3 = seed of the reports
  local adapter=$1 i=$2 seed=$3 base token extra db pid
  if [ "$adapter" = label-studio ]; then
    pid=$(server_start ls); base=http://127.0.0.1:$LS_PORT; token=$LS_TOKEN; db=labelstudio_perf
    extra=(--raters-file "$OUT/ls-raters.json")
  else
    pid=$(server_start sr); base=http://127.0.0.1:$SR_PORT; db=perf_sr
    token=$(sed -E 's/.*ADMIN_TOKEN=([^ ]+).*/\1/' "$OUT/sr-admin.txt")
    extra=(--raters-file "$OUT/sr-raters.json" --admin-email sbs-coordinator
           --admin-password benchpass123-sbs --raters-per-report 3)
  fi
  uptime > "$OUT/$adapter-$i.load"
  "$SR_PY" "$BENCH/peer_side_by_side.py" --adapter "$adapter" --base-url "$base" --token "$token" \
    "${extra[@]}" --phases "$PHASES" --items "$ITEMS" --text-chars 2500 --concurrency "$CONCURRENCY" \
    --requests "$REQUESTS" --max-seconds "$MAX_SECONDS" --warmup 2 --timeout 60 \
    --watch-pid "server=$pid" --watch-pid "db=$PM" --pg-postmaster "$PM" --pg-own-db "$db" \
    --seed "$seed" --json-out "$OUT/$adapter-$i.json" > "$OUT/$adapter-$i.txt" 2> "$OUT/$adapter-$i.err" \
    || echo "run $adapter $i failed: see $OUT/$adapter-$i.err"
  uptime >> "$OUT/$adapter-$i.load"
  server_stop "$pid"
}

# The databases once (Label Studio's migrations take minutes); every run then makes its own
# project or study and imports its own reports (seeds differ, so no import is a duplicate).
databases_create
for i in $(seq 1 "$CYCLES"); do
  for adapter in $APPS; do
    case "$adapter" in
      synthreports-browser) run "$adapter" "$i" $((2000 + i)) ;;
      *) run "$adapter" "$i" $((1000 + i)) ;;
    esac
  done
done
"$SR_PY" "$BENCH/summarize.py" "$OUT" > "$OUT/summary.md"
cat "$OUT/summary.md"
if [ -z "${KEEP_DATABASES:-}" ]; then
  $PG -c "DROP DATABASE IF EXISTS labelstudio_perf WITH (FORCE)" -c "DROP DATABASE IF EXISTS perf_sr WITH (FORCE)"
fi
echo "Figures in $OUT (summary.md)"
