# Breathing Room: the skill's web service on gunicorn, as an unprivileged user.
#   docker build -t breathing-room .
#   docker run -p 8080:8080 -e ALEXA_SKILL_ID=amzn1.ask.skill.... \
#     -e DATABASE_URL=postgresql+psycopg://user:pass@db/breathing breathing-room
# Put it behind an HTTPS proxy on port 443 (Alexa requires HTTPS with a trusted certificate).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY skill ./skill
COPY content ./content
COPY audio ./audio
# Editable, so skill/'s non-Python files (templates, static) are used from /app as in dev.
RUN pip install -e ".[postgres]" \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin breathing \
    && mkdir -p /data && chown breathing /data

# Content is read from here, not from site-packages; without DATABASE_URL the SQLite file
# lives on the /data volume (one instance only: use PostgreSQL for several).
ENV BREATHING_ROOM_CONTENT=/app/content \
    DATABASE_URL=sqlite:////data/breathing-room.sqlite3
VOLUME ["/data"]

USER breathing
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
# Workers: WEB_CONCURRENCY if set, else 2 x CPUs + 1. gunicorn stops gracefully on SIGTERM.
CMD ["breathing-room", "serve", "--host", "0.0.0.0", "--port", "8080"]
