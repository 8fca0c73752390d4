"use strict";
const $ = (selector) => document.querySelector(selector);
const text = (value) => document.createTextNode(value == null ? "" : String(value));
function cell(row, value, className) {
  const td = row.insertCell();
  td.append(text(value));
  if (className) td.className = className;
  return td;
}
// ---- Times as people read them ---------------------------------------------
const parseTime = (s) => Date.parse(s.endsWith("Z") ? s : s + "Z");
/** "3 min ago" (or "in 2 h" for a time to come). */
function ago(iso, now = Date.now()) {
  const seconds = Math.round((now - parseTime(iso)) / 1000);
  const size = Math.abs(seconds);
  const [n, unit] = size < 45 ? [0, ""] : size < 3600 ? [Math.round(size / 60), "min"]
    : size < 86400 ? [Math.round(size / 3600), "h"] : [Math.round(size / 86400), "d"];
  if (!unit) return seconds >= 0 ? "just now" : "in a moment";
  return seconds >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}
/** A <time>: relative, the local date and time on hover. */
function when(iso) {
  const element = document.createElement("time");
  if (!iso) { element.append(text("-")); return element; }
  element.dateTime = iso;
  element.title = new Date(parseTime(iso)).toLocaleString();
  element.append(text(ago(iso)));
  return element;
}
function timeCell(row, iso, className) {
  const td = row.insertCell();
  td.append(when(iso));
  if (className) td.className = className;
  return td;
}
// Relative times age: each is said again every 20 s.
setInterval(() => {
  for (const element of document.querySelectorAll("time[datetime]")) {
    element.replaceChildren(text(ago(element.dateTime)));
  }
}, 20000);

/** A value as a key–value table (nested values inside), its JSON one click away. */
function valueView(value) {
  const box = document.createElement("div");
  box.className = "value";
  const table = (v) => {
    if (v === null || typeof v !== "object") {
      const span = document.createElement("span");
      span.append(text(v === null ? "null" : typeof v === "string" ? v : JSON.stringify(v)));
      return span;
    }
    const t = document.createElement("table");
    t.className = "kv";
    const entries = Array.isArray(v) ? v.map((item, i) => [String(i + 1), item]) : Object.entries(v);
    for (const [key, item] of entries) {
      const row = t.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.append(text(key));
      row.append(th);
      row.insertCell().append(table(item));
    }
    return t;
  };
  box.append(table(value));
  const raw = document.createElement("details");
  const summary = document.createElement("summary");
  summary.append(text("Raw JSON"));
  const pre = document.createElement("pre");
  pre.append(text(JSON.stringify(value, null, 2)));
  raw.append(summary, pre);
  box.append(raw);
  return box;
}

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// ---- Tabs -----------------------------------------------------------------
for (const tab of document.querySelectorAll("[role=tab]")) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll("[role=tab]")) {
      other.setAttribute("aria-selected", String(other === tab));
      $("#" + other.dataset.panel).hidden = other !== tab;
    }
    if (tab.dataset.panel === "management") {
      loadWorkflows(); loadTemplates(); loadStats(); loadGoals(); loadMetrics(); loadFailures(); loadHistory(true);
    }
  });
}

// ---- The trigger form, generated from the input's JSON Schema --------------
let workflows = [];
const optional = (schema) => Array.isArray(schema.anyOf) && schema.anyOf.some((s) => s.type === "null");
const required = (schema) => optional(schema) ? schema.anyOf.find((s) => s.type !== "null") : schema;

// Why `value` does not fit `schema` (the same rules the API applies), or null.
function mismatch(schema, value, path) {
  if (value === null) return optional(schema) || schema.type === "null" ? null : `${path} is missing`;
  const wanted = required(schema);
  switch (wanted.type) {
    case "number": return typeof value === "number" && isFinite(value) ? null : `${path} must be a number`;
    case "string": return typeof value === "string" ? null : `${path} must be a string`;
    case "boolean": return typeof value === "boolean" ? null : `${path} must be true or false`;
    case "array":
      if (!Array.isArray(value)) return `${path} must be a list`;
      for (const [i, item] of value.entries()) {
        const problem = mismatch(wanted.items || {}, item, `${path}[${i}]`);
        if (problem) return problem;
      }
      return null;
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return `${path} must be an object`;
      for (const [name, field] of Object.entries(wanted.properties || {})) {
        const problem = mismatch(field, name in value ? value[name] : null, path ? `${path}.${name}` : name);
        if (problem) return problem;
      }
      return null;
    }
    default: return null;
  }
}

function renderForm() {
  const workflow = workflows.find((w) => w.name === $("#run-workflow").value);
  const fields = $("#run-fields");
  fields.replaceChildren();
  $("#run-message").replaceChildren();
  if (workflow && workflow.input) fields.append(...fieldsFor(workflow.input));
  if (workflow && workflow.missing_secrets.length) {
    $("#run-message").append(text("Cannot run here: " + workflow.missing_secrets.join("; ")));
    $("#run-message").className = "error";
  }
}

function field(name, schema) {
  const label = document.createElement("label");
  const caption = document.createElement("span");
  caption.append(text(optional(schema) ? `${name} (optional)` : name));
  const type = required(schema).type;
  let input;
  if (type === "boolean") {
    input = document.createElement("input");
    input.type = "checkbox";
  } else if (type === "number" || type === "string") {
    input = document.createElement("input");
    input.type = "text";
    if (type === "number") input.inputMode = "decimal";
  } else {
    input = document.createElement("textarea");
    input.placeholder = "JSON";
  }
  input.name = name;
  input.dataset.kind = type || "json";
  const problem = document.createElement("span");
  problem.className = "error";
  problem.setAttribute("role", "alert");
  label.append(caption, input, problem);
  return label;
}

// The value of the fields in `container` generated from `shape`, or the
// problem of each field that does not fit.
function formValue(container, shape) {
  const value = {};
  const problems = [];
  for (const input of container.querySelectorAll("input[data-kind], textarea[data-kind]")) {
    const name = input.name;
    const schema = shape.properties ? shape.properties[name] : shape;
    let v = null;
    if (input.dataset.kind === "boolean") v = input.checked;
    else if (input.value.trim() === "") v = null;
    else if (input.dataset.kind === "number") v = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(input.value.trim()) ? Number(input.value) : input.value;
    else if (input.dataset.kind === "string") v = input.value;
    else {
      try { v = JSON.parse(input.value); } catch (e) { problems.push([input, `${name} is not JSON: ${e.message}`]); continue; }
    }
    const problem = mismatch(schema, v, name);
    if (problem) problems.push([input, problem]);
    if (v !== null) value[name] = v;
  }
  return { value: shape.properties ? value : value.input, problems };
}

