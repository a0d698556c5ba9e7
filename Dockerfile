# ccmbot: the Slack bot and its reminder scheduler.
#   docker build -t ccmbot .
#   docker run --env-file .env -v ccmbot-data:/data ccmbot                      # Socket Mode
#   docker run --env-file .env -p 3000:3000 ccmbot ccmbot serve --port 3000     # HTTP, gunicorn
# Migrations are applied at start (CCMBOT_MIGRATE=no leaves them to a one-shot `ccmbot db upgrade`,
# as examples/docker-compose.yml does); the default database is a SQLite file on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CCMBOT_DATABASE_URL=sqlite:////data/ccmbot.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# A plain COPY and a chmod, not COPY --chmod: the classic builder and BuildKit both take these.
RUN pip install '.[postgres]' \
 && chmod 0755 /usr/local/bin/docker-entrypoint.sh \
 && useradd --system --uid 10001 --home-dir /data --create-home ccmbot \
 && rm -rf /app/bot /app/storage

USER ccmbot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["ccmbot", "health"]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["ccmbot", "run"]
