FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY synthreports synthreports
COPY review review
COPY generation generation
RUN pip install .
COPY . .
# Static files and translations are built into the image; the build needs no secrets.
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput \
    && python manage.py compilemessages --ignore=.venv
RUN useradd --create-home synthreports && mkdir -p /app/media && chown synthreports /app/media
USER synthreports
EXPOSE 8000
# 3 processes x 4 threads: a thread waiting on PostgreSQL lets another run (bench/RESULTS.md).
CMD ["gunicorn", "synthreports.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--worker-tmp-dir", "/dev/shm", "--keep-alive", "10", "--access-logfile", "-"]
