"""All of the service's settings, read from `VOXPARSE_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VOXPARSE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage -------------------------------------------------------------------------------
    database_url: str = "sqlite:///./data/voxparse.db"
    """SQLAlchemy URL. SQLite file by default; `postgresql+psycopg://user@host/db` for production."""
    database_pool_size: int = 10
    """Connections kept per process (PostgreSQL)."""
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
    transcribe_rate_limit: str = "60/minute"
    """Per API key, on POST /v1/transcribe, on top of `rate_limit`."""

    # --- stripe --------------------------------------------------------------------------------
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None

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
