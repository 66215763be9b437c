# Painmap's web service: Daphne serving HTTP and WebSockets. See compose.yml for the whole stack.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=0 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 painmap
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=painmap:painmap . .
# Static files are collected at build time; WhiteNoise serves them compressed and hashed.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0

USER painmap
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# Migrations are not run here: with several replicas they would race. compose.yml runs them
# once (the `migrate` service) before any web process; alone: `docker run IMAGE python manage.py
# migrate --noinput`, then the image.
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
