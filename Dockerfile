# NETcare's image: one image for both processes, the web server (gunicorn) and the task worker.
# compose.yaml runs it with PostgreSQL and Redis; docs/deployment.md says what each setting means.
FROM python:3.11-slim-bookworm

# WeasyPrint's libraries and the one font family the PDFs use; nothing fetched at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NETCARE_ENV_FILE= \
    GUNICORN_BIND=0.0.0.0:8000 \
    LOG_FORMAT=json

WORKDIR /app
COPY pyproject.toml requirements.lock README.md manage.py gunicorn.conf.py ./
COPY netcare netcare
COPY treatments treatments
COPY templates templates
COPY static static
COPY fixtures fixtures
# Pinned as `make install` pins them.
RUN pip install --no-cache-dir -c requirements.lock .

# The hashed static files and their manifest are part of the image. The key only satisfies the
# settings for this one command; the real SECRET_KEY comes from the environment at run time.
RUN SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdef DEBUG=false \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 --home-dir /app netcare
USER netcare
EXPOSE 8000

# The web process: migrations, the deploy check, then gunicorn. The worker overrides the command.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py check --deploy --fail-level WARNING && exec gunicorn --config gunicorn.conf.py netcare.wsgi:application"]
