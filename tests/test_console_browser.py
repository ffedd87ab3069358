"""The console in a real headless browser (Debian's chromium driven by Playwright) against a live
server: sign in, upload a synthesized card-payment call, watch its stages, read it, play from a
turn, download subtitles, page through jobs, see the balance. Screenshots of the main pages go to
data/screenshots/."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from app.billing import ledger
from app.db import migrate
from app.jobs import records
from app.models import EntryKind, Job
from app.runtime import Runtime
from app.speech import audio_redaction
from app.speech.audio import SAMPLE_RATE, DecodedAudio
from tests.support.calls import CALLS
from tests.support.factories import Customer, completed_job, make_account, result_body, settings_for
from tests.support.fake_stripe import FakeStripe, fake_stripe
from tests.support.live import ROOT, LiveServer, live_server
from tests.support.synth import SynthCall, synthesize_call
from tests.test_categories import BILLING_CALL

pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "data" / "screenshots"
CREDIT = 1000
TOPUP, BONUS = 500, 50
SEEDED_JOBS = 12
CARD_CALL = next(c for c in CALLS if c.name == "card_payment")
# The recognizer now and then drops some of the sixteen digits it hears (4532 **** ** 6311, or a
# shifted last four: 4532 **** *** 7631): masked either way, the first four and last four shown.
MASKED_CARD = re.compile(r"4532 \*+(?: \*+)* \d{4}(?!\d)")
# In the transcript, a number heard only in part is masked whole (no digits shown) instead.
MASKED_CARD_IN_TEXT = re.compile(rf"{MASKED_CARD.pattern}|\*{{8,}}")
# Eleven digits or more in a row, spaces or dashes between them allowed: no call text may hold one.
LONG_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){10,}")
# What Chromium needs here: no sandbox as root, and no background calls to Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    with fake_stripe() as server:
        yield server


@contextmanager
def console_server(folder: Path, **env: str) -> Iterator[LiveServer]:
    url = f"sqlite:///{folder / 'console.db'}"
    migrate(url)
    env = {
        "VOXPARSE_AUDIO_STORE_DIR": str(folder / "audio"),
        "VOXPARSE_REDACTED_AUDIO_DIR": str(folder / "redacted"),
        "VOXPARSE_PRELOAD_MODELS": "false",
        **env,
    }
    with live_server(url, folder / "server.log", env=env) as live:
        yield live


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, stripe: FakeStripe) -> Iterator[LiveServer]:
    stripe_env = {
        "VOXPARSE_STRIPE_SECRET_KEY": "sk_test_console",
        "VOXPARSE_STRIPE_WEBHOOK_SECRET": "whsec_console",
        "VOXPARSE_STRIPE_API_BASE": stripe.api_base,
    }
    with console_server(tmp_path_factory.mktemp("console"), **stripe_env) as live:
        yield live


def seed_customer(server: LiveServer) -> Customer:
    runtime = Runtime.create(settings_for(server_database(server)))
    try:
        created = make_account(runtime, credit_cents=CREDIT - TOPUP - BONUS)
        with runtime.db.transaction() as session:
            for kind, cents in ((EntryKind.TOPUP, TOPUP), (EntryKind.BONUS, BONUS)):
                ledger.credit(
                    session,
                    created.account_id,
                    cents,
                    kind=kind,
                    reason="test top-up",
                    payment_ref="cs_test_console",
                    expiry_days=runtime.settings.credit_expiry_days,
                )
        # Older finished jobs, so that the jobs table has a second page.
        with runtime.db.transaction() as session:
            for n in range(SEEDED_JOBS):
                job = records.create_job(session, created.account_id, type="transcribe", model="tiny.en")
                records.mark_processing(session, job, runtime.runner)
                records.complete_job(session, job, duration_seconds=30.0 + n, cost_cents=0, result=result_body())
        return created
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def customer(server: LiveServer) -> Customer:
    return seed_customer(server)


def server_database(server: LiveServer) -> str:
    return f"sqlite:///{server.log_path.parent / 'console.db'}"


@pytest.fixture(scope="module")
def card_call(call_dir: Path) -> SynthCall:
    return synthesize_call(CARD_CALL.turns, call_dir / "console-card-payment.wav")


def shoot(page: Page, name: str) -> None:
    """Save a screenshot, after checking the page shows no programming leftovers."""
    shown = page.inner_text("main")
    for leftover in ("null", "undefined", "[object", "NaN"):
        assert leftover not in shown, f"{leftover!r} on the {name} page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def decoded_mono(samples: np.ndarray) -> DecodedAudio:
    return DecodedAudio(
        mono=samples, channels=(), format_name="wav", codec="pcm_s16le", source_channels=1, source_rate=SAMPLE_RATE
    )


def sign_in(page: Page, server: LiveServer, customer: Customer) -> None:
    page.goto(f"{server.base_url}/")
    expect(page).to_have_url(f"{server.base_url}/console")
    page.fill("#api-key", customer.key)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#upload-form")).to_be_visible()


def assert_no_card_number(text: str) -> None:
    for secret in CARD_CALL.secrets:
        assert secret not in text.replace(" ", "").replace("-", "")


def assert_call_text_masked(text: str) -> None:
    """For text made from the call only (not dates or ids): whatever digits recognition heard, no
    long run of them is left unmasked."""
    assert_no_card_number(text)
    assert LONG_DIGIT_RUN.search(text) is None, LONG_DIGIT_RUN.search(text)


STAGE_RECORDER = """() => {
  window.__stages = [];
  new MutationObserver(() => {
    const el = document.querySelector('#stage');
    const stage = el && el.dataset.stage;
    if (stage && window.__stages[window.__stages.length - 1] !== stage) window.__stages.push(stage);
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def test_the_console_end_to_end(
    browser: Browser, server: LiveServer, stripe: FakeStripe, customer: Customer, card_call: SynthCall
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{server.base_url}/")
    expect(page.locator("#sign-in")).to_be_visible()
    shoot(page, "sign-in")
    page.fill("#api-key", "vxp_live_not-a-real-key")
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#sign-in .error")).to_have_text("That key was not accepted.")
    sign_in(page, server, customer)

    # Keyboard: the drop zone is reachable and opens the file picker with Enter.
    # (Asserted on the file input's click, which opens the picker: whether headless Chromium then
    # shows a chooser is its business, and waiting for that event proved flaky under load.)
    page.evaluate("document.querySelector('#file').addEventListener('click', () => { window.__picker = true; })")
    page.locator("#drop").press("Enter")
    page.wait_for_function("window.__picker === true", timeout=10_000)

    page.set_input_files("#file", str(card_call.path))
    expect(page.locator("#chosen")).to_contain_text(card_call.path.name)
    page.evaluate(STAGE_RECORDER)
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#stage")).not_to_be_empty(timeout=30_000)
    shoot(page, "upload-processing")
    page.wait_for_url("**/console#/calls/*", timeout=240_000)
    stages: list[str] = page.evaluate("window.__stages")
    assert len(stages) >= 2, stages
    assert set(stages) <= {"queued", "decoding", "transcribing", "diarizing", "analyzing", "done"}
    assert stages[-1] == "done"
    job_id = page.url.rsplit("/", 1)[1]

    # The call: both speakers, the analysis cards, the masked card.
    expect(page.locator("#transcript")).to_be_visible()
    assert page.locator(".turn.agent").count() >= 2
    assert page.locator(".turn.customer").count() >= 2
    for card in ("summary", "customer", "agent", "money", "compliance", "sentiment", "issues", "actions", "agreements"):
        expect(page.locator(f"#card-{card}")).to_be_visible()
    expect(page.locator("#card-compliance")).to_contain_text(MASKED_CARD)
    expect(page.locator("#card-customer")).to_contain_text("James Rivera")
    body_text = page.inner_text("body")
    assert_no_card_number(body_text)
    assert_no_card_number(page.content())
    assert_call_text_masked(page.inner_text("#transcript"))
    for card_text in page.locator(".analysis").all_inner_texts():
        assert_call_text_masked(card_text)
    # The timeline: a lane per role, speech as bars, the masked card marked; the metrics card.
    expect(page.locator("#timeline")).to_be_visible()
    assert page.locator("#timeline .speech.agent").count() >= 2
    assert page.locator("#timeline .speech.customer").count() >= 2
    assert page.locator("#timeline .masked").count() >= 1
    expect(page.locator("#card-metrics")).to_contain_text("wpm")
    expect(page.locator("#card-metrics")).to_contain_text("Agent")
    shoot(page, "call")

    # Clicking the timeline seeks the audio to that moment and picks the turn spoken then.
    bar = page.locator("#timeline .speech.customer").nth(1)
    box = bar.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.querySelector('.turn.picked') !== null", timeout=10_000)
    picked_start = float(page.locator(".turn.picked").get_attribute("data-start") or "nan")
    page.wait_for_function(
        "start => Math.abs(document.querySelector('#player').currentTime - start) < 15",
        arg=picked_start,
        timeout=10_000,
    )
    assert "customer" in (page.locator(".turn.picked").get_attribute("class") or "")

    # Clicking a turn seeks the audio there, and that turn is highlighted.
    turn = page.locator(".turn").nth(3)
    start = float(turn.get_attribute("data-start") or "nan")
    turn.click()
    page.wait_for_function(
        "start => Math.abs(document.querySelector('#player').currentTime - start) < 1.0", arg=start, timeout=10_000
    )
    page.wait_for_function("() => document.querySelector('.turn.current') !== null", timeout=10_000)
    assert float(page.locator(".turn.current").get_attribute("data-start") or "nan") <= start + 1.0

    # Subtitles and JSON, downloaded with the key in a header (never in a URL).
    with page.expect_download() as srt_download:
        page.click("#download-srt")
    srt = Path(srt_download.value.path()).read_text()
    assert srt.startswith("1\n00:00:")
    assert " --> " in srt
    assert "Agent: " in srt
    assert "Customer: " in srt
    assert MASKED_CARD_IN_TEXT.search(srt)
    assert_call_text_masked("\n".join(line for line in srt.splitlines() if " --> " not in line and not line.isdigit()))
    with page.expect_download() as json_download:
        page.click("#download-json")
    result: dict[str, Any] = json.loads(Path(json_download.value.path()).read_text())
    assert result["ai_analysis"]["customer"]["name"] == "James Rivera"
    assert_no_card_number(json.dumps(result))
    assert_call_text_masked(json.dumps([result["transcript"], result["segments"], result["ai_analysis"]]))

    # Jobs: newest first, paged.
    page.click("nav >> text=Jobs")
    expect(page.locator("#jobs tbody tr")).to_have_count(10)
    expect(page.locator("#jobs tbody tr").first).to_contain_text("completed")
    shoot(page, "jobs")
    page.click("#next-page")
    expect(page.locator("#page-number")).to_have_text("Page 2")
    expect(page.locator("#jobs tbody tr")).to_have_count(SEEDED_JOBS + 1 - 10)
    page.click("#prev-page")
    page.locator("#jobs tbody tr a").first.click()
    expect(page).to_have_url(f"{server.base_url}/console#/calls/{job_id}")

    # Balance: down by the job's cost; top-ups say they are not configured (no Stripe here).
    cost = httpx.get(f"{server.base_url}/v1/jobs/{job_id}", headers=customer.headers).json()["cost_cents"]
    assert cost >= 1
    page.click("nav >> text=Balance")
    expect(page.locator("#balance")).to_have_text(f"${(CREDIT - cost) / 100:.2f}")
    expect(page.locator("#topups tbody tr")).to_have_count(1)
    expect(page.locator("#topups tbody tr")).to_contain_text("$5.00")
    expect(page.locator("#topups tbody tr")).to_contain_text("$0.50")
    expect(page.locator("#products li")).to_have_count(4)
    shoot(page, "balance")
    # A top-up goes to Stripe Checkout (its page is stood in for: these machines have no internet).
    page.route("https://checkout.stripe.com/**", lambda route: route.fulfill(body="<h1>Stripe Checkout</h1>"))
    page.locator("#products li", has_text="$200.00").locator("button").click()
    page.wait_for_url("https://checkout.stripe.com/c/pay/*")
    sent = stripe.requests[-1]["form"]
    assert sent["line_items[0][price_data][unit_amount]"] == "20000"
    assert sent["success_url"] == f"{server.base_url}/console#/balance?topup=success"
    page.go_back()
    expect(page.locator("#balance")).to_be_visible()

    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    assert not any(customer.key in url for url in requested)
    context.close()


def test_the_call_view_fits_a_phone(browser: Browser, server: LiveServer, customer: Customer) -> None:
    listed = httpx.get(f"{server.base_url}/v1/jobs?limit=100", headers=customer.headers).json()["jobs"]
    uploaded = [j for j in listed if j["duration_seconds"] and j["cost_cents"]]
    assert uploaded, "this test reads the call that test_the_console_end_to_end uploaded"
    call = uploaded[0]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, server, customer)
    shoot(page, "upload-phone")
    page.goto(f"{server.base_url}/console#/calls/{call['id']}")
    expect(page.locator("#transcript")).to_be_visible()
    # Not uploaded from this tab: no player, and it says why.
    expect(page.locator("#player")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    expect(page.locator("#timeline")).to_be_visible()
    assert page.evaluate("document.querySelector('#timeline').getBoundingClientRect().right <= window.innerWidth")
    assert page.evaluate("document.querySelector('#timeline').getBoundingClientRect().height >= 40")
    assert_no_card_number(page.inner_text("body"))
    shoot(page, "call-phone")
    context.close()


def test_top_ups_say_when_stripe_is_not_configured(browser: Browser, tmp_path: Path) -> None:
    with console_server(tmp_path) as bare:
        customer = seed_customer(bare)
        page = browser.new_page()
        sign_in(page, bare, customer)
        page.click("nav >> text=Balance")
        page.locator("#products li button").first.click()
        expect(page.locator("#topup-status")).to_have_text("Top-ups are not configured on this server.")
        page.close()


def test_a_call_with_redacted_audio_plays_it_in_any_tab(browser: Browser, tmp_path: Path) -> None:
    """Not uploaded from this tab, but sent with redact_audio=true: the kept copy is played, and
    offered for download; the timeline marks where it is beeped."""
    with console_server(tmp_path) as bare:
        customer = seed_customer(bare)
        seconds = 6.0
        tone = np.sin(2 * np.pi * 300 * np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE).astype(np.float32)
        (tmp_path / "redacted").mkdir()
        runtime = Runtime.create(settings_for(server_database(bare)))
        try:
            body = result_body(
                transcript="My card is 4532 **** **** 6311.",
                duration_seconds=seconds,
                segments=[
                    {"start": 0.5, "end": 5.0, "speaker": "SPEAKER_00", "text": "My card is 4532 **** **** 6311."}
                ],
                speakers=["SPEAKER_00"],
                roles={"SPEAKER_00": "Customer"},
                masked_spans=[{"start": 2.0, "end": 4.5}],
            )
            job_id = completed_job(runtime, customer, body)
            data = audio_redaction.encode(audio_redaction.render(decoded_mono(tone), [(2.0, 4.5)], "beep"))
            (tmp_path / "redacted" / f"{job_id}.ogg").write_bytes(data)
            with runtime.db.transaction() as session:
                job = session.get(Job, job_id)
                assert job is not None
                job.redacted_audio = f"{job_id}.ogg"
        finally:
            runtime.close()
        page = browser.new_page()
        sign_in(page, bare, customer)
        page.goto(f"{bare.base_url}/console#/calls/{job_id}")
        expect(page.locator("#player")).to_be_visible()
        expect(page.locator("#download-audio")).to_be_visible()
        assert page.locator("#timeline .masked").count() == 1
        page.wait_for_function("() => document.querySelector('#player').duration > 5", timeout=10_000)
        page.close()


def test_a_category_is_written_previewed_on_a_past_call_and_filters_jobs(browser: Browser, server: LiveServer) -> None:
    customer = seed_customer(server)
    runtime = Runtime.create(settings_for(server_database(server)))
    try:
        past = completed_job(runtime, customer, BILLING_CALL.model_dump(mode="json"))
    finally:
        runtime.close()
    rules = [
        {"type": "phrases", "match": "meaning", "participant": "Customer", "phrases": ["got billed two times"]},
        {"type": "field", "field": "call_type", "values": ["billing"]},
    ]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, server, customer)
    page.click("nav a[data-route=categories]")
    expect(page.locator("#category-form")).to_be_visible()
    page.fill("#category-name", "Billed twice")
    page.fill("#category-rules", "[not json")
    page.click("#preview")
    expect(page.locator("#category-error")).to_contain_text("not valid JSON")

    # A rule that cannot hold on this call: previewed, not matched, and the failing rule shown.
    page.fill("#category-rules", json.dumps([*rules, {"type": "phrases", "phrases": ["cancel my account"]}]))
    page.select_option("#preview-job", past)
    page.click("#preview")
    expect(page.locator("#preview-verdict")).to_have_text("not matched")
    expect(page.locator(".rule-outcome").nth(2)).to_contain_text("fails")

    page.fill("#category-rules", json.dumps(rules))
    page.click("#preview")
    expect(page.locator("#preview-verdict")).to_have_text("matched")
    expect(page.locator("#preview-result")).to_contain_text("Customer: I was billed twice")
    expect(page.locator("#preview-result")).to_contain_text("billing")
    shoot(page, "categories")
    page.click("#save-category")
    expect(page.locator("#categories")).to_contain_text("Billed twice")

    # The past call gains the category when run again, with evidence that seeks the transcript.
    page.goto(f"{server.base_url}/console#/calls/{past}")
    expect(page.locator("#card-categories")).to_contain_text("No category matched")
    expect(page.locator("#card-scorecard")).to_have_count(0)  # stored before scorecards existed
    page.click("#recategorize")
    expect(page.locator("#card-categories")).to_contain_text("Billed twice")
    expect(page.locator("#score")).to_have_text("Default: 100 / 100")
    page.locator("#card-categories button.evidence").first.click()
    expect(page.locator(".turn.picked")).to_contain_text("I was billed twice")
    shoot(page, "call-categories")

    page.click("nav a[data-route=jobs]")
    expect(page.locator("#jobs tbody tr")).to_have_count(10)
    page.select_option("#category-filter", "Billed twice")
    expect(page.locator("#jobs tbody tr")).to_have_count(1)
    expect(page.locator(f"#jobs a[href='#/calls/{past}']")).to_be_visible()
    page.close()


def test_a_call_played_live_shows_its_words_arriving_masked_then_the_finished_call(
    browser: Browser, server: LiveServer, customer: Customer, call_dir: Path
) -> None:
    """The Live page plays a recording to WebSocket /v1/stream in real time (no microphone): words
    arrive while it plays, the card is masked in them, and the finished call opens."""
    short = synthesize_call(CARD_CALL.turns[:6], call_dir / "console-live.wav")
    page = browser.new_page()
    sign_in(page, server, customer)
    page.click("nav a[data-route=live]")
    page.set_input_files("#live-file", str(short.path))
    page.click("#live-start")
    expect(page.locator("#live-state")).to_contain_text("Live: sending", timeout=30_000)
    # Words final while the call is still being sent, not only at its end.
    expect(page.locator("#live-finals .live-line").first).to_be_visible(timeout=short.duration * 1000)
    assert "Live: sending" in page.inner_text("#live-state")
    expect(page.locator("#live-call-link")).to_be_visible(timeout=180_000)
    heard = page.inner_text("#live-finals")
    assert_no_card_number(heard)
    assert LONG_DIGIT_RUN.search(heard) is None
    assert page.locator("#live-finals .masked").count() >= 1
    assert "calling" in heard.lower()
    expect(page.locator("#live-state")).to_contain_text("Finished")
    # At the end, the call again by role.
    by_role = page.inner_text("#live-roles")
    assert "Agent:" in by_role
    assert "Customer:" in by_role
    assert_no_card_number(by_role)
    shoot(page, "live")
    page.click("#live-call-link")
    expect(page.locator("h1")).to_be_visible()
    assert_no_card_number(page.inner_text("main"))
    page.close()
