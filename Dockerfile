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
# Workers, threads, keep-alive and preload come from gunicorn.conf.py in /app (the
# benchmarks run the same file); GUNICORN_WORKERS / GUNICORN_THREADS resize it.
CMD ["gunicorn", "synthreports.wsgi:application"]