// One field per property of `shape` (one JSON field when it has none).
function fieldsFor(shape) {
  if (shape && !shape.properties) return [field("input", shape)];
  return Object.entries((shape && shape.properties) || {}).map(([name, schema]) => field(name, schema));
}

$("#run-workflow").addEventListener("change", renderForm);
$("#run-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const workflow = workflows.find((w) => w.name === $("#run-workflow").value);
  if (!workflow) return;
  for (const alert of $("#run-fields").querySelectorAll("[role=alert]")) alert.replaceChildren();
  const message = $("#run-message");
  message.replaceChildren();
  let input = {};
  if (workflow.input) {
    const { value, problems } = formValue($("#run-fields"), workflow.input);
    if (problems.length) {
      for (const [field, problem] of problems) field.nextElementSibling.append(text(problem));
      message.className = "error";
      message.append(text("Not sent: fix the fields above."));
      return;
    }
    input = value === undefined ? null : value;
  }
  try {
    const started = await api(`/workflows/${encodeURIComponent(workflow.name)}/runs`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(input),
    });
    message.className = "";
    message.append(text(`Started ${started.execution}`));
    showExecution(started.execution);
  } catch (error) {
    message.className = "error";
    message.append(text(error.message));
  }
});

// ---- Waiting for a decision: a form per waiting step, from its shape --------
const waitCards = new Map();
const left = (ms) => {
  const minutes = Math.floor(ms / 60000);
  if (ms < 60000) return `${Math.ceil(ms / 1000)} s left`;
  if (minutes < 120) return `${minutes} min left`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min left` : `${Math.floor(hours / 24)} d ${hours % 24} h left`;
};
function waitCard(wait) {
  const card = document.createElement("form");
  card.className = "wait";
  card.noValidate = true;
  const title = document.createElement("h3");
  const link = document.createElement("a");
  link.href = "#";
  link.append(text(wait.execution_id.slice(-8)));
  link.addEventListener("click", (event) => { event.preventDefault(); showExecution(wait.execution_id); });
  title.append(text(`${wait.workflow} · ${wait.step} `), link);
  const what = document.createElement("p");
  what.append(text(`Waits for "${wait.pattern}"` + (wait.condition ? ` where ${wait.condition}` : "") + ` — ${wait.shape}`));
  const time = document.createElement("p");
  time.className = "muted left";
  const fields = document.createElement("div");
  fields.className = "wait-fields";
  fields.append(...fieldsFor(wait.schema));
  const by = document.createElement("label");
  const caption = document.createElement("span");
  caption.append(text("Your name (recorded as you give it)"));
  const name = document.createElement("input");
  name.type = "text";
  name.name = "by";
  by.append(caption, name);
  const send = document.createElement("button");
  send.type = "submit";
  send.append(text("Decide"));
  const message = document.createElement("p");
  message.setAttribute("role", "status");
  card.append(title, what, time, fields, by, send, message);
  card.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const alert of fields.querySelectorAll("[role=alert]")) alert.replaceChildren();
    message.replaceChildren();
    const { value, problems } = formValue(fields, wait.schema);
    if (problems.length) {
      for (const [input, problem] of problems) input.nextElementSibling.append(text(problem));
      message.className = "error";
      message.append(text("Not sent: fix the fields above."));
      return;
    }
    const path = `/executions/${encodeURIComponent(wait.execution_id)}/waits/${encodeURIComponent(wait.step)}`;
    try {
      await api(path, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ decision: value === undefined ? null : value, by: name.value || null, from: "dashboard" }),
      });
      message.className = "";
      message.append(text("Decided; the execution goes on."));
      send.disabled = true;
      loadWaitsSoon();
    } catch (error) {
      message.className = "error";
      message.append(text(error.message));
    }
  });
  return card;
}
async function loadWaits() {
  const { waits } = await api("/waits");
  const seen = new Set();
  for (const wait of waits) {
    const key = `${wait.execution_id} ${wait.step}`;
    seen.add(key);
    let card = waitCards.get(key);
    if (!card) {
      card = waitCard(wait);
      waitCards.set(key, card);
      $("#waits").append(card);
    }
    card.querySelector(".left").replaceChildren(text(`${left(wait.left_ms)} (until ${wait.until})`));
  }
  // Answered here or elsewhere (the CLI, the API, an event), or timed out.
  for (const [key, card] of waitCards) {
    if (!seen.has(key)) { card.remove(); waitCards.delete(key); }
  }
  $("#waits-empty").hidden = waits.length > 0;
}
let waitsPending = false;
function loadWaitsSoon() {
  if (waitsPending) return;
  waitsPending = true;
  setTimeout(() => { waitsPending = false; loadWaits().catch(() => {}); }, 200);
}

// ---- Live executions --------------------------------------------------------
const rows = new Map();
let selected = null;
function connect() {
  const source = new EventSource("/stream");
  source.onopen = () => { $("#live").replaceChildren(text("live")); };
  source.onerror = () => { $("#live").replaceChildren(text("reconnecting…")); };
  source.addEventListener("execution", (event) => {
    const e = JSON.parse(event.data);
    let row = rows.get(e.id);
    if (!row) {
      row = document.createElement("tr");
      row.className = "pick";
      row.dataset.id = e.id;
      row.addEventListener("click", () => openExecution(e.id));
      rows.set(e.id, row);
      $("#executions tbody").prepend(row);
    }
    row.replaceChildren();
    cell(row, e.workflow);
    cell(row, e.id.slice(-8), "id");
    cell(row, e.status, "status " + e.status);
    cell(row, e.trigger || "-");
    timeCell(row, e.started_at);
    cell(row, e.running ? `${e.attempts} (${e.running} running)` : e.attempts);
    if (selected === e.id) showExecution(e.id);
    if (e.status === "failed") loadDeadLetters();
    loadAgentsSoon();
    loadWaitsSoon();
    if (e.status !== "running") refreshManagementSoon();
  });
}

// A finished execution moves the figures of the management tab, when it is shown.
let managementPending = false;
function refreshManagementSoon() {
  if (managementPending || $("#management").hidden) return;
  managementPending = true;
  setTimeout(() => {
    managementPending = false;
    loadStats(); loadGoals(); loadMetrics(); loadFailures();
  }, 1000);
}

// Agents' load changes with every step; one look per half second is enough.
let agentsPending = false;
function loadAgentsSoon() {
  if (agentsPending) return;
  agentsPending = true;
  setTimeout(() => { agentsPending = false; loadAgents(); }, 500);
}
async function loadAgents() {
  const agents = (await api("/agents")).agents;
  const body = $("#agents tbody");
  body.replaceChildren();
  for (const agent of agents) {
    const row = body.insertRow();
    row.dataset.agent = agent.name;
    cell(row, agent.name);
    cell(row, agent.department || "-");
    const pools = cell(row, agent.skills.length ? "" : "-", "pools");
    const excluded = new Set(agent.excluded.map(([skill]) => skill));
    for (const skill of agent.skills) {
      const out = excluded.has(skill);
      const line = document.createElement("div");
      line.append(text(out ? `${skill}: left out ` : `${skill} `));
      line.append(assignButton(agent.name, out ? "include" : "exclude", skill,
        out ? `Put back` : `Leave out`, `${out ? "put back" : "leave out"} ${agent.name} ${out ? "into" : "from"} ${skill}`));
      pools.append(line);
    }
    cell(row, agent.capacity ? `${agent.in_flight} / ${agent.capacity}` : String(agent.in_flight), "load");
    const b = agent.breaker;
    cell(row, !b ? "-" : b.state === "closed" ? "closed" : `${b.state}, trial at ${b.trial_at}`, "breaker");
    const state = cell(row, "", "assignment");
    const p = agent.paused;
    state.append(text(p ? `paused by ${p.by} since ${p.at}` : "taking calls"));
    if (agent.waiting) state.append(text(`; ${agent.waiting} call(s) waiting`));
    state.append(" ", p
      ? assignButton(agent.name, "resume", null, "Resume", `resume ${agent.name}`)
      : assignButton(agent.name, "pause", null, "Pause", `pause ${agent.name}`));
  }
}

// Who changes an assignment is recorded with it; the name is remembered here.
$("#assigner").value = localStorage.getItem("wfc-assigner") || "";
$("#assigner").addEventListener("change", () => localStorage.setItem("wfc-assigner", $("#assigner").value));

/** A button that makes `change` to `agent` (for `skill`), then shows the result. */
function assignButton(agent, change, skill, label, described) {
  const button = document.createElement("button");
  button.append(text(label));
  button.setAttribute("aria-label", described);
  button.addEventListener("click", async () => {
    $("#agents-message").replaceChildren();
    const by = $("#assigner").value.trim();
    if (!by) {
      $("#agents-message").append(text("Give your name first: it is recorded with the change."));
      $("#assigner").focus();
      return;
    }
    try {
      await api(`/agents/${encodeURIComponent(agent)}/${change}`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ by, skill }),
      });
    } catch (error) {
      $("#agents-message").append(text(error.message));
    }
    loadAgents();
  });
  return button;
}

async function loadDeadLetters() {
  const letters = (await api("/dead-letters")).dead_letters;
  const body = $("#dead-letters tbody");
  body.replaceChildren();
  $("#dead-letters-empty").hidden = letters.length > 0;
  for (const letter of letters) {
    const row = body.insertRow();
    row.dataset.id = String(letter.id);
    cell(row, letter.id);
    cell(row, letter.workflow);
    timeCell(row, letter.created_at);
    // The root cause first; what failed it last, when that differs, after it.
    const last = letter.error && letter.error.message;
    cell(row, letter.root_cause && letter.root_cause !== last ? `${letter.root_cause} (last: ${last})` : last);
    cell(row, letter.replayed_by ? letter.replayed_by.slice(-8) : "-");
    const actions = row.insertCell();
    const replay = document.createElement("button");
    replay.append(text("Replay"));
    replay.addEventListener("click", async () => {
      try {
        const started = await api(`/dead-letters/${letter.id}/replay`, { method: "POST" });
        showExecution(started.execution);
      } catch (error) { alert(error.message); }
      loadDeadLetters();
    });
    const drop = document.createElement("button");
    drop.append(text("Drop"));
    drop.addEventListener("click", async () => {
      if (!confirm(`Drop dead letter ${letter.id}? Its input is lost.`)) return;
      try { await api(`/dead-letters/${letter.id}/drop`, { method: "POST" }); }
      catch (error) { alert(error.message); }
      loadDeadLetters();
    });
    if (letter.served) actions.append(replay, drop);
    else actions.append(text("not served here "), drop);
  }
}

/** Opens an execution's detail where the user is, with a link of its own. */
function openExecution(id) {
  if (location.hash !== `#execution=${id}`) history.pushState(null, "", `#execution=${id}`);
  showExecution(id).then(() => {
    $("#detail").scrollIntoView({ block: "start" });
    $("#detail-close").focus({ preventScroll: true });
  }).catch(() => {});
}
/** Opens what the page's link names: `#execution=ID`, `#workflow=NAME`, or
 * `#diff=NAME&from=BLOB&to=BLOB` (the diff query, as the API takes it). */
