# syntax=docker/dockerfile:1

# --- base: Python 3.11 and the runtime dependencies from pyproject.toml ---------------------------
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_STATIC_ROOT=/app/var/static \
    DJANGO_MEDIA_ROOT=/app/var/media

WORKDIR /app

# Only [project].dependencies: the project itself is not an installable package.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# --- assets: compiled translations and collected static files --------------------------------------
FROM base AS assets

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

COPY . .

# Settings refuse to load with DEBUG off unless a secret key and a PostgreSQL URL are set; neither is used
# here (no database connection is made), so throwaway values are set for this step only.
RUN export DJANGO_DEBUG=0 \
        DJANGO_SECRET_KEY=build-time-only-not-a-secret \
        DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    && if find . -name '*.po' -print -quit | grep -q .; then python manage.py compilemessages; fi \
    && python manage.py collectstatic --noinput

# --- runtime ---------------------------------------------------------------------------------------
FROM base

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

# Code and static files stay owned by root (read-only for the app); only uploads and the beat schedule
# are writable. Named volumes mounted on these two directories take over their ownership.
COPY --from=assets /app /app
RUN mkdir -p /app/var/media /app/var/beat \
    && chown app:app /app/var/media /app/var/beat

USER app

EXPOSE 8000

CMD ["gunicorn", "poverty_relief.wsgi:application", "--bind=0.0.0.0:8000", "--workers=3", "--timeout=60", "--worker-tmp-dir=/dev/shm"]
