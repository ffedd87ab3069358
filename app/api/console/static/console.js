// The VoxParse console: a small single-page app over the public API.
// The API key lives in sessionStorage and travels only in the X-API-Key header, never in a URL.
// Every value from the API is put on the page as text (textContent), never as HTML.

const API_BASE = document.body.dataset.apiBase || "";
const KEY_STORAGE = "voxparse.apiKey";
const JOBS_PER_PAGE = 10;
const POLL_MS = 700;
const STAGE_LABELS = {
  queued: "Queued",
  decoding: "Decoding the audio",
  transcribing: "Transcribing",
  diarizing: "Telling the speakers apart",
  analyzing: "Analysing the call",
  done: "Done",
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const toast = document.getElementById("toast");
// Audio uploaded from this browser in this session, by job id (object URLs; nothing is stored).
const localAudio = new Map();
let pollTimer = null;
let viewToken = 0;

// --- small helpers ---------------------------------------------------------------------------

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function getKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds || 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

function dollars(cents) {
  if (cents === null || cents === undefined) return "—";
  const sign = cents < 0 ? "-" : "";
  return `${sign}$${(Math.abs(cents) / 100).toFixed(2)}`;
}

function say(message) {
  toast.textContent = message;
  toast.classList.add("shown");
  clearTimeout(say.timer);
  say.timer = setTimeout(() => toast.classList.remove("shown"), 5000);
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function errorMessage(response) {
  try {
    return (await response.json()).error.message;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

async function api(path, { method = "GET", json, raw = false, key = getKey() } = {}) {
  const headers = { "X-API-Key": key || "" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(API_BASE + path, { method, headers, body });
  if (!response.ok) {
    const error = new ApiError(response.status, await errorMessage(response));
    if (response.status === 401 && key === getKey()) signOut("Your key was not accepted. Please sign in again.");
    throw error;
  }
  return raw ? response : response.json();
}

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

function show(...children) {
  main.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
}

function failure(error) {
  return h("p", { class: "error", role: "alert" }, error.message || String(error));
}

// --- sign in / out -----------------------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  for (const url of localAudio.values()) URL.revokeObjectURL(url);
  localAudio.clear();
  if (message) say(message);
  if (location.hash !== "#/upload") location.hash = "#/upload";
  else route();
}

function viewSignIn() {
  nav.hidden = true;
  const input = h("input", {
    id: "api-key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    placeholder: "vxp_live_…",
  });
  const status = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    { class: "card narrow", id: "sign-in" },
    h("h1", {}, "Sign in"),
    h("p", {}, "Paste your API key. It stays in this browser tab and is forgotten when you sign out or close it."),
    h("label", { for: "api-key" }, "API key"),
    input,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    status.textContent = "";
    try {
      await api("/v1/balance", { key });
      sessionStorage.setItem(KEY_STORAGE, key);
      route();
    } catch (error) {
      status.textContent = error.status === 401 ? "That key was not accepted." : error.message;
    }
  });
  show(form);
  input.focus();
}

// --- upload --------------------------------------------------------------------------------------

function sendUpload(file, fields, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("async", "true");
    for (const [name, value] of Object.entries(fields)) if (value) form.append(name, value);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API_BASE}/v1/transcribe`);
    xhr.setRequestHeader("X-API-Key", getKey() || "");
    xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress((100 * e.loaded) / e.total));
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status === 202 && body) resolve(body);
      else reject(new ApiError(xhr.status, body?.error?.message || `Upload failed (${xhr.status}).`));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "The upload failed: the server could not be reached.")));
    xhr.send(form);
  });
}

function viewUpload() {
  let file = null;
  const fileInput = h("input", {
    type: "file",
    id: "file",
    class: "visually-hidden",
    accept: "audio/*,.mp3,.wav,.m4a,.flac,.ogg,.webm",
    tabindex: "-1",
  });
  const chosen = h("span", { id: "chosen" }, "No file chosen");
  const drop = h(
    "div",
    { class: "drop", id: "drop", role: "button", tabindex: "0", "aria-describedby": "chosen" },
    h("strong", {}, "Drop a call recording here"),
    h("span", {}, "or press to choose a file (mp3, wav, m4a, flac, ogg, webm; up to 25 MB)"),
  );
  const language = h("input", { id: "language", maxlength: "2", placeholder: "auto", autocomplete: "off" });
  const instructions = h("textarea", { id: "instructions", maxlength: "2000", rows: "3" });
  const redactAudio = h("input", { type: "checkbox", id: "redact-audio" });
  const submit = h("button", { type: "submit", class: "primary", disabled: true }, "Upload and analyse");
  const uploadBar = h("progress", { id: "upload-progress", max: "100", value: "0", "aria-label": "Upload" });
  const stageBar = h("progress", { id: "stage-progress", max: "100", "aria-label": "Processing" });
  const stage = h("p", { id: "stage", "aria-live": "polite" });
  const uploadLabel = h("p", {}, "Uploading…");
  const status = h("div", { id: "upload-status", hidden: true }, uploadLabel, uploadBar, stage, stageBar);
  const errorBox = h("p", { class: "error", role: "alert" });

  const choose = (picked) => {
    if (!picked) return;
    file = picked;
    chosen.textContent = `${picked.name} (${(picked.size / 1e6).toFixed(1)} MB)`;
    submit.disabled = false;
  };
  fileInput.addEventListener("change", () => choose(fileInput.files[0]));
  drop.addEventListener("click", () => fileInput.click());
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      fileInput.click();
    }
  });
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    choose(e.dataTransfer.files[0]);
  });

  const form = h(
    "form",
    { class: "card", id: "upload-form" },
    h("h1", {}, "Upload a call"),
    drop,
    h("p", { class: "muted" }, chosen),
    fileInput,
    h(
      "div",
      { class: "fields" },
      h("div", {}, h("label", { for: "language" }, "Language (ISO code, optional)"), language),
      h("div", { class: "wide" }, h("label", { for: "instructions" }, "Instructions for the analysis (optional)"), instructions),
      h("div", { class: "wide check" }, redactAudio, h("label", { for: "redact-audio" }, "Keep a copy of the audio with card data and codes beeped out")),
    ),
    submit,
    errorBox,
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file) return;
    submit.disabled = true;
    errorBox.textContent = "";
    status.hidden = false;
    uploadLabel.textContent = "Uploading…";
    uploadBar.value = 0;
    stage.textContent = "";
    const token = viewToken;
    try {
      const queued = await sendUpload(
        file,
        { language: language.value.trim(), instructions: instructions.value.trim(), redact_audio: redactAudio.checked ? "true" : "" },
        (percent) => (uploadBar.value = percent),
      );
      uploadBar.value = 100;
      uploadLabel.textContent = "Uploaded. Processing:";
      localAudio.set(queued.job_id, URL.createObjectURL(file));
      await watchJob(queued.job_id, token, (job) => {
        const { stage: name, percent } = job.progress || { stage: job.status };
        stage.dataset.stage = name;
        stage.textContent = STAGE_LABELS[name] || name;
        if (percent !== null && percent !== undefined) stageBar.value = percent;
        else stageBar.removeAttribute("value");
      });
      if (token === viewToken) location.hash = `#/calls/${queued.job_id}`;
    } catch (error) {
      if (token !== viewToken) return;
      errorBox.textContent = error.message;
      submit.disabled = false;
    }
  });
  show(form);
}