async function openFromLink() {
  const execution = location.hash.match(/^#execution=([0-9a-zA-Z-]+)$/);
  if (execution) {
    // The detail is on the Coordination tab.
    if ($("#coordination").hidden) $("#tab-coordination").click();
    openExecution(execution[1]);
    return;
  }
  const workflow = location.hash.match(/^#workflow=([A-Za-z_][A-Za-z0-9_]*)$/);
  const diff = location.hash.match(/^#diff=([A-Za-z_][A-Za-z0-9_]*)&(.+)$/);
  if (!workflow && !diff) return;
  if ($("#management").hidden) $("#tab-management").click();
  await loadWorkflows().catch(() => {});
  if (workflow) {
    const row = document.querySelector(`#workflows tr[data-workflow="${workflow[1]}"]`);
    if (row) { row.classList.add("linked"); row.scrollIntoView({ block: "center" }); }
  } else {
    await showDiff(diff[1], new URLSearchParams(diff[2]));
    $("#source").scrollIntoView({ block: "start" });
  }
}
window.addEventListener("hashchange", openFromLink);
function closeExecution() {
  $("#detail").hidden = true;
  selected = null;
  if (location.hash.startsWith("#execution=")) history.pushState(null, "", location.pathname);
}
$("#detail-close").addEventListener("click", closeExecution);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !$("#detail").hidden) closeExecution();
});

