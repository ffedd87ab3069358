"""/v1/categories, /v1/scorecard, POST /v1/jobs/{id}/categorize and GET /v1/jobs?category=, on
SQLite and PostgreSQL; and a call transcribed through the API that carries its categories and
scorecard with no readable card digit in any evidence."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.main import create_app
from app.models import Category, Scorecard
from app.runtime import Runtime
from tests.support.assertions import assert_error
from tests.support.card_readings import as_words
from tests.support.factories import completed_job, make_account, serve_asgi, settings_for
from tests.support.leaks import leaks
from tests.support.scripted import ScriptedModels, scripted_runtime, tone_wav
from tests.test_categories import BILLING_CALL

BILLED_TWICE = {
    "name": "Billed twice",
    "description": "Double charges",
    "rules": [
        {"type": "phrases", "phrases": ["got billed two times"], "match": "meaning", "participant": "Customer"},
        {"type": "field", "field": "call_type", "values": ["billing"]},
    ],
}
CANCELLATION = {"name": "Cancellation", "rules": [{"type": "phrases", "phrases": ["cancel my account"]}]}


def _count(runtime: Runtime, model: type[Any], account_id: str) -> int:
    with runtime.db.transaction(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(model).where(model.account_id == account_id)) or 0


async def test_categories_are_created_listed_replaced_and_deleted(client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    created = await client.post("/v1/categories", json=BILLED_TWICE, headers=customer.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Billed twice"
    assert body["rules"][0]["match"] == "meaning"
    category_id = body["id"]

    second = (await client.post("/v1/categories", json=CANCELLATION, headers=customer.headers)).json()
    listed = (await client.get("/v1/categories", headers=customer.headers)).json()
    assert [c["id"] for c in listed["categories"]] == [category_id, second["id"]]
    assert (await client.get(f"/v1/categories/{category_id}", headers=customer.headers)).json() == body

    # Another account sees none of it.
    other = make_account(runtime)
    assert (await client.get("/v1/categories", headers=other.headers)).json() == {"categories": []}
    assert_error(await client.get(f"/v1/categories/{category_id}", headers=other.headers), 404)
    assert_error(await client.delete(f"/v1/categories/{category_id}", headers=other.headers), 404)

    renamed = await client.put(
        f"/v1/categories/{category_id}", json={**BILLED_TWICE, "name": "Double billing"}, headers=customer.headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Double billing"
    clash = await client.put(f"/v1/categories/{category_id}", json=CANCELLATION, headers=customer.headers)
    assert_error(clash, 409)
    assert_error(
        await client.post("/v1/categories", json={**CANCELLATION, "name": "CANCELLATION"}, headers=customer.headers),
        409,
    )

    deleted = await client.delete(f"/v1/categories/{category_id}", headers=customer.headers)
    assert deleted.status_code == 204
    assert_error(await client.get(f"/v1/categories/{category_id}", headers=customer.headers), 404)
    assert _count(runtime, Category, customer.account_id) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "no rules", "rules": []},
        {"name": "bad kind", "rules": [{"type": "regex", "pattern": ".*"}]},
        {"name": "dangling", "rules": [{"type": "phrases", "phrases": ["x"], "range": {"after": "nowhere"}}]},
        {"name": "bad value", "rules": [{"type": "field", "field": "call_outcome", "values": ["won"]}]},
        {"rules": [{"type": "phrases", "phrases": ["x"]}]},
        [],
    ],
)
async def test_a_bad_category_is_400_and_nothing_is_stored(
    client: httpx.AsyncClient, runtime: Runtime, body: Any
) -> None:
    customer = make_account(runtime)
    response = await client.post("/v1/categories", json=body, headers=customer.headers)
    assert_error(response, 400)
    assert response.json()["error"]["message"].startswith("Invalid request")
    assert _count(runtime, Category, customer.account_id) == 0


async def test_categories_per_account_are_limited(database_url: str) -> None:
    rt = Runtime.create(settings_for(database_url, max_categories_per_account=2))
    try:
        customer = make_account(rt)
        async with serve_asgi(create_app(runtime=rt)) as c:
            for n in range(2):
                ok = await c.post("/v1/categories", json={**CANCELLATION, "name": f"c{n}"}, headers=customer.headers)
                assert ok.status_code == 201
            refused = await c.post("/v1/categories", json={**CANCELLATION, "name": "c3"}, headers=customer.headers)
            assert_error(refused, 400)
            assert "at most 2 categories" in refused.json()["error"]["message"]
    finally:
        rt.close()


async def test_categories_run_again_on_a_past_call_and_filter_jobs(client: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = make_account(runtime)
    stored = BILLING_CALL.model_dump(mode="json")
    past = completed_job(runtime, customer, stored)
    unrelated = completed_job(runtime, customer)
    await client.post("/v1/categories", json=BILLED_TWICE, headers=customer.headers)
    await client.post("/v1/categories", json=CANCELLATION, headers=customer.headers)
    # Made before the categories existed: not matched yet.
    assert (await client.get("/v1/jobs?category=Billed twice", headers=customer.headers)).json()["jobs"] == []

    rerun = await client.post(f"/v1/jobs/{past}/categorize", headers=customer.headers)
    assert rerun.status_code == 200, rerun.text
    result = rerun.json()
    [matched] = result["categories"]
    assert matched["name"] == "Billed twice"
    [phrase, field] = matched["rules"]
    assert phrase["evidence"][0]["text"].startswith("I was billed twice")
    assert phrase["evidence"][0]["participant"] == "Customer"
    assert field["evidence"] == [
        {"start": None, "end": None, "participant": None, "text": None, "value": "billing", "score": None}
    ]
    assert result["scorecard"]["name"] == "Default"
    assert result["scorecard"]["score"] == 100.0
    assert result["transcript"] == stored["transcript"]  # nothing transcribed again

    kept = (await client.get(f"/v1/jobs/{past}/result", headers=customer.headers)).json()
    assert kept["categories"] == result["categories"]
    found = (await client.get("/v1/jobs", params={"category": "Billed twice"}, headers=customer.headers)).json()
    assert [j["id"] for j in found["jobs"]] == [past]
    assert found["category"] == "Billed twice"
    assert (await client.get("/v1/jobs?category=Cancellation", headers=customer.headers)).json()["jobs"] == []
    everything = (await client.get("/v1/jobs", headers=customer.headers)).json()
    assert {j["id"] for j in everything["jobs"]} == {past, unrelated}

    # Free: re-running charges nothing.
    before = (await client.get("/v1/balance", headers=customer.headers)).json()
    await client.post(f"/v1/jobs/{past}/categorize", headers=customer.headers)
    assert (await client.get("/v1/balance", headers=customer.headers)).json() == before

    # Once the category is gone, a re-run drops it and the filter no longer finds the call.
    category_id = (await client.get("/v1/categories", headers=customer.headers)).json()["categories"][0]["id"]
    await client.delete(f"/v1/categories/{category_id}", headers=customer.headers)
    again = (await client.post(f"/v1/jobs/{past}/categorize", headers=customer.headers)).json()
    assert again["categories"] == []
    assert (await client.get("/v1/jobs?category=Billed twice", headers=customer.headers)).json()["jobs"] == []

    other = make_account(runtime)
    assert_error(await client.post(f"/v1/jobs/{past}/categorize", headers=other.headers), 404)
    assert_error(await client.post("/v1/jobs/nope/categorize", headers=customer.headers), 404)


async def test_a_category_is_previewed_on_a_past_call_without_storing_anything(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = make_account(runtime)
    past = completed_job(runtime, customer, BILLING_CALL.model_dump(mode="json"))
    draft = {**BILLED_TWICE, "rules": [*BILLED_TWICE["rules"], {"type": "phrases", "phrases": ["cancel"]}]}

    async def preview_of(category: dict[str, Any]) -> httpx.Response:
        body = {"job_id": past, "category": category}
        return await client.post("/v1/categories/preview", json=body, headers=customer.headers)

    shown = await preview_of(draft)
    assert shown.status_code == 200, shown.text
    preview = shown.json()
    assert preview["name"] == "Billed twice"
    assert preview["matched"] is False
    meaning, field, cancel = preview["rules"]
    assert meaning["held"]
    assert meaning["evidence"][0]["text"].startswith("I was billed twice")
    assert field["held"]
    assert field["evidence"][0]["value"] == "billing"
    assert cancel == {"type": "phrases", "id": None, "negate": False, "evidence": [], "held": False}

    negated = {**draft, "rules": [*BILLED_TWICE["rules"], {"type": "phrases", "phrases": ["cancel"], "negate": True}]}
    assert (await preview_of(negated)).json()["matched"] is True

    # Nothing stored: no category, the stored result untouched, no charge.
    assert _count(runtime, Category, customer.account_id) == 0
    assert (await client.get(f"/v1/jobs/{past}/result", headers=customer.headers)).json()["categories"] == []
    assert (await client.get("/v1/jobs?category=Billed twice", headers=customer.headers)).json()["jobs"] == []

    bad = {"job_id": past, "category": {"name": "x", "rules": [{"type": "phrases", "phrases": []}]}}
    assert_error(await client.post("/v1/categories/preview", json=bad, headers=customer.headers), 400)
    missing = {"job_id": "nope", "category": CANCELLATION}
    assert_error(await client.post("/v1/categories/preview", json=missing, headers=customer.headers), 404)
    other = make_account(runtime)
    theirs = {"job_id": past, "category": CANCELLATION}
    assert_error(await client.post("/v1/categories/preview", json=theirs, headers=other.headers), 404)


async def test_the_scorecard_is_the_default_until_the_account_sets_its_own(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = make_account(runtime)
    default = (await client.get("/v1/scorecard", headers=customer.headers)).json()
    assert default["default"] is True
    assert len(default["questions"]) == 8

    own = {
        "name": "Collections",
        "questions": [
            {"question": "Said goodbye", "weight": 2, "rules": [{"type": "phrases", "phrases": ["goodbye"]}]}
        ],
    }
    put = await client.put("/v1/scorecard", json=own, headers=customer.headers)
    assert put.status_code == 200
    assert put.json()["default"] is False
    assert_error(await client.put("/v1/scorecard", json={"name": "x", "questions": []}, headers=customer.headers), 400)
    assert (await client.get("/v1/scorecard", headers=customer.headers)).json()["name"] == "Collections"

    job = completed_job(runtime, customer, BILLING_CALL.model_dump(mode="json"))
    scored = (await client.post(f"/v1/jobs/{job}/categorize", headers=customer.headers)).json()["scorecard"]
    assert scored["name"] == "Collections"
    assert [(a["question"], a["answer"]) for a in scored["answers"]] == [("Said goodbye", "yes")]

    reset = await client.delete("/v1/scorecard", headers=customer.headers)
    assert reset.json()["default"] is True
    assert _count(runtime, Scorecard, customer.account_id) == 0


# A call transcribed through the API: categories apply as it completes.


@pytest.fixture(scope="module")
def scripted(database_url: str) -> Iterator[tuple[Runtime, ScriptedModels]]:
    with scripted_runtime(database_url) as pair:
        yield pair


@pytest.fixture
async def scripted_client(scripted: tuple[Runtime, ScriptedModels]) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_asgi(create_app(runtime=scripted[0])) as c:
        yield c


CARD = "4532015112830366"
PAYMENT_TURNS = [
    ("SPEAKER_00", "Thank you for calling Acme billing, my name is Tom. This call may be recorded."),
    ("SPEAKER_01", "Hi Tom, I'd like to pay my bill with my card please."),
    ("SPEAKER_00", "Sure, go ahead with the long number on the card."),
    ("SPEAKER_01", "It's four five three two, zero one five one, one two eight three, zero three six six."),
    ("SPEAKER_00", "And the security code?"),
    ("SPEAKER_01", "Seven four one."),
    ("SPEAKER_00", "Thanks, the payment of $120 has gone through. Anything else I can help with today?"),
    ("SPEAKER_01", "No thanks, goodbye."),
]


async def test_a_transcribed_call_carries_its_categories_with_masked_evidence(
    scripted_client: httpx.AsyncClient, scripted: tuple[Runtime, ScriptedModels]
) -> None:
    runtime, models = scripted
    customer = make_account(runtime, credit_cents=10_000)
    card_reading = {
        "name": "Card read out",
        "rules": [
            {"type": "phrases", "phrases": ["the long number on the card"], "match": "fuzzy"},
            # The customer's reply: the card number itself, as evidence.
            {"type": "phrases", "phrases": ["it's"], "participant": "Customer"},
            {"type": "phrases", "phrases": ["security code"], "participant": "Agent"},
        ],
    }
    assert (
        await scripted_client.post("/v1/categories", json=card_reading, headers=customer.headers)
    ).status_code == 201
    words = as_words(PAYMENT_TURNS)
    models.say(words)
    response = await scripted_client.post(
        "/v1/transcribe", headers=customer.headers, files={"file": ("call.wav", tone_wav(words[-1].end + 1.0))}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["name"] for c in body["categories"]] == ["Card read out"]
    assert body["scorecard"]["name"] == "Default"
    greeted = next(a for a in body["scorecard"]["answers"] if "greeted" in a["question"])
    assert greeted["answer"] == "yes"
    evidence = " ".join(e["text"] or "" for r in body["categories"][0]["rules"] for e in r["evidence"])
    assert "*" in evidence  # the card's sentence is evidence, as masked
    assert leaks({"response": response.text}, [CARD], ["741"]) == []

    found = (await scripted_client.get("/v1/jobs?category=Card read out", headers=customer.headers)).json()
    assert [j["id"] for j in found["jobs"]] == [body["job_id"]]
    stored = await scripted_client.get(f"/v1/jobs/{body['job_id']}/result", headers=customer.headers)
    assert stored.json()["categories"] == body["categories"]
    assert leaks({"result": stored.text}, [CARD], ["741"]) == []


async def test_a_card_number_typed_into_a_rule_is_never_stored_or_returned(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = make_account(runtime)
    typed = {"name": f"Card {CARD}", "rules": [{"type": "phrases", "phrases": [f"my card is {CARD}"]}]}
    created = await client.post("/v1/categories", json=typed, headers=customer.headers)
    assert created.status_code == 201
    card = {"name": "QA", "questions": [{"question": f"Read back {CARD}?", "rules": typed["rules"]}]}
    scorecard = await client.put("/v1/scorecard", json=card, headers=customer.headers)
    assert scorecard.status_code == 200
    listed = await client.get("/v1/categories", headers=customer.headers)
    with runtime.db.transaction(read_only=True) as session:
        rows = [
            *session.scalars(select(Category.definition).where(Category.account_id == customer.account_id)),
            *session.scalars(select(Scorecard.definition).where(Scorecard.account_id == customer.account_id)),
        ]
        stored = [json.dumps(row) for row in rows]
    outputs = {"created": created.text, "scorecard": scorecard.text, "listed": listed.text, "stored": "\n".join(stored)}
    assert len(stored) == 2
    assert leaks(outputs, [CARD], []) == []
