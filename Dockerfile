# The eCRF under gunicorn. Configured only through environment variables (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/var/static

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic reads settings, which demand a key; this one exists only for the build step.
RUN SECRET_KEY=build-only-not-used-at-run-time python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --uid 10001 --home /app ecrf \
    && mkdir -p /app/var/exports \
    && chown -R ecrf /app/var

USER ecrf
EXPOSE 8000
ENTRYPOINT ["docker/entrypoint.sh"]
CMD ["gunicorn", "trialsite.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