async function showExecution(id) {
  selected = id;
  const timeline = await api(`/executions/${encodeURIComponent(id)}`);
  const execution = timeline.execution;
  $("#detail").hidden = false;
  $("#detail-id").replaceChildren(text(`${execution.workflow} · ${id.slice(-8)}`));
  $("#detail-id").title = id;
  $("#detail-started").replaceChildren(text("started "), when(execution.started_at),
    text(execution.duration_ms == null ? "" : `, took ${ms(execution.duration_ms)}`));
  const status = $("#detail-status");
  status.replaceChildren(text(execution.status));
  status.className = "status " + execution.status;
  const agents = [...new Set(timeline.attempts.map((a) => a.agent).filter(Boolean))];
  $("#detail-agents").replaceChildren(text(agents.join(", ") || "none yet"));
  $("#cancel").hidden = execution.status !== "running" && execution.status !== "queued";
  $("#cancel").dataset.id = id;
  gantt(execution, timeline.attempts);
  // A workflow this server does not serve has no graph here: say so instead.
  if (!workflows.length) await loadWorkflows().catch(() => {});
  const served = workflows.some((w) => w.name === execution.workflow);
  $("#graph-section").hidden = !served;
  $("#graph-note").hidden = served;
  $("#graph-note").replaceChildren(text(served ? "" :
    `Workflow ${execution.workflow} is not served by this server (its file is not loaded here): no graph, and it cannot be started or replayed from this page.`));
  if (served) drawGraph(execution.workflow, timeline.attempts).catch(() => $("#graph").replaceChildren());
  const outcome = execution.error ? execution.error : execution.result;
  $("#detail-outcome-title").hidden = outcome == null;
  $("#detail-outcome-title").replaceChildren(text(execution.error ? "Error" : "Result"));
  $("#detail-outcome").replaceChildren(...(outcome == null ? [] : [valueView(outcome)]));
  $("#detail-input").replaceChildren(valueView(execution.input));
}

// Each attempt a bar from its start to its end (or now), after its retry delay.
function gantt(execution, attempts) {
  const svg = $("#gantt");
  svg.replaceChildren();
  const t = (s) => Date.parse(s.endsWith("Z") ? s : s + "Z");
  const start = t(execution.started_at);
  const end = Math.max(execution.finished_at ? t(execution.finished_at) : Date.now(),
    ...attempts.map((a) => a.finished_at ? t(a.finished_at) : Date.now()), start + 1);
  const width = 800, label = 220, bar = 18, axis = 22;
  const height = axis + Math.max(1, attempts.length) * (bar + 4);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("height", String(height));
  const x = (ms) => label + (ms - start) / (end - start) * (width - label - 10);
  const ns = "http://www.w3.org/2000/svg";
  // The time axis: five ticks from the start, in the run's own time.
  for (let k = 0; k <= 4; k++) {
    const offset = (end - start) * k / 4;
    const tick = document.createElementNS(ns, "line");
    tick.setAttribute("x1", String(x(start + offset))); tick.setAttribute("x2", String(x(start + offset)));
    tick.setAttribute("y1", "14"); tick.setAttribute("y2", String(height));
    tick.setAttribute("class", "tick");
    const mark = document.createElementNS(ns, "text");
    mark.setAttribute("x", String(x(start + offset))); mark.setAttribute("y", "11");
    mark.setAttribute("text-anchor", k === 0 ? "start" : k === 4 ? "end" : "middle");
    mark.setAttribute("class", "tick-label");
    mark.append(text(ms(offset)));
    svg.append(tick, mark);
  }
  attempts.forEach((a, i) => {
    const y = axis + i * (bar + 4);
    const name = document.createElementNS(ns, "text");
    name.setAttribute("x", "0"); name.setAttribute("y", String(y + 13));
    name.append(text(`${a.step} #${a.attempt}`));
    const from = t(a.started_at), to = a.finished_at ? t(a.finished_at) : Date.now();
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", String(x(from))); rect.setAttribute("y", String(y));
    rect.setAttribute("width", String(Math.max(2, x(to) - x(from)))); rect.setAttribute("height", String(bar));
    rect.setAttribute("class", "bar " + a.status);
    rect.setAttribute("fill", a.status === "completed" ? "#1a7f37" : a.status === "running" ? "#0969da" : "#cf222e");
    const tip = document.createElementNS(ns, "title");
    tip.append(text(`${a.step} attempt ${a.attempt}: ${a.status}${a.error ? " — " + a.error : ""}`));
    rect.append(tip);
    svg.append(name, rect);
    if (a.delay_ms) {
      const wait = document.createElementNS(ns, "rect");
      wait.setAttribute("x", String(x(from - a.delay_ms))); wait.setAttribute("y", String(y + bar / 2 - 1));
      wait.setAttribute("width", String(Math.max(1, x(from) - x(from - a.delay_ms)))); wait.setAttribute("height", "2");
      wait.setAttribute("fill", "#8c959f");
      svg.append(wait);
    }
  });
}

$("#cancel").addEventListener("click", async () => {
  const id = $("#cancel").dataset.id;
  if (!confirm(`Cancel execution ${id}?`)) return;
  try { await api(`/executions/${encodeURIComponent(id)}/cancel`, { method: "POST" }); }
  catch (error) { alert(error.message); }
  showExecution(id);
});