// Polls a job until it ends; resolves when completed, rejects with its error when failed.
function watchJob(jobId, token, onUpdate) {
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (token !== viewToken) return;
      try {
        const job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
        if (token !== viewToken) return;
        onUpdate(job);
        if (job.status === "completed") return resolve(job);
        if (job.status === "failed") return reject(new Error(job.error || "The job failed."));
      } catch (error) {
        if (error.status && error.status !== 429 && error.status < 500) return reject(error);
      }
      pollTimer = setTimeout(tick, POLL_MS);
    };
    tick();
  });
}

// --- one call ------------------------------------------------------------------------------------

async function download(path, filename, button) {
  button.disabled = true;
  try {
    const response = await api(path, { raw: true });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    say(error.message);
  } finally {
    button.disabled = false;
  }
}

function fieldList(pairs) {
  const rows = pairs.filter(([, value]) => value !== null && value !== undefined && value !== "");
  if (!rows.length) return h("p", { class: "muted" }, "Not mentioned in the call.");
  return h("dl", {}, rows.map(([name, value]) => [h("dt", {}, name), h("dd", {}, String(value))]));
}

function bulletList(items, empty = "None.") {
  if (!items || !items.length) return h("p", { class: "muted" }, empty);
  return h("ul", {}, items.map((item) => h("li", {}, typeof item === "string" ? item : JSON.stringify(item))));
}

