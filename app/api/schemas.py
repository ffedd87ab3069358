"""Request and response bodies of the public API, shaped as in the VoxParse reference."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, GetJsonSchemaHandler
from pydantic_core import CoreSchema

from app.apex.service import MAX_CHOICES, MAX_OUTPUT_TOKENS
from app.categories.rules import CategoryIn, ScorecardIn
from app.config import MAX_SPEAKERS
from app.jobs.documents import JobOut, Timestamp
from app.jobs.webhooks import WebhookSecret
from app.speech.result import TranscriptionResult


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    models: dict[str, str]


class PlanOut(BaseModel):
    id: str
    name: str
    price_per_hour: float | None = None
    price_per_hour_display: str | None = None
    price_per_million_input_tokens: float | None = None
    price_per_million_output_tokens: float | None = None
    includes: list[str]


class PricingOut(BaseModel):
    plans: list[PlanOut]


class ProductOut(BaseModel):
    amount_cents: int
    amount_dollars: str
    bonus_cents: int
    total_credit_dollars: str


class ProductsOut(BaseModel):
    products: list[ProductOut]
    currency: str
    note: str


class TopupOut(BaseModel):
    amount_cents: int
    bonus_cents: int
    created_at: Timestamp


class BalanceOut(BaseModel):
    balance_cents: int
    balance_dollars: str
    expired: bool
    recent_topups: list[TopupOut]


class JobsPageOut(BaseModel):
    jobs: list[JobOut]
    limit: int
    offset: int
    category: str | None = None
    """The category filter applied, if any."""


class CategoryOut(CategoryIn):
    id: str
    created_at: Timestamp
    updated_at: Timestamp


class CategoriesOut(BaseModel):
    categories: list[CategoryOut]


class CategoryPreviewIn(BaseModel):
    job_id: str
    """A completed job of yours: the category is tried on its stored result."""
    category: CategoryIn


class ScorecardOut(ScorecardIn):
    default: bool
    """True while the account has not set its own scorecard."""


class WebhookSecretOut(BaseModel):
    secret: str
    created_at: Timestamp
    previous_secret_valid_until: Timestamp | None = None
    """After a rotation: until then webhooks also carry a signature with the previous secret."""

    @classmethod
    def of(cls, secret: WebhookSecret) -> WebhookSecretOut:
        return cls(
            secret=secret.secret,
            created_at=secret.created_at,
            previous_secret_valid_until=secret.previous_valid_until,
        )


class QueuedOut(BaseModel):
    """The answer to an asynchronous POST /v1/transcribe (202)."""

    job_id: str
    status: Literal["queued"]
    job_url: str
    duration_seconds: float
    cost_cents: int
    """Held now; charged when the job completes, released if it fails or is cancelled."""
    metadata: dict[str, Any] | None = None


class StripeWebhookOut(BaseModel):
    received: bool
    result: str


class CheckoutIn(BaseModel):
    amount_cents: int = Field(description="One of the amounts of GET /billing/products.")
    success_url: str | None = Field(default=None, max_length=2000)
    cancel_url: str | None = Field(default=None, max_length=2000)


class CheckoutOut(BaseModel):
    checkout_url: str
    session_id: str


MAX_INSTRUCTIONS = 2000
OPENAPI_COMPONENTS = "#/components/schemas/"


def _language_code(value: str | None) -> str | None:
    code = (value or "").strip().lower() or None
    if code is not None and not (len(code) == 2 and code.isalpha()):
        raise ValueError("must be an ISO 639-1 code such as 'en' or 'es'")
    return code


def _channel_mode(value: Any) -> Any:
    return (value or "auto").strip().lower() if isinstance(value, str) or value is None else value


SpeakerNumber = Annotated[int | None, Field(ge=1, le=MAX_SPEAKERS)]


class TranscribeForm(BaseModel):
    """The form fields of POST /v1/transcribe besides the audio."""

    model_config = ConfigDict(populate_by_name=True)

    language: Annotated[str | None, AfterValidator(_language_code)] = Field(
        default=None, description="ISO 639-1 code; auto-detected if omitted."
    )
    instructions: str | None = Field(
        default=None, max_length=MAX_INSTRUCTIONS, description="Custom analysis instructions, max 2,000 characters."
    )
    plan: str | None = Field(default=None, description="`pro` or `transcription-ai`.")
    speakers: SpeakerNumber = Field(
        default=None, description="Exactly this many speakers (1-10). Default: the diarizer decides, 1 or 2."
    )
    min_speakers: SpeakerNumber = Field(default=None, description="At least this many speakers (default 1).")
    max_speakers: SpeakerNumber = Field(default=None, description="At most this many speakers (default 2).")
    channels: Annotated[Literal["auto", "split", "mix"], BeforeValidator(_channel_mode)] = Field(
        default="auto", description="`split`: one speaker per stereo channel; `mix`: never split."
    )
    redact_pii: bool = Field(default=False, description="Also mask e-mail addresses and phone numbers.")
    redact_audio: bool = Field(
        default=False,
        description="Keep the call's audio with every masked span covered (GET /v1/jobs/{id}/audio). No extra charge.",
    )
    redact_audio_mode: Literal["beep", "silence"] = Field(
        default="beep", description="`beep`: a 1 kHz tone over masked spans; `silence`."
    )
    run_async: bool = Field(
        default=False, alias="async", description="Answer 202 at once with the job id; poll GET /v1/jobs/{id}."
    )
    callback_url: str | None = Field(
        default=None, description="POST the job here, signed, when it ends (implies async). http(s) only."
    )
    metadata: str | None = Field(
        default=None, description="A JSON object (max 4 KB) stored with the job and sent in its webhook."
    )


class TranscribeOut(TranscriptionResult):
    """The synchronous answer: the job, and its whole result (the same fields as
    GET /v1/jobs/{id}/result)."""

    job_id: str
    status: Literal["completed"]
    cost_cents: int
    """Charged for this call."""
    result_url: str

    @classmethod
    def completed(cls, job_id: str, cost_cents: int, result: TranscriptionResult) -> TranscribeOut:
        return cls(
            **result.model_dump(),
            job_id=job_id,
            status="completed",
            cost_cents=cost_cents,
            result_url=f"/v1/jobs/{job_id}/result",
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        # Published as the result plus the job's fields, so that clients generate one result type;
        # the result is the component GET /v1/jobs/{id}/result declares.
        flat = handler.resolve_ref_schema(handler(core_schema))
        own = [name for name in cls.model_fields if name not in TranscriptionResult.model_fields]
        return {
            "title": cls.__name__,
            "description": flat.get("description", ""),
            "allOf": [
                {"$ref": f"{OPENAPI_COMPONENTS}{TranscriptionResult.__name__}"},
                {
                    "type": "object",
                    "properties": {name: flat["properties"][name] for name in own},
                    "required": [name for name in own if name in flat.get("required", [])],
                },
            ],
        }


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request; parameters not named here are passed on as they are."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="`apex-latest`, or a model the operator lists.")
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    n: int | None = Field(default=None, ge=1, le=MAX_CHOICES)
    temperature: float | None = None


class StreamTokenOut(BaseModel):
    """A single-use ticket for one live stream: `wss://HOST/v1/stream?token=TOKEN`."""

    token: str
    expires_in: int
    """Seconds within which the stream must be opened."""