// ---- The workflow's graph, laid out in ranks, its steps coloured -------------
const ns = "http://www.w3.org/2000/svg";
function svgNode(name, attributes, ...children) {
  const node = document.createElementNS(ns, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}
const graphs = new Map();
async function drawGraph(workflow, attempts) {
  if (!graphs.has(workflow)) graphs.set(workflow, await api(`/workflows/${encodeURIComponent(workflow)}/graph`));
  const { nodes, edges } = graphs.get(workflow);
  // A step's state from its attempts: running lights it; loop iterations share a node.
  const state = new Map();
  for (const a of attempts) {
    const step = a.step.replace(/\[\d+\]/g, "[]");
    const now = state.get(step);
    if (a.status === "running") state.set(step, "lit");
    else if (now !== "lit") state.set(step, a.status === "completed" ? "done" : "failed");
  }
  // Ranks: the longest path from a source, loops' back edges left out.
  const out = new Map(nodes.map((n) => [n.id, []]));
  const incoming = new Map(nodes.map((n) => [n.id, 0]));
  const back = new Set();
  const seen = new Set(), onPath = new Set();
  const visit = (id) => {
    seen.add(id); onPath.add(id);
    for (const e of edges.filter((e) => e.from === id)) {
      if (onPath.has(e.to)) { back.add(e); continue; }
      if (!seen.has(e.to)) visit(e.to);
    }
    onPath.delete(id);
  };
  for (const e of edges) incoming.set(e.to, incoming.get(e.to) + 1);
  for (const n of nodes) if (!incoming.get(n.id)) visit(n.id);
  for (const n of nodes) if (!seen.has(n.id)) visit(n.id);
  const forward = edges.filter((e) => !back.has(e));
  for (const e of forward) out.get(e.from).push(e.to);
  const rank = new Map();
  const rankOf = (id) => {
    if (rank.has(id)) return rank.get(id);
    rank.set(id, 0);
    const r = Math.max(0, ...forward.filter((e) => e.to === id).map((e) => rankOf(e.from) + 1));
    rank.set(id, r);
    return r;
  };
  const rows = [];
  for (const n of nodes) (rows[rankOf(n.id)] ||= []).push(n);
  const svg = $("#graph");
  svg.replaceChildren();
  // Every node as wide and tall as its whole label: measured as drawn, never cut.
  const size = new Map();
  for (const n of nodes) {
    const lines = n.label.split("\n");
    const probe = svgNode("text", { x: 0, y: 0 }, text(""));
    svg.append(probe);
    let longest = 0;
    for (const line of lines) {
      probe.textContent = line;
      longest = Math.max(longest, probe.getComputedTextLength());
    }
    probe.remove();
    size.set(n.id, [Math.max(150, Math.ceil(longest) + 16), 12 + lines.length * 14]);
  }
  const gapX = 20, gapY = 34;
  const rowWidth = (row) => row.reduce((sum, n) => sum + size.get(n.id)[0] + gapX, 0);
  const rowHeight = (row) => Math.max(...row.map((n) => size.get(n.id)[1]));
  const width = Math.max(...rows.map(rowWidth));
  const at = new Map();
  let top = 4;
  for (const row of rows) {
    let x = (width - rowWidth(row)) / 2 + gapX / 2;
    for (const n of row) {
      at.set(n.id, [x, top]);
      x += size.get(n.id)[0] + gapX;
    }
    top += rowHeight(row) + gapY;
  }
  svg.setAttribute("viewBox", `0 0 ${width} ${top}`);
  svg.setAttribute("height", String(Math.min(900, top)));
  for (const e of edges) {
    const [x1, y1] = at.get(e.from), [x2, y2] = at.get(e.to);
    const [w1, h1] = size.get(e.from), [w2, h2] = size.get(e.to);
    const d = back.has(e)
      ? `M${x1 + w1} ${y1 + h1 / 2} C${x1 + w1 + 40} ${y1 + h1 / 2} ${x2 + w2 + 40} ${y2 + h2 / 2} ${x2 + w2} ${y2 + h2 / 2}`
      : `M${x1 + w1 / 2} ${y1 + h1} L${x2 + w2 / 2} ${y2}`;
    const path = svgNode("path", { d, class: e.dashed ? "dashed" : "" });
    if (e.label) path.append(svgNode("title", {}, text(e.label)));
    svg.append(path);
  }
  for (const n of nodes) {
    const [x, y] = at.get(n.id);
    const [w, h] = size.get(n.id);
    const lines = n.label.split("\n");
    const g = svgNode("g", { class: `node ${n.step && state.get(n.step) || ""}`, "data-step": n.step || "" },
      svgNode("rect", { x, y, width: w, height: h, rx: n.shape === "rounded" ? 14 : n.shape === "diamond" ? 2 : 4 }),
      ...lines.map((line, i) => svgNode("text", { x: x + 8, y: y + 16 + i * 14 }, text(line))),
      svgNode("title", {}, text(n.label)));
    svg.append(g);
  }
}

// ---- Charts -------------------------------------------------------------------
// A line chart of `series` ([{ name, className, values }]) over `labels`.
/** The axes of a chart `width` wide: the value axis at 0, half and top (in
 * the series' own unit), a grid line for each, and time labels along the bottom. */
function axes(svg, { width, height, left, bottom, top, format, labels, x, y }) {
  for (const v of [0, top / 2, top]) {
    svg.append(svgNode("line", { class: v ? "grid" : "axis", x1: left, y1: y(v), x2: width - 10, y2: y(v) }),
      svgNode("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick-label" }, text(format(v))));
  }
  const count = labels.length;
  for (const i of [...new Set([0, Math.floor((count - 1) / 2), count - 1])].filter((i) => i >= 0)) {
    const anchor = i === 0 ? "start" : i === count - 1 ? "end" : "middle";
    svg.append(svgNode("text", { x: x(i), y: height - 4, "text-anchor": anchor, class: "tick-label" }, text(labels[i] || "")));
  }
}

function lineChart(title, labels, series, format) {
  // Drawn wide and scaled to the section's width.
  const width = 1100, height = 200, left = 70, bottom = 22;
  const values = series.flatMap((s) => s.values).filter((v) => v != null);
  const top = Math.max(1e-9, ...values);
  const x = (i) => left + i * (width - left - 10) / Math.max(1, labels.length - 1);
  const y = (v) => 8 + (height - bottom - 8) * (1 - v / top);
  const svg = svgNode("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": title });
  axes(svg, { width, height, left, bottom, top, format, labels, x, y });
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => v == null ? null : `${x(i)},${y(v)}`).filter(Boolean);
    if (points.length) svg.append(svgNode("polyline", { class: `line ${s.className}`, points: points.join(" ") }));
    for (const [i, v] of s.values.entries()) {
      if (v != null) svg.append(svgNode("circle", { cx: x(i), cy: y(v), r: 2.5, class: s.className, fill: "currentColor" },
        svgNode("title", {}, text(`${s.name} ${labels[i]}: ${format(v)}`))));
    }
    svg.append(svgNode("text", { x: left + 8 + k * 90, y: 18, class: s.className }, text(`— ${s.name}`)));
  });
  const figure = document.createElement("figure");
  const caption = document.createElement("figcaption");
  caption.append(text(title));
  figure.append(caption, svg);
  return figure;
}

// Stacked bars of completed and failed runs per stretch, success rate on hover.
function outcomeChart(buckets, labels) {
  const width = 1100, height = 160, left = 70, bottom = 22;
  const top = Math.max(1, ...buckets.map((b) => b.completed + b.failed));
  const step = (width - left - 10) / buckets.length;
  const scale = (v) => (height - bottom - 8) * v / top;
  const svg = svgNode("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": "success rate over time" });
  axes(svg, {
    width, height, left, bottom, top, labels,
    format: (v) => `${Number.isInteger(v) ? v : v.toFixed(1)} runs`,
    x: (i) => left + i * step + step / 2,
    y: (v) => height - bottom - scale(v),
  });
  buckets.forEach((b, i) => {
    const base = height - bottom;
    const rate = b.success_rate == null ? "no finished run" : `${Math.round(b.success_rate * 100)}% succeeded`;
    const tip = `${labels[i]}: ${b.completed} completed, ${b.failed} failed (${rate})`;
    svg.append(
      svgNode("rect", { class: "rate", x: left + i * step + 2, y: base - scale(b.completed), width: step - 4, height: scale(b.completed) }, svgNode("title", {}, text(tip))),
      svgNode("rect", { class: "miss", x: left + i * step + 2, y: base - scale(b.completed + b.failed), width: step - 4, height: scale(b.failed) }, svgNode("title", {}, text(tip))));
  });
  const figure = document.createElement("figure");
  const caption = document.createElement("figcaption");
  caption.append(text("Runs per stretch: completed (green) and failed (red)"));
  figure.append(caption, svg);
  return figure;
}

