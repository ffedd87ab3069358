# VoxParse Server. Build: docker build -t voxparse . ; run: docker run -p 8000:8000 -v voxparse:/data voxparse
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VOXPARSE_DATABASE_URL=sqlite:////data/voxparse.db \
    VOXPARSE_NUMBA_CACHE_DIR=/data/numba-cache \
    VOXPARSE_AUDIO_STORE_DIR=/data/audio \
    NUMBA_CACHE_DIR=/data/numba-cache

# The diarizer needs PyTorch. Override TORCH_SPEC (and pip's index through PIP_EXTRA_INDEX_URL)
# to pick a CPU-only or a specific CUDA build.
ARG TORCH_SPEC=torch==2.13.0
RUN pip install "${TORCH_SPEC}"

WORKDIR /srv
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
# Editable, so the migrations folder beside the package is found at run time.
RUN pip install -e . \
    && useradd --system --uid 10001 --home-dir /srv voxparse \
    && mkdir -p /data && chown voxparse /data
USER voxparse
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"

# uvicorn stops on SIGTERM after letting requests in flight finish (VOXPARSE_SHUTDOWN_GRACE_SECONDS).
# Behind a proxy, set VOXPARSE_TRUSTED_PROXIES='["<proxy address>"]' and VOXPARSE_ROOT_PATH.
# The same image runs workers: `docker run ... voxparse worker --concurrency 2`, with
# VOXPARSE_BROKER_URL, VOXPARSE_DATABASE_URL and the shared audio volume at VOXPARSE_AUDIO_STORE_DIR.
CMD ["voxparse", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-dev-key"]