function card(title, id, ...body) {
  return h("section", { class: "card analysis", id, "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), ...body);
}

function badge(text, kind = "") {
  return text ? h("span", { class: `badge ${kind}` }, text.replaceAll("_", " ")) : null;
}

function analysisCards(analysis) {
  const a = analysis || {};
  const customer = a.customer || {};
  const agent = a.agent || {};
  const money = a.financial || {};
  const compliance = a.compliance || {};
  const sentiment = a.sentiment || {};
  const cards = [
    card(
      "Summary",
      "card-summary",
      h("p", { class: "badges" }, badge(a.call_type, "type"), badge(a.call_outcome, "outcome")),
      h("p", {}, a.call_summary || "No summary."),
    ),
    card(
      "Customer",
      "card-customer",
      fieldList([
        ["Name", customer.name],
        ["Company", customer.company],
        ["E-mail", customer.email],
        ["Phone", customer.phone],
      ]),
    ),
    card(
      "Agent",
      "card-agent",
      fieldList([
        ["Name", agent.name],
        ["Department", agent.department],
        ["Agent ID", agent.agent_id],
      ]),
    ),
    card(
      "Money",
      "card-money",
      fieldList([
        ["Paid today", money.payment_today],
        ["Recurring", money.recurring_amount],
        ["Pending balance", money.pending_balance],
        ["Payment method", money.payment_method],
        ["Billing date", money.billing_date],
        ["Credit issued", money.credit_issued],
      ]),
    ),
    card(
      "Compliance",
      "card-compliance",
      h(
        "p",
        {},
        badge(compliance.recording_disclosure ? "recording disclosed" : "no recording disclosure", compliance.recording_disclosure ? "ok" : "warn"),
      ),
      h("h3", {}, "Sensitive data shared (masked)"),
      bulletList(compliance.sensitive_data_shared),
    ),
    card(
      "Sentiment",
      "card-sentiment",
      fieldList([
        ["Customer", sentiment.customer_sentiment && sentiment.customer_sentiment.replaceAll("_", " ")],
        ["Agent performance", sentiment.agent_performance && sentiment.agent_performance.replaceAll("_", " ")],
      ]),
    ),
    card("Issues", "card-issues", bulletList(a.key_issues)),
    card("Action items", "card-actions", bulletList(a.action_items)),
    card("Agreements", "card-agreements", bulletList(a.agreements)),
  ];
  if (a.custom && Object.keys(a.custom).length) {
    cards.push(card("Your instructions", "card-custom", fieldList(Object.entries(a.custom).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]))));
  }
  const notes = [`Analysis: ${a.engine || "rules"}`].concat(a.warnings || []);
  cards.push(h("p", { class: "muted small" }, notes.join(" · ")));
  return cards;
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  for (const child of children.flat(Infinity)) if (child) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

function roleClass(who) {
  const name = String(who || "").toLowerCase();
  return name === "agent" ? "agent" : name === "customer" ? "customer" : "other";
}

// One lane per participant across the call: speech as bars, silences shaded, masked moments
// marked. A click seeks the player (when the audio is at hand) and scrolls the transcript there.
function timelineView(result, player, onPick) {
  const duration = Math.max(Number(result.duration_seconds) || 0, 0.001);
  const roles = result.roles || {};
  const speakers = result.speakers || [];
  // Drawn at about the size it is shown, so its text stays legible on a phone as on a desktop.
  const width = Math.round(Math.min(Math.max(window.innerWidth - 48, 300), 1000));
  const laneHeight = 26;
  const top = 4;
  const axis = 18;
  const labelWidth = 90;
  const span = width - labelWidth;
  const x = (seconds) => labelWidth + (Math.min(Math.max(seconds, 0), duration) / duration) * span;
  const lanes = speakers.map((speaker, index) => ({ speaker, who: roles[speaker] || speaker, y: top + index * laneHeight }));
  const height = top + lanes.length * laneHeight + axis;
  const laneOf = new Map(lanes.map((lane) => [lane.speaker, lane]));
  const metrics = result.call_metrics || {};
  const shapes = [];
  for (const silence of metrics.silences || []) {
    shapes.push(svg("rect", { class: "silence", x: x(silence.start), y: top, width: x(silence.end) - x(silence.start), height: lanes.length * laneHeight },
      svg("title", {}, `Silence, ${clock(silence.seconds)} from ${clock(silence.start)}`)));
  }
  for (const lane of lanes) {
    shapes.push(svg("text", { class: "lane-label", x: 0, y: lane.y + laneHeight * 0.65 }, lane.who));
    shapes.push(svg("line", { class: "lane", x1: labelWidth, x2: width, y1: lane.y + laneHeight / 2, y2: lane.y + laneHeight / 2 }));
  }
  for (const segment of result.segments || []) {
    const lane = laneOf.get(segment.speaker);
    if (!lane) continue;
    shapes.push(svg("rect", {
      class: `speech ${roleClass(lane.who)}`, x: x(segment.start), y: lane.y + 5, height: laneHeight - 10,
      width: Math.max(x(segment.end) - x(segment.start), 1.5), rx: 2,
    }, svg("title", {}, `${lane.who}, ${clock(segment.start)}`)));
  }
  for (const masked of result.masked_spans || []) {
    shapes.push(svg("rect", { class: "masked", x: x(masked.start) - 1, y: top, width: Math.max(x(masked.end) - x(masked.start), 2) + 2, height: lanes.length * laneHeight },
      svg("title", {}, `Masked (card or personal data) at ${clock(masked.start)}`)));
  }
  for (const tick of [0, duration / 2, duration]) {
    shapes.push(svg("text", { class: "tick", x: x(tick), y: height - 4, "text-anchor": tick === 0 ? "start" : tick === duration ? "end" : "middle" }, clock(tick)));
  }
  const cursor = svg("line", { class: "cursor", x1: labelWidth, x2: labelWidth, y1: top, y2: top + lanes.length * laneHeight, visibility: "hidden" });
  const chart = svg("svg", {
    id: "timeline", class: "timeline", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Who spoke when, over ${clock(duration)}`,
  }, shapes, cursor);
  chart.addEventListener("click", (event) => {
    const box = chart.getBoundingClientRect();
    const seconds = (((event.clientX - box.left) / box.width) * width - labelWidth) / span * duration;
    if (seconds < 0) return;
    onPick(Math.min(seconds, duration));
  });
  if (player) {
    player.addEventListener("timeupdate", () => {
      const at = x(player.currentTime);
      cursor.setAttribute("x1", at);
      cursor.setAttribute("x2", at);
      cursor.setAttribute("visibility", "visible");
    });
  }
  return chart;
}

function metricsCard(result) {
  const metrics = result.call_metrics;
  if (!metrics) return null;
  const people = Object.entries(metrics.participants || {});
  let offset = 0;
  const bar = svg("svg", { class: "share-bar", viewBox: "0 0 100 6", preserveAspectRatio: "none", role: "img",
    "aria-label": people.map(([who, p]) => `${who} ${Math.round(p.talk_share * 100)}%`).join(", ") },
    people.map(([who, p]) => {
      const rect = svg("rect", { class: roleClass(who), x: offset, y: 0, width: p.talk_share * 100, height: 6 });
      offset += p.talk_share * 100;
      return rect;
    }));
  const rows = people.map(([who, p]) => [
    h("dt", {}, who),
    h("dd", {}, `${Math.round(p.talk_share * 100)}% of the talk · ${p.words_per_minute ?? "–"} wpm · ` +
      `${p.interruptions} interruption${p.interruptions === 1 ? "" : "s"} · longest ${clock(p.longest_monologue ? p.longest_monologue.seconds : 0)}`),
  ]);
  return card("Call metrics", "card-metrics", bar, h("dl", { class: "fields" }, rows,
    h("dt", {}, "Silence"), h("dd", {}, `${Math.round(metrics.non_talk_share * 100)}% of the call` +
      (metrics.silences.length ? `, ${metrics.silences.length} hold${metrics.silences.length === 1 ? "" : "s"}` : "")),
  ));
}

// Each piece of evidence that has a time seeks the call there (player and transcript).
function evidenceList(rules, onPick) {
  const items = [];
  for (const rule of rules || []) {
    const kind = rule.type.replaceAll("_", " ");
    for (const found of rule.evidence || []) {
      const label = found.text || found.value || kind;
      const who = found.participant ? `${found.participant}: ` : "";
      if (found.start === null || found.start === undefined) {
        items.push(h("li", {}, h("span", { class: "evidence" }, `${kind}: ${label}`)));
        continue;
      }
      const button = h("button", { type: "button", class: "evidence link", dataset: { start: found.start } },
        h("time", {}, clock(found.start)), ` ${who}${label}`);
      button.addEventListener("click", () => onPick(Number(found.start)));
      items.push(h("li", {}, button));
    }
    if (rule.negate) items.push(h("li", { class: "muted small" }, `Not found, as required (${kind})`));
  }
  return items.length ? h("ul", { class: "evidence-list" }, items) : null;
}

function categoriesCard(result, onPick) {
  const matched = result.categories || [];
  return card("Categories", "card-categories",
    matched.length
      ? h("ul", { class: "categories" }, matched.map((c) => h("li", {}, h("strong", {}, c.name), evidenceList(c.rules, onPick))))
      : h("p", { class: "muted" }, "No category matched this call."),
    h("p", { class: "small" }, h("a", { href: "#/categories" }, "Edit categories")));
}

function scorecardCard(result, onPick) {
  const scored = result.scorecard;
  if (!scored) return null;
  const answers = scored.answers.map((a) =>
    h("li", { class: `answer ${a.answer}` }, badge(a.answer, a.answer === "yes" ? "completed" : a.answer === "no" ? "failed" : ""),
      " ", a.question, evidenceList(a.evidence, onPick)));
  return card("Scorecard", "card-scorecard",
    h("p", { id: "score" }, scored.score === null ? `${scored.name}: no question applied` : `${scored.name}: ${scored.score} / 100`),
    h("ol", { class: "answers" }, answers));
}

function transcriptView(result, player) {
  const roles = result.roles || {};
  const segments = result.segments || [];
  const buttons = segments.map((segment, index) => {
    const who = roles[segment.speaker] || segment.speaker || "Speaker";
    const role = who.toLowerCase() === "agent" ? "agent" : who.toLowerCase() === "customer" ? "customer" : "other";
    const button = h(
      "button",
      {
        type: "button",
        class: `turn ${role}`,
        dataset: { start: segment.start, end: segment.end, index },
        title: player ? "Play from here" : "Audio is available for calls uploaded from this browser tab",
      },
      h("span", { class: "who" }, who),
      h("time", {}, clock(segment.start)),
      h("span", { class: "text" }, segment.text),
    );
    button.addEventListener("click", () => {
      if (!player) return;
      player.currentTime = Number(segment.start);
      player.play().catch(() => {});
    });
    return button;
  });
  if (player) {
    let current = null;
    player.addEventListener("timeupdate", () => {
      const t = player.currentTime;
      let found = null;
      for (const button of buttons) if (Number(button.dataset.start) <= t + 0.05) found = button;
      if (found === current) return;
      current?.classList.remove("current");
      current?.removeAttribute("aria-current");
      current = found;
      if (current) {
        current.classList.add("current");
        current.setAttribute("aria-current", "true");
      }
    });
  }
  return h("ol", { class: "transcript", id: "transcript" }, buttons.map((b) => h("li", {}, b)));
}

async function viewCall(jobId) {
  const token = viewToken;
  show(h("p", { class: "muted" }, "Loading…"));
  let job;
  try {
    job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
  } catch (error) {
    return show(h("h1", {}, "Call"), failure(error));
  }
  if (token !== viewToken) return;
  if (job.status !== "completed") {
    const stage = h("p", { id: "stage", "aria-live": "polite" }, job.status);
    show(h("h1", {}, "Call"), stage, job.error ? failure(new Error(job.error)) : null);
    if (job.status === "failed") return;
    watchJob(jobId, token, (j) => {
      const name = (j.progress && j.progress.stage) || j.status;
      stage.dataset.stage = name;
      stage.textContent = STAGE_LABELS[name] || name;
    }).then(
      () => token === viewToken && viewCall(jobId),
      (error) => token === viewToken && show(h("h1", {}, "Call"), failure(error)),
    );
    return;
  }
  let result;
  try {
    result = await api(`/v1/jobs/${encodeURIComponent(jobId)}/result`);
  } catch (error) {
    return show(h("h1", {}, "Call"), failure(error));
  }
  if (token !== viewToken) return;

  let audioUrl = localAudio.get(jobId);
  if (!audioUrl && job.audio_url) {
    // Not uploaded from this tab, but a redacted copy is kept: play that.
    try {
      const response = await api(`/v1/jobs/${encodeURIComponent(jobId)}/audio`, { raw: true });
      audioUrl = URL.createObjectURL(await response.blob());
      localAudio.set(jobId, audioUrl);
    } catch {
      /* no player then */
    }
    if (token !== viewToken) return;
  }
  const player = audioUrl ? h("audio", { id: "player", controls: true, preload: "auto", src: audioUrl }) : null;
  const downloads = ["json", "srt", "vtt"].map((format) => {
    const button = h("button", { type: "button", id: `download-${format}`, class: "secondary" }, `Download ${format.toUpperCase()}`);
    const path = `/v1/jobs/${encodeURIComponent(jobId)}/result?format=${format}`;
    button.addEventListener("click", () => download(path, `${jobId}.${format}`, button));
    return button;
  });
  if (job.audio_url) {
    const button = h("button", { type: "button", id: "download-audio", class: "secondary" }, "Download redacted audio");
    button.addEventListener("click", () => download(`/v1/jobs/${encodeURIComponent(jobId)}/audio`, `${jobId}-redacted.ogg`, button));
    downloads.push(button);
  }
  const analysis = result.ai_analysis || {};
  const transcript = transcriptView(result, player);
  const pick = (seconds) => {
    if (player) {
      player.currentTime = seconds;
      player.play().catch(() => {});
    }
    const turns = [...transcript.querySelectorAll(".turn")];
    const turn = turns.filter((b) => Number(b.dataset.start) <= seconds + 0.05).pop() || turns[0];
    if (!turn) return;
    turn.scrollIntoView({ block: "center", behavior: "smooth" });
    turns.forEach((b) => b.classList.toggle("picked", b === turn));
  };
  const timeline = timelineView(result, player, pick);
  const rerun = h("button", { type: "button", id: "recategorize", class: "secondary" }, "Run categories again");
  rerun.addEventListener("click", async () => {
    rerun.disabled = true;
    try {
      await api(`/v1/jobs/${encodeURIComponent(jobId)}/categorize`, { method: "POST" });
      say("Categories and scorecard evaluated again (free).");
      if (token === viewToken) viewCall(jobId);
    } catch (error) {
      say(error.message);
      rerun.disabled = false;
    }
  });
  downloads.push(rerun);
  show(
    h(
      "div",
      { class: "call-head" },
      h("h1", {}, analysis.call_type ? `Call: ${analysis.call_type.replaceAll("_", " ")}` : "Call"),
      h(
        "dl",
        { class: "meta" },
        h("dt", {}, "Duration"),
        h("dd", {}, clock(job.duration_seconds)),
        h("dt", {}, "Cost"),
        h("dd", { id: "call-cost" }, dollars(job.cost_cents)),
        h("dt", {}, "Created"),
        h("dd", {}, `${job.created_at} UTC`),
        job.metadata ? [h("dt", {}, "Metadata"), h("dd", {}, JSON.stringify(job.metadata))] : null,
      ),
      h("div", { class: "downloads" }, downloads),
    ),
    player
      ? h("div", { class: "player" }, player)
      : h("p", { class: "muted" }, "The audio player appears for calls uploaded from this browser tab, or sent with a redacted copy kept."),
    h("section", { class: "card", "aria-labelledby": "timeline-title" }, h("h2", { id: "timeline-title" }, "Timeline"), timeline),
    h(
      "div",
      { class: "call-body" },
      h("section", { class: "card", "aria-labelledby": "transcript-title" }, h("h2", { id: "transcript-title" }, "Transcript"), transcript),
      h("div", { class: "cards" }, categoriesCard(result, pick), scorecardCard(result, pick), metricsCard(result), analysisCards(analysis)),
    ),
  );
}

// --- jobs ----------------------------------------------------------------------------------------

function jobsHash(page, category) {
  return `#/jobs/${page}${category ? `?category=${encodeURIComponent(category)}` : ""}`;
}

async function viewJobs(pageText, categoryText) {
  const token = viewToken;
  const page = Math.max(1, Number(pageText || 1));
  const category = categoryText ? decodeURIComponent(categoryText) : "";
  show(h("h1", {}, "Jobs"), h("p", { class: "muted" }, "Loading…"));
  let jobs;
  let categories;
  try {
    const offset = (page - 1) * JOBS_PER_PAGE;
    const only = category ? `&category=${encodeURIComponent(category)}` : "";
    [jobs, categories] = await Promise.all([
      api(`/v1/jobs?limit=${JOBS_PER_PAGE + 1}&offset=${offset}${only}`).then((r) => r.jobs),
      api("/v1/categories").then((r) => r.categories),
    ]);
  } catch (error) {
    return show(h("h1", {}, "Jobs"), failure(error));
  }
  if (token !== viewToken) return;
  const filter = h("select", { id: "category-filter" },
    h("option", { value: "" }, "All calls"),
    categories.map((c) => h("option", { value: c.name, selected: c.name === category }, c.name)));
  filter.addEventListener("change", () => (location.hash = jobsHash(1, filter.value)));
  const more = jobs.length > JOBS_PER_PAGE;
  const rows = jobs.slice(0, JOBS_PER_PAGE).map((job) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/calls/${job.id}` }, job.created_at)),
      h("td", {}, badge(job.status, job.status)),
      h("td", {}, job.type),
      h("td", { class: "num" }, job.duration_seconds === null ? "—" : clock(job.duration_seconds)),
      h("td", { class: "num" }, dollars(job.cost_cents)),
    ),
  );
  show(
    h("h1", {}, "Jobs"),
    h("div", { class: "filter" }, h("label", { for: "category-filter" }, "Category"), filter),
    rows.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { id: "jobs" },
            h("caption", { class: "visually-hidden" }, `Jobs, page ${page}`),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Created (UTC)", "Status", "Type", "Duration", "Cost"].map((t, i) => h("th", { scope: "col", class: i > 2 ? "num" : null }, t)),
              ),
            ),
            h("tbody", {}, rows),
          ),
        )
      : h("p", { class: "muted" }, page > 1 ? "No more jobs." : category ? "No call in this category." : "No jobs yet: upload a call."),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      page > 1 ? h("a", { href: jobsHash(page - 1, category), id: "prev-page", class: "button secondary" }, "← Newer") : null,
      h("span", { id: "page-number" }, `Page ${page}`),
      more ? h("a", { href: jobsHash(page + 1, category), id: "next-page", class: "button secondary" }, "Older →") : null,
    ),
  );
}

// --- categories ----------------------------------------------------------------------------------

const EXAMPLE_RULES = [
  { type: "phrases", match: "meaning", participant: "Customer", phrases: ["I want to cancel my account"] },
  { type: "phrases", match: "meaning", participant: "Agent", negate: true, phrases: ["I can offer you a discount"] },
];

async function viewCategories() {
  const token = viewToken;
  show(h("h1", {}, "Categories"), h("p", { class: "muted" }, "Loading…"));
  let categories;
  let jobs;
  try {
    [categories, jobs] = await Promise.all([
      api("/v1/categories").then((r) => r.categories),
      api("/v1/jobs?limit=50").then((r) => r.jobs.filter((job) => job.status === "completed")),
    ]);
  } catch (error) {
    return show(h("h1", {}, "Categories"), failure(error));
  }
  if (token !== viewToken) return;

  let editing = null;
  const name = h("input", { id: "category-name", maxlength: "100", autocomplete: "off", required: true });
  const rules = h("textarea", { id: "category-rules", rows: "12", spellcheck: "false", class: "code" });
  const heading = h("h2", { id: "editor-title" }, "New category");
  const errorBox = h("p", { class: "error", role: "alert", id: "category-error" });
  const previewBox = h("div", { id: "preview-result", "aria-live": "polite" });
  const callPicker = h("select", { id: "preview-job" },
    jobs.length ? jobs.map((job) => h("option", { value: job.id }, `${job.created_at} · ${job.duration_seconds === null ? "–" : clock(job.duration_seconds)}`))
      : h("option", { value: "" }, "No completed call yet"));
  const load = (category) => {
    editing = category;
    heading.textContent = category ? `Edit “${category.name}”` : "New category";
    name.value = category ? category.name : "";
    rules.value = JSON.stringify(category ? category.rules : EXAMPLE_RULES, null, 2);
    errorBox.textContent = "";
    previewBox.replaceChildren();
  };
  const definition = () => {
    let parsed;
    try {
      parsed = JSON.parse(rules.value);
    } catch (error) {
      throw new Error(`The rules are not valid JSON: ${error.message}`);
    }
    return { name: name.value.trim(), rules: parsed };
  };
  const act = (button, work) => async () => {
    errorBox.textContent = "";
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      errorBox.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  };

  const previewButton = h("button", { type: "button", id: "preview", class: "secondary", disabled: !jobs.length }, "Preview on this call");
  previewButton.addEventListener("click", act(previewButton, async () => {
    const jobId = callPicker.value;
    const shown = await api("/v1/categories/preview", { method: "POST", json: { job_id: jobId, category: definition() } });
    const seek = () => (location.hash = `#/calls/${jobId}`);
    previewBox.replaceChildren(
      h("p", { id: "preview-verdict" }, badge(shown.matched ? "matched" : "not matched", shown.matched ? "completed" : "failed")),
      h("ol", { class: "answers" }, shown.rules.map((rule, index) =>
        h("li", { class: "rule-outcome" }, badge(rule.held ? "holds" : "fails", rule.held ? "completed" : "failed"),
          ` Rule ${index + 1}: ${rule.negate ? "not " : ""}${rule.type.replaceAll("_", " ")}`,
          evidenceList([{ ...rule, negate: false }], seek)))),
    );
  }));
  const save = h("button", { type: "submit", class: "primary", id: "save-category" }, "Save");
  const form = h("form", { id: "category-form", class: "card", "aria-labelledby": "editor-title" },
    heading,
    h("label", { for: "category-name" }, "Name"), name,
    h("label", { for: "category-rules" }, "Rules (JSON: every rule must hold; see the README for the rule language)"), rules,
    h("label", { for: "preview-job" }, "Try it on a past call"),
    h("div", { class: "preview-row" }, callPicker, previewButton),
    previewBox,
    save, " ",
    h("button", { type: "button", class: "secondary", id: "new-category", onclick: () => load(null) }, "New"),
    errorBox,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(save, async () => {
      const body = definition();
      if (editing) await api(`/v1/categories/${editing.id}`, { method: "PUT", json: body });
      else await api("/v1/categories", { method: "POST", json: body });
      say(`Saved “${body.name}”. Calls completed from now on are matched; older ones with “Run categories again”.`);
      if (token === viewToken) viewCategories();
    })();
  });

  const rows = categories.map((category) => {
    const edit = h("button", { type: "button", class: "link", onclick: () => load(category) }, "Edit");
    const remove = h("button", { type: "button", class: "link" }, "Delete");
    remove.addEventListener("click", act(remove, async () => {
      await api(`/v1/categories/${category.id}`, { method: "DELETE" });
      say(`Deleted “${category.name}”.`);
      if (token === viewToken) viewCategories();
    }));
    return h("tr", {},
      h("td", {}, h("a", { href: jobsHash(1, category.name) }, category.name)),
      h("td", { class: "num" }, String(category.rules.length)),
      h("td", {}, edit, " ", remove));
  });
  load(null);
  show(
    h("h1", {}, "Categories"),
    rows.length
      ? h("div", { class: "table-wrap" }, h("table", { id: "categories" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col", class: "num" }, "Rules"), h("th", { scope: "col" }, ""))),
          h("tbody", {}, rows)))
      : h("p", { class: "muted" }, "No categories yet."),
    form,
  );
}

// --- balance -------------------------------------------------------------------------------------

async function startCheckout(amountCents, button, status) {
  button.disabled = true;
  status.textContent = "";
  const here = `${location.origin}${location.pathname}`;
  try {
    const session = await api("/billing/checkout", {
      method: "POST",
      json: {
        amount_cents: amountCents,
        success_url: `${here}#/balance?topup=success`,
        cancel_url: `${here}#/balance?topup=cancelled`,
      },
    });
    location.assign(session.checkout_url);
  } catch (error) {
    status.textContent = error.status === 503 ? "Top-ups are not configured on this server." : error.message;
    button.disabled = false;
  }
}

async function viewBalance() {
  const token = viewToken;
  show(h("h1", {}, "Balance"), h("p", { class: "muted" }, "Loading…"));
  let balance, products;
  try {
    [balance, products] = await Promise.all([api("/v1/balance"), api("/billing/products")]);
  } catch (error) {
    return show(h("h1", {}, "Balance"), failure(error));
  }
  if (token !== viewToken) return;
  const outcome = new URLSearchParams(location.hash.split("?")[1] || "").get("topup");
  const status = h("p", { class: "error", role: "alert", id: "topup-status" });
  show(
    h("h1", {}, "Balance"),
    outcome === "success" ? h("p", { class: "notice" }, "Payment received. The credit appears as soon as Stripe confirms it.") : null,
    outcome === "cancelled" ? h("p", { class: "notice" }, "The top-up was cancelled; nothing was charged.") : null,
    h(
      "section",
      { class: "card" },
      h("p", { class: "balance", id: "balance" }, `$${balance.balance_dollars}`),
      balance.expired ? h("p", {}, badge("credits expired: top up to continue", "warn")) : null,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "topups-title" },
      h("h2", { id: "topups-title" }, "Recent top-ups"),
      balance.recent_topups.length
        ? h(
            "table",
            { id: "topups" },
            h("thead", {}, h("tr", {}, ["Date (UTC)", "Paid", "Bonus"].map((t, i) => h("th", { scope: "col", class: i ? "num" : null }, t)))),
            h("tbody", {}, balance.recent_topups.map((t) => h("tr", {}, h("td", {}, t.created_at), h("td", { class: "num" }, dollars(t.amount_cents)), h("td", { class: "num" }, dollars(t.bonus_cents))))),
          )
        : h("p", { class: "muted" }, "No top-ups yet."),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "products-title" },
      h("h2", { id: "products-title" }, "Top up"),
      h(
        "ul",
        { class: "products", id: "products" },
        products.products.map((p) => {
          const button = h("button", { type: "button", class: "primary" }, `Top up $${p.amount_dollars}`);
          button.addEventListener("click", () => startCheckout(p.amount_cents, button, status));
          return h(
            "li",
            {},
            h("strong", {}, `$${p.amount_dollars}`),
            h("span", {}, p.bonus_cents ? `+${dollars(p.bonus_cents)} bonus: $${p.total_credit_dollars} of credit` : `$${p.total_credit_dollars} of credit`),
            button,
          );
        }),
      ),
      status,
      h("p", { class: "muted small" }, products.note),
    ),
  );
}