const ms = (v) => v == null ? "-" : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
// A figure as a person reads it: whole numbers as they are, others to two decimals.
const figure = (v) => v == null ? "-" : Number.isInteger(v) ? String(v) : v.toFixed(2);
const percent = (v) => v == null ? "-" : `${Math.round(v * 100)}%`;
function meter(share) {
  const bar = document.createElement("span");
  bar.className = "meter";
  const fill = document.createElement("span");
  fill.style.width = `${Math.min(100, Math.max(0, share * 100))}%`;
  bar.append(fill);
  return bar;
}

async function loadStats() {
  const stats = await api(`/stats?since=${$("#window").value}`);
  const labels = stats.over_time.map((b) => b.since.slice(5, 16).replace("T", " "));
  $("#charts").replaceChildren(
    lineChart("Completion time over time (p50 and p95)", labels, [
      { name: "p50", className: "p50", values: stats.over_time.map((b) => b.p50_ms) },
      { name: "p95", className: "p95", values: stats.over_time.map((b) => b.p95_ms) },
    ], ms),
    outcomeChart(stats.over_time, labels));
  const workflowsBody = $("#workflow-stats tbody");
  workflowsBody.replaceChildren();
  for (const w of stats.workflows) {
    const row = workflowsBody.insertRow();
    cell(row, w.workflow); cell(row, w.executions); cell(row, percent(w.success_rate));
    cell(row, ms(w.p50_ms)); cell(row, ms(w.p95_ms));
  }
  const agentsBody = $("#agent-stats tbody");
  agentsBody.replaceChildren();
  for (const a of stats.agents) {
    const row = agentsBody.insertRow();
    cell(row, a.agent); cell(row, a.calls); cell(row, a.failures); cell(row, ms(a.mean_ms));
    const use = cell(row, ` ${percent(a.utilisation)}`);
    use.prepend(meter(a.utilisation));
    cell(row, a.tokens_in || a.tokens_out ? `${a.tokens_in} in / ${a.tokens_out} out` : "-");
    cell(row, a.cost_usd == null ? "-" : `$${a.cost_usd.toFixed(4)}`);
  }
}
$("#window").addEventListener("change", loadStats);

function goalNode(goal) {
  const box = document.createElement("div");
  box.className = "goal";
  box.dataset.goal = goal.name;
  const line = document.createElement("div");
  line.className = "goal-line";
  const name = document.createElement("strong");
  name.append(text(goal.title || goal.name));
  const status = document.createElement("span");
  status.className = "goal-status " + goal.status;
  status.append(text(goal.status.replace("_", " ")));
  // With sub-goals its progress is a roll-up, said as such; its own KPI's is shown beside it.
  const rolled = goal.children.length > 0;
  line.append(name, meter(goal.progress || 0),
    text(rolled ? `${percent(goal.progress)} overall` : percent(goal.progress)), status);
  if (goal.department) line.append(text(`[${goal.department}]`));
  const k = goal.kpi;
  if (k) {
    const detail = document.createElement("span");
    detail.className = "muted";
    const projection = k.projection == null ? "" : `, projected ${k.projection.toFixed(1)} by ${k.deadline}`;
    const own = rolled ? `its KPI ${percent(k.progress)}: ` : "";
    detail.append(text(`${own}${k.metric} ${k.op} ${k.target}: now ${figure(k.current)}${projection}`));
    line.append(detail);
  }
  if (goal.team) {
    const team = document.createElement("span");
    team.className = "muted";
    const members = goal.team.members.map((m) => m.agent).join(", ") || "none";
    team.append(text(`team: ${members}${goal.team.problem ? ` (${goal.team.problem})` : ""}`));
    line.append(team);
  }
  box.append(line, ...goal.children.map(goalNode));
  return box;
}
async function loadGoals() {
  const { goals } = await api("/goals");
  $("#goals").replaceChildren(...goals.map(goalNode));
  $("#goals-empty").hidden = goals.length > 0;
}

async function loadMetrics() {
  const { metrics } = await api("/metrics");
  $("#metrics-empty").hidden = metrics.length > 0;
  $("#metrics").replaceChildren(...metrics.map((m) => {
    const chart = lineChart(`${m.name} (${m.count} samples${m.count > m.samples.length ? `, newest ${m.samples.length} shown` : ""})`,
      m.samples.map((s) => s.at.slice(5, 16).replace("T", " ")),
      [{ name: m.name, className: "p50", values: m.samples.map((s) => s.value) }],
      figure);
    chart.dataset.metric = m.name;
    return chart;
  }));
}

// ---- Management -------------------------------------------------------------
/** A doc comment as paragraphs: its blank lines separate them. */
function paragraphs(doc) {
  const box = document.createElement("div");
  box.className = "doc";
  for (const part of doc.split(/\n\s*\n/)) {
    const p = document.createElement("p");
    p.append(text(part));
    box.append(p);
  }
  return box;
}

async function loadTemplates() {
  const { templates } = await api("/templates");
  const body = $("#templates tbody");
  body.replaceChildren();
  $("#templates-note").hidden = templates.length > 0;
  for (const t of templates) {
    const row = body.insertRow();
    const name = cell(row, t.name);
    const file = document.createElement("div");
    file.className = "muted";
    file.append(text(t.file));
    name.append(file);
    if (t.doc) name.append(paragraphs(t.doc));
    if (t.form) {
      const make = document.createElement("button");
      make.append(text(`New workflow from ${t.name}`));
      make.addEventListener("click", () => newFromTemplate(t));
      name.append(make);
    }
    const params = cell(row, "");
    const list = document.createElement("ul");
    for (const p of t.parameters) {
      const item = document.createElement("li");
      const code = document.createElement("code");
      code.append(text(p));
      item.append(code);
      list.append(item);
    }
    params.append(list);
    cell(row, t.instances.length ? t.instances.join(", ") : "no workflow yet");
    const pin = t.pinned;
    cell(row, !pin ? "working tree"
      : `${pin.revision} (commit ${pin.commit.slice(0, 12)})` +
        (pin.newer_tags.length ? `; newer: ${pin.newer_tags.join(", ")}` : "; newest tag"));
  }
}

