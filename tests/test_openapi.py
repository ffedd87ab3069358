"""The published OpenAPI document: what generated clients are built from."""

from __future__ import annotations

from typing import Any

import httpx


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await client.get("/openapi.json")).json())


async def test_both_result_endpoints_declare_the_transcription_result(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    components = spec["components"]["schemas"]
    result = components["TranscriptionResult"]
    assert {"transcript", "segments", "speakers", "roles", "language", "word_timestamps", "ai_analysis"} <= set(
        result["properties"]
    )
    assert result["properties"]["ai_analysis"] == {"$ref": "#/components/schemas/CallAnalysis"}
    stored = spec["paths"]["/v1/jobs/{job_id}/result"]["get"]["responses"]["200"]["content"]
    assert stored["application/json"]["schema"] == {"$ref": "#/components/schemas/TranscriptionResult"}
    sync = spec["paths"]["/v1/transcribe"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert sync == {"$ref": "#/components/schemas/TranscribeOut"}
    assert {"$ref": "#/components/schemas/TranscriptionResult"} in components["TranscribeOut"]["allOf"]
    analysis = components["CallAnalysis"]["properties"]
    assert {"call_summary", "call_type", "call_outcome", "customer", "agent", "financial", "compliance"} <= set(
        analysis
    )


async def test_component_names_carry_no_module_paths(client: httpx.AsyncClient) -> None:
    names = set((await _spec(client))["components"]["schemas"])
    assert not [name for name in names if "__" in name or name.startswith("app")]
    assert {"StripeWebhookOut", "WebhookOut"} <= names


def _properties(components: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """A schema's properties, with those of the components it refers to or combines."""
    if "$ref" in schema:
        return _properties(components, components[schema["$ref"].rsplit("/", 1)[-1]])
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= _properties(components, part)
    return names


async def test_the_transcribe_form_lists_every_field(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    body = spec["paths"]["/v1/transcribe"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    fields = _properties(spec["components"]["schemas"], body)
    assert {"file", "audio", "language", "instructions", "speakers", "min_speakers", "max_speakers", "channels",
            "redact_pii", "async", "callback_url", "metadata"} <= fields  # fmt: skip
