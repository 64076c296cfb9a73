# Paperboy in a container: `docker build -t paperboy .` then see compose.example.yml.
# Two stages: the first installs the project into a virtual environment (pip may need a
# compiler for a dependency without a wheel); the second copies only that environment onto a
# clean slim image, so no build tools, caches or sources ship.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/paperboy
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY paperboy ./paperboy
# The README's install, with both chat platforms.
RUN /opt/paperboy/bin/pip install ".[slack,discord,postgres]"

FROM python:3.11-slim-bookworm
# Configuration comes from the environment: the data directory is a volume, /healthz listens
# on every interface for the HEALTHCHECK and the orchestrator, and tokens are passed at run
# time (never baked in): SLACK_BOT_TOKEN, SLACK_APP_TOKEN or SLACK_SIGNING_SECRET,
# DISCORD_TOKEN, OPENAI_API_KEY. A config.toml can be mounted and named by PAPERBOY_CONFIG.
ENV PATH="/opt/paperboy/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PAPERBOY_DATA=/data \
    PAPERBOY_HEALTH_PORT=8080 \
    PAPERBOY_HEALTH_HOST=0.0.0.0
RUN groupadd --system --gid 10001 paperboy \
    && useradd --system --uid 10001 --gid paperboy --home-dir /data --no-create-home paperboy \
    && mkdir /data && chown paperboy:paperboy /data
COPY --from=build /opt/paperboy /opt/paperboy
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080 3000
# The slim image has no curl: the probe is a few lines of Python's standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "paperboy.healthcheck"]
# SIGTERM (docker stop) finishes the message being sent and exits within 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["paperboy"]
CMD ["run", "--log-format", "json"]