let picked = [];
// ---- A new workflow made from a template -------------------------------------
let making = null;
// The form's controls by name (`form.name` would be the form's own name).
const control = (name) => $("#new-from-template").elements.namedItem(name);
/** A parameter's argument as .wf text, or null to leave it to its default. */
function argumentText(field, input) {
  if (field.kind === "value" && field.schema.type === "boolean") return input.checked ? "true" : "false";
  const value = input.value.trim();
  if (!value) return null;
  if (field.kind !== "value") return value;
  if (field.schema.type === "number") return String(Number(value));
  if (field.schema.type === "string") return JSON.stringify(value);
  return value;
}
function previewNew() {
  const form = $("#new-from-template");
  const args = [];
  for (const field of making.form) {
    const given = argumentText(field, form.querySelector(`[data-param="${field.name}"]`));
    if (given != null) args.push(`${field.name}: ${given}`);
  }
  const name = control("name").value || "name";
  // A trigger declared for it: a cron schedule or an event.
  const picked = control("trigger").value;
  $("#new-trigger-cron").hidden = picked !== NEW_CRON;
  $("#new-trigger-event").hidden = picked !== NEW_EVENT;
  const lines = [];
  let on = picked;
  if (picked === NEW_CRON) {
    on = `${name}_schedule`;
    lines.push(`trigger ${on} { cron ${JSON.stringify(control("cron").value.trim())} }`);
  } else if (picked === NEW_EVENT) {
    on = `${name}_event`;
    lines.push(`trigger ${on} { on event ${JSON.stringify(control("event").value.trim())} }`);
  }
  lines.push(`workflow ${name} = ${making.name}(${args.join(", ")}) {`);
  if (control("version").value.trim()) lines.push(`  version ${JSON.stringify(control("version").value.trim())}`);
  if (on) lines.push(`  on ${on}`);
  lines.push("}");
  $("#new-preview").replaceChildren(text(lines.join("\n")));
  checkNewSoon();
  return lines.join("\n") + "\n";
}
const NEW_CRON = "\u0000cron";
const NEW_EVENT = "\u0000event";

/** The chosen file as it is with the new workflow appended: what a save writes. */
async function withNew(added) {
  const file = await api(`/files/${control("file").value}`);
  const current = file.text.endsWith("\n") || !file.text ? file.text : file.text + "\n";
  return { file, text: `${current}\n${added}` };
}

// The preview is checked as it changes, by the same checker a save goes through.
let newCheck = null;
function checkNewSoon() {
  clearTimeout(newCheck);
  newCheck = setTimeout(async () => {
    if (!making || !control("file").value) return;
    const added = $("#new-preview").textContent + "\n";
    try {
      const { text: whole } = await withNew(added);
      const answer = await api("/check", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ path: control("file").value, text: whole }),
      });
      const errors = answer.diagnostics.filter((d) => d.severity === "error");
      $("#new-check").className = errors.length ? "error" : "completed";
      $("#new-check").replaceChildren(text(errors.length ? "It does not check yet:" : "It checks."));
      $("#new-problems").replaceChildren(...errors.map((d) => {
        const item = document.createElement("li");
        const code = document.createElement("code");
        code.append(text(d.code));
        item.append(code, text(` ${d.message}${d.help ? ` (${d.help})` : ""}`));
        return item;
      }));
    } catch (error) {
      $("#new-check").className = "error";
      $("#new-check").replaceChildren(text(`Cannot check: ${error.message}`));
    }
  }, 300);
}
async function newFromTemplate(template) {
  making = template;
  const form = $("#new-from-template");
  form.hidden = false;
  $("#new-message").replaceChildren();
  $("#new-template-name").replaceChildren(text(template.name));
  control("trigger").replaceChildren(new Option("nothing (started by hand or by a parent)", ""),
    ...template.triggers.map((t) => new Option(t, t)),
    new Option("a new cron schedule…", NEW_CRON), new Option("a new event…", NEW_EVENT));
  const files = (await api("/files")).files.filter((f) => f.root);
  control("file").replaceChildren(...files.map((f) => new Option(f.path, f.path)));
  const params = $("#new-params");
  params.replaceChildren();
  for (const field of template.form) {
    const label = document.createElement("label");
    const caption = document.createElement("span");
    caption.append(text(field.name));
    caption.title = field.written;
    let input;
    if (field.choices) {
      input = document.createElement("select");
      if (field.default) input.append(new Option(`its default (${field.default})`, ""));
      for (const choice of field.choices) {
        const option = new Option(choice.fits ? choice.name : `${choice.name} (does not fit)`, choice.name);
        // Only what fits can be picked; the others say why on hover.
        option.disabled = !choice.fits;
        if (choice.why) option.title = choice.why;
        input.append(option);
      }
      if (!field.default) input.value = (field.choices.find((c) => c.fits) || {}).name || "";
    } else {
      input = document.createElement("input");
      if (field.kind === "value" && field.schema.type === "boolean") input.type = "checkbox";
      else if (field.kind === "value" && field.schema.type === "number") input.type = "number";
      input.placeholder = field.default ? `default ${field.default}` : field.kind === "duration" ? "e.g. 2d" : "";
      input.required = !field.default && input.type !== "checkbox";
    }
    input.dataset.param = field.name;
    label.append(caption, " ", input);
    params.append(label);
  }
  previewNew();
  form.scrollIntoView({ block: "start" });
}
$("#new-from-template").addEventListener("input", () => making && previewNew());
$("#new-from-template").addEventListener("change", () => making && previewNew());
$("#new-cancel").addEventListener("click", () => { $("#new-from-template").hidden = true; making = null; });
$("#new-from-template").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = $("#new-from-template");
  const message = $("#new-message");
  message.replaceChildren();
  message.className = "";
  const added = previewNew();
  try {
    // Saved through the editor's path: appended to the file as it is now.
    const { file, text: whole } = await withNew(added);
    const response = await fetch(`/files/${control("file").value}`, {
      method: "PUT", headers: { "content-type": "application/json" },
      body: JSON.stringify({
        text: whole, blob: file.blob, author: $("#assigner").value.trim(),
        message: `Add ${control("name").value}, made from template ${making.name}`,
      }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const found = (answer.diagnostics || []).filter((d) => d.severity === "error").map((d) => d.message);
      throw new Error([answer.error || response.statusText, ...found].join(" — "));
    }
    message.append(text(`Saved into ${control("file").value}; ${control("name").value} is served now.`));
    form.hidden = true;
    making = null;
    loadWorkflows(); loadTemplates();
    document.dispatchEvent(new CustomEvent("wfc:files-changed"));
  } catch (error) {
    message.className = "error";
    message.append(text(error.message));
  }
});

