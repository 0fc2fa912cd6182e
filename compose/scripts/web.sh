#!/bin/sh
# The web service: bring the database up to date, load the course content, serve (ASGI).
set -eu
python manage.py migrate --no-input
python manage.py load_content --new-only
exec uvicorn gradlab.asgi:application --app-dir platform \
    --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" \
    --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" \
    --workers "${WEB_WORKERS:-2}" --no-access-log
