# The assistant's image: one image, three commands (deploy/docker-entrypoint):
#   rasa     the Rasa server (default): REST, socket.io widget, Slack, Telegram
#   actions  the action server
#   web      the demo clinic page with the chat widget
# Built by `make image` (tagged with the git commit) or `docker compose build`.
# docs/deployment.md explains the settings.
ARG BASE_IMAGE=python:3.10-slim-bookworm
FROM ${BASE_IMAGE}

# Patient data never leaves the clinic: no Rasa telemetry, ever; no .pyc writes
# at run time (the code is read-only to the user the servers run as).
ENV RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

# The servers run as `rasa` (uid 1001), never root; /data is its only writable
# folder (conversations, feedback, API token: a volume, never in the image).
RUN useradd --create-home --uid 1001 --user-group rasa \
    && mkdir /data && chown rasa:rasa /data

# The pinned dependencies, in a layer of their own: rebuilt only when
# requirements.txt changes. The cache mount keeps downloaded wheels between builds.
COPY requirements.txt /app/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip,sharing=locked \
    python -m venv /opt/venv \
    && /opt/venv/bin/pip install --disable-pip-version-check -r /app/requirements.txt

# The project (what .dockerignore leaves: no storage/, .env, tests or .git).
WORKDIR /app
COPY . /app
# `make image` brings the trained model, the spaCy pipeline and the widget's
# files (models/, webchat/public/). A plain `docker build` of a fresh clone has
# none of them: then they are made here (training takes several minutes).
RUN if [ ! -s models/assistant.tar.gz ]; then \
        python -m scripts.build_spacy_pipeline models/spacy_pipeline \
        && rasa train --fixed-model-name assistant --out models \
        && rm -rf .rasa; \
    fi \
    && python -m scripts.widget_assets webchat \
    && rm -rf /tmp/*

# Defaults of every variable that endpoints.yml and credentials.yml read (Rasa
# refuses to start when one is unset): channels off, SQLite in /data. Secrets
# (channel tokens, RASA_API_TOKEN, passwords) come from the environment at run time.
ENV RASA_PORT=5005 RASA_INTERFACE=0.0.0.0 ACTIONS_PORT=5055 WEB_PORT=8080 WEB_BIND=0.0.0.0 \
    ENDPOINTS=endpoints.yml \
    ACTION_SERVER_URL=http://localhost:5055/webhook \
    TRACKER_DB=/data/conversations.db FEEDBACK_DB=/data/feedback.db \
    POSTGRES_HOST=localhost POSTGRES_PORT=5432 POSTGRES_DB=rasa POSTGRES_USER=rasa POSTGRES_PASSWORD= \
    REDIS_HOST=localhost REDIS_PORT=6379 REDIS_PASSWORD= \
    SLACK_BOT_TOKEN= SLACK_SIGNING_SECRET= SLACK_API_URL= \
    TELEGRAM_TOKEN= TELEGRAM_BOT_NAME= TELEGRAM_WEBHOOK_URL= TELEGRAM_SECRET_TOKEN= TELEGRAM_API_URL= \
    SANIC_REQUEST_MAX_SIZE=1000000

USER rasa
VOLUME /data
EXPOSE 5005 5055 8080
# Asks the health endpoint of whichever server the container runs (the
# entrypoint notes its URL): Rasa's /, the action server's /health, the page.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]
ENTRYPOINT ["/app/deploy/docker-entrypoint"]
CMD ["rasa"]