async function loadWorkflows() {
  workflows = (await api("/workflows")).workflows;
  const body = $("#workflows tbody");
  body.replaceChildren();
  picked = [];
  $("#diff").disabled = true;
  for (const w of workflows) {
    const row = body.insertRow();
    row.dataset.workflow = w.name;
    const name = cell(row, w.name);
    if (w.made_from) {
      const made = document.createElement("div");
      made.className = "muted";
      made.append(text(`from template ${w.made_from.template}(${w.made_from.arguments.join(", ")})`));
      name.append(made);
    }
    if (w.doc) name.append(paragraphs(w.doc));
    cell(row, w.version || "unversioned");
    cell(row, w.triggers.map((t) => t.detail ? `${t.name} (${t.kind} ${t.detail})` : `${t.name} (${t.kind})`).join(", "));
    cell(row, w.agents.join(", "));
    const versions = cell(row, "");
    for (const v of w.versions) {
      const line = document.createElement("div");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.setAttribute("aria-label", `pick ${w.name} ${v.source_blob.slice(0, 8)}` +
        (v.template_blob ? ` with template ${v.template_blob.slice(0, 8)}` : ""));
      box.addEventListener("change", () => {
        picked = box.checked
          ? [...picked, [w.name, v.source_blob, v.first_run_at, v.template_blob]].slice(-2)
          : picked.filter((p) => p[1] !== v.source_blob || p[3] !== v.template_blob);
        $("#diff").disabled = picked.length !== 2 || picked[0][0] !== picked[1][0];
      });
      const show = document.createElement("button");
      show.append(text(v.source_blob.slice(0, 8)));
      if (v.template_blob) show.title = `with template file ${v.template_blob.slice(0, 8)}`;
      show.addEventListener("click", async () => {
        const source = await api(`/workflows/${encodeURIComponent(w.name)}/versions/${v.source_blob}`);
        $("#source").hidden = false;
        $("#source").replaceChildren(text(source.source));
      });
      line.append(box, show, text(` ${v.version || "unversioned"}, ${v.runs} runs, first `), when(v.first_run_at),
        text(", last "), when(v.last_run_at));
      versions.append(line);
    }
  }
  const filter = $("#history-filter select[name=workflow]");
  const filtered = filter.value;
  filter.replaceChildren(new Option("any", ""), ...workflows.map((w) => new Option(w.name, w.name)));
  filter.value = filtered;
  const select = $("#run-workflow");
  const current = select.value;
  select.replaceChildren(...workflows.map((w) => new Option(w.name, w.name)));
  if (workflows.some((w) => w.name === current)) select.value = current;
  renderForm();
}

$("#diff").addEventListener("click", async () => {
  // From the older version to the newer, whichever was picked first.
  const [[name, from, , fromTemplate], [, to, , toTemplate]] = [...picked].sort((a, b) => a[2].localeCompare(b[2]));
  const query = new URLSearchParams({ from, to });
  if (fromTemplate && toTemplate) {
    query.set("from_template", fromTemplate);
    query.set("to_template", toTemplate);
  }
  history.pushState(null, "", `#diff=${name}&${query}`);
  await showDiff(name, query);
});

/** Shows the diff of workflow `name` between the versions `query` names. */
async function showDiff(name, query) {
  const diff = await api(`/workflows/${encodeURIComponent(name)}/diff?${query}`);
  const pre = $("#source");
  pre.hidden = false;
  pre.replaceChildren();
  for (const line of diff.diff.split("\n")) {
    const span = document.createElement("span");
    span.className = line.startsWith("+") ? "ins" : line.startsWith("-") ? "del" : "";
    span.append(text(line + "\n"));
    pre.append(span);
  }
}

// Each group links to its latest example, shown in the coordination tab.
async function loadFailures() {
  const groups = (await api("/failures")).failures;
  const body = $("#failures tbody");
  body.replaceChildren();
  $("#failures-empty").hidden = groups.length > 0;
  for (const g of groups) {
    const row = body.insertRow();
    cell(row, g.workflow);
    cell(row, g.agent || "-");
    cell(row, g.kind, "status failed");
    cell(row, g.count);
    timeCell(row, g.latest_at);
    const example = row.insertCell();
    const link = document.createElement("a");
    link.href = "#";
    link.append(text(`${g.example_execution.slice(-8)} ${g.example_step}: ${g.example_error || ""}`));
    link.addEventListener("click", (event) => {
      event.preventDefault();
      $("#tab-coordination").click();
      showExecution(g.example_execution);
    });
    example.append(link);
  }
}

let before = null;
async function loadHistory(fresh) {
  if (fresh) { before = null; $("#history tbody").replaceChildren(); }
  // The CLI's filters (`wfc history --workflow --status --version`), as query parameters.
  const query = new URLSearchParams({ limit: "20" });
  for (const [name, value] of new FormData($("#history-filter"))) if (value) query.set(name, value);
  if (before) query.set("before", before);
  const page = await api("/executions?" + query);
  for (const e of page.executions) {
    const row = $("#history tbody").insertRow();
    row.className = "pick";
    row.addEventListener("click", () => openExecution(e.id));
    cell(row, e.workflow);
    cell(row, e.id.slice(-8), "id");
    cell(row, e.status, "status " + e.status);
    timeCell(row, e.started_at);
    cell(row, ms(e.duration_ms));
  }
  before = page.next;
  $("#older").hidden = !before;
}
$("#older").addEventListener("click", () => loadHistory(false));
$("#history-filter").addEventListener("submit", (event) => { event.preventDefault(); loadHistory(true); });

// Alerts turn on and off with time as well as with runs: a look every 2 s.
async function loadAlerts() {
  const { alerts, episodes } = await api("/alerts");
  $("#alerts-empty").hidden = alerts.length > 0;
  const body = $("#alerts tbody");
  body.replaceChildren();
  for (const a of alerts) {
    const row = body.insertRow();
    row.dataset.alert = a.name;
    cell(row, a.name);
    cell(row, a.condition);
    cell(row, figure(a.value));
    cell(row, a.firing ? `firing since ${a.firing.started_at}` : "ok", "state " + (a.firing ? "firing" : "resolved"));
    cell(row, [a.webhook && `webhook ${a.webhook}`, a.emit && `event ${a.emit}`].filter(Boolean).join(", "));
    cell(row, a.firing ? a.firing.delivery || (a.webhook ? "sending…" : "-") : "-");
  }
  $("#episodes").replaceChildren(...episodes.map((e) => {
    const item = document.createElement("li");
    item.dataset.alert = e.alert;
    item.append(text(`${e.alert}: ${e.condition} (value ${figure(e.value)}) from ${e.started_at} ` +
      `${e.ended_at ? "to " + e.ended_at : "(firing)"}${e.delivery ? "; " + e.delivery : ""}`));
    return item;
  }));
}

loadWorkflows().catch((error) => { $("#run-message").append(text(error.message)); });
// The editor (editor.js) saved a file: what is served changed.
document.addEventListener("wfc:saved", () => { loadWorkflows(); loadTemplates(); });
openFromLink();
loadDeadLetters();
loadAgents();
loadAlerts();
setInterval(() => { if (!document.hidden) loadAlerts().catch(() => {}); }, 2000);
// Waits are answered elsewhere too, and their time runs out: looked at again.
loadWaits().catch(() => {});
setInterval(() => { if (!document.hidden) loadWaits().catch(() => {}); }, 2000);
connect();