// --- live: a file played to WebSocket /v1/stream in real time --------------------------------

const LIVE_RATE = 16000;
const LIVE_FRAME_SECONDS = 0.1;
let liveSocket = null;

function stopLive() {
  if (liveSocket && liveSocket.readyState <= WebSocket.OPEN) liveSocket.close();
  liveSocket = null;
}

// The file as 16 kHz mono 16-bit samples, decoded and resampled by the browser.
async function pcm16(file) {
  const decoded = await new AudioContext().decodeAudioData(await file.arrayBuffer());
  const frames = Math.ceil(decoded.duration * LIVE_RATE);
  const offline = new OfflineAudioContext(1, frames, LIVE_RATE);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const samples = (await offline.startRendering()).getChannelData(0);
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i += 1) out[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767)));
  return out;
}

function streamUrl(token) {
  const url = new URL(`${API_BASE}/v1/stream`, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token);
  return url.toString();
}

function viewLive() {
  const token = viewToken;
  const fileInput = h("input", { type: "file", id: "live-file", accept: "audio/*,.mp3,.wav,.m4a,.flac,.ogg,.webm" });
  const start = h("button", { type: "button", class: "primary", id: "live-start", disabled: true }, "Play it live");
  const state = h("p", { id: "live-state", "aria-live": "polite" }, "Choose a recording: it is sent as if the call were happening now.");
  const finals = h("div", { id: "live-finals", class: "transcript" });
  const partial = h("p", { id: "live-partial", class: "muted" });
  const result = h("p", { id: "live-result" });
  const byRole = h("section", { id: "live-roles", class: "card", hidden: true });
  const errorBox = h("p", { class: "error", role: "alert", id: "live-error" });
  let lastSpeaker = null;
  let line = null;

  const addFinal = (words) => {
    for (const w of words) {
      const who = w.role || w.speaker || "";
      if (!line || who !== lastSpeaker) {
        lastSpeaker = who;
        line = h("p", { class: "live-line" }, who ? h("strong", {}, `${who}: `) : null);
        finals.append(line);
      }
      line.append(h("span", { class: w.word.includes("*") ? "masked" : null, title: `${clock(w.start)}` }, `${w.word} `));
    }
  };

  fileInput.addEventListener("change", () => {
    start.disabled = !fileInput.files[0];
  });
  start.addEventListener("click", async () => {
    stopLive();
    start.disabled = true;
    errorBox.textContent = "";
    finals.replaceChildren();
    partial.textContent = "";
    result.replaceChildren();
    byRole.replaceChildren();
    byRole.hidden = true;
    line = null;
    try {
      state.textContent = "Decoding the recording…";
      const samples = await pcm16(fileInput.files[0]);
      const { token: ticket } = await api("/v1/stream/tokens", { method: "POST" });
      if (token !== viewToken) return;
      const socket = new WebSocket(streamUrl(ticket));
      liveSocket = socket;
      socket.binaryType = "arraybuffer";
      socket.addEventListener("message", (event) => {
        const message = JSON.parse(event.data);
        if (message.type === "final") addFinal(message.words);
        else if (message.type === "partial") partial.textContent = message.text;
        else if (message.type === "error") errorBox.textContent = message.error.message;
        else if (message.type === "result") {
          partial.textContent = "";
          // A one-channel call's speakers are known at its end: the call again, by role.
          const turns = [];
          for (const segment of message.segments) {
            const last = turns[turns.length - 1];
            if (last && last.speaker === segment.speaker) last.text += ` ${segment.text}`;
            else turns.push({ speaker: segment.speaker, text: segment.text });
          }
          byRole.hidden = false;
          byRole.replaceChildren(
            h("h2", {}, "The call, by role"),
            ...turns.map((turn) => h("p", {}, h("strong", {}, `${message.roles[turn.speaker] || turn.speaker}: `), turn.text)),
          );
          state.textContent = `Finished: ${clock(message.duration_seconds)} heard, ${dollars(message.cost_cents)} charged.`;
          result.replaceChildren(h("a", { href: `#/calls/${message.job_id}`, id: "live-call-link" }, "Open the call"));
        }
      });
      socket.addEventListener("close", () => {
        start.disabled = false;
      });
      await new Promise((resolve, reject) => {
        socket.addEventListener("open", resolve, { once: true });
        socket.addEventListener("error", () => reject(new Error("The live connection failed.")), { once: true });
      });
      state.textContent = "Live: sending the call in real time…";
      const frame = LIVE_RATE * LIVE_FRAME_SECONDS;
      const began = performance.now();
      for (let first = 0, n = 1; first < samples.length; first += frame, n += 1) {
        if (socket.readyState !== WebSocket.OPEN) return;
        socket.send(samples.slice(first, first + frame).buffer);
        const wait = began + n * LIVE_FRAME_SECONDS * 1000 - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "stop" }));
        state.textContent = "The call has ended; finishing the analysis…";
      }
    } catch (error) {
      errorBox.textContent = error.message;
      start.disabled = false;
    }
  });

  show(
    h("h1", {}, "Live"),
    h(
      "section",
      { class: "card" },
      h("label", { for: "live-file" }, "Recording"),
      fileInput,
      start,
      state,
      errorBox,
    ),
    h("section", { class: "card" }, h("h2", {}, "Heard so far"), finals, partial, result),
    byRole,
  );
}

// --- routing -------------------------------------------------------------------------------------

const ROUTES = [
  [/^#\/upload$/, viewUpload, "upload"],
  [/^#\/jobs(?:\/(\d+))?(?:\?category=(.*))?$/, viewJobs, "jobs"],
  [/^#\/categories$/, viewCategories, "categories"],
  [/^#\/live$/, viewLive, "live"],
  [/^#\/calls\/([\w-]+)$/, viewCall, "jobs"],
  [/^#\/balance(?:\?.*)?$/, viewBalance, "balance"],
];

function route() {
  viewToken += 1;
  stopPolling();
  stopLive();
  if (!getKey()) return viewSignIn();
  nav.hidden = false;
  for (const [pattern, view, section] of ROUTES) {
    const match = location.hash.match(pattern);
    if (!match) continue;
    for (const link of nav.querySelectorAll("a")) {
      if (link.dataset.route === section) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    view(...match.slice(1));
    return;
  }
  location.replace("#/upload");
}

document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));
window.addEventListener("hashchange", route);
route();
