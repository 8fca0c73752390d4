// Drives `wfc serve`'s dashboard in Debian's headless Chromium with
// playwright-core: a run started from the generated form and watched to its end
// live, a form refusing input of the wrong type, a cancel with confirmation, a
// diff between two versions, the template library, agent assignment, and the sign-in wall of a server with a token.
// Screenshots of both tabs go to target/dashboard-*.png for review.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, writeFileSync, appendFileSync, mkdirSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Absolute: each server runs in its own directory.
const wfc = resolve(process.env.WFC_BIN || join(root, "target", "debug", "wfc"));
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

// An alert's webhook: counts the calls it takes.
const hookCalls = [];
const hook = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => { body += chunk; });
  request.on("end", () => { hookCalls.push(JSON.parse(body)); response.end("{}"); });
});

const flow = (hookUrl) => `
agent double { input { n: number } output { n: number } compute { n: input.n * 2 } }
agent nap { output { ok: bool } run ["sh", "-c", "sleep 20; echo '{}'"] timeout 60s }
trigger go { manual }
metric sales { unit "EUR" }
goal revenue { title "Revenue" kpi sum(sales) >= 1000 goal latest_sale { kpi latest(sales) >= 1 } }
workflow twice { on go input { n: number, note: string? } steps { wait 300ms r = double({ n: input.n }) } output r record sales = r.n }
workflow sleepy { on go steps { r = nap({}) } output r }
// Fails the first time (no marker file yet), succeeds when replayed.
agent once { output { ok: bool } run ["sh", "-c", "if [ -e marker ]; then echo '{\\"ok\\": true}'; else touch marker; exit 3; fi"] }
workflow fragile { on go steps { r = once({}) } output r on_failure dead_letter }
// Two steps of clearly different lengths (50 ms and 1 s), for the timeline.
agent quick { output { ok: bool } run ["sh", "-c", "sleep 0.05; echo '{\\"ok\\": true}'"] }
agent slow { output { ok: bool } run ["sh", "-c", "sleep 1; echo '{\\"ok\\": true}'"] }
workflow uneven { on go steps { a = quick({}) b = slow({}) } output b }
workflow approval {
  on go
  input { id: string }
  steps {
    decision = await "invoice.approved" { approved: bool, amount: number, note: string? }
        where event.invoice == input.id
        timeout 1d
  }
  output decision
}
/// Look twice at large numbers.
template gate(reviewer: agent { n: number } -> { n: number }, threshold: number = 10) {
  input { n: number }
  steps { when input.n >= threshold { r = reviewer(input) } }
  output { big: r != null }
}
trigger by_hand { manual }
// Two agents sharing a skill, for assignment.
agent ann { skills [triage] output { by: string } compute { by: "ann" } }
agent ben { skills [triage] output { by: string } compute { by: "ben" } }
workflow triage { on by_hand steps { r = any [triage]({}) } output r }
// A step whose graph label is long, for the graph's sizing.
workflow verbose { on by_hand steps { the_quarterly_revenue_reconciliation_result = double({ n: 1 }) } }
/// Numbers from the front desk.
workflow gated = gate(reviewer: double, threshold: 5) { on by_hand }
alert fragile_failing { when failures(fragile) >= 1 within 1h notify webhook "${hookUrl}/hooks/wfc" }
`;

/** Starts `wfc serve` in a fresh directory (`prepare(dir)` first, with
 * flow.wf written); resolves with its base URL once it listens. */
function serve(extra = [], prepare = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), "wfc-dashboard-"));
  writeFileSync(join(dir, "flow.wf"), flow(`http://127.0.0.1:${hook.address().port}`));
  prepare(dir);
  const child = spawn(wfc, ["serve", "flow.wf", "--listen", "127.0.0.1:0", "--watch", ...extra], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let log = "";
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const found = log.match(/serving address=(\S+)/);
      if (found) resolve({ base: `http://${found[1]}`, dir, child });
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`wfc serve exited ${code}: ${log}`)));
  });
}

let browser;
let server;
before(async () => {
  await new Promise((resolve) => hook.listen(0, "127.0.0.1", resolve));
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      // Another host name for this machine: what DNS rebinding makes of one.
      "--host-resolver-rules=MAP rebound.test 127.0.0.1",
    ],
  });
  server = await serve();
});
after(async () => {
  await browser?.close();
  server?.child.kill();
  hook.close();
});

async function open(base = server.base, path = "/") {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(error.message));
  // The page's own policy must not block anything of its own.
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  await page.goto(base + path);
  await page.locator("#live", { hasText: "live" }).waitFor();
  return { page, problems };
}

/** POSTs `body` as JSON to the server's API; resolves with the answer's JSON. */
async function api(base, path, body) {
  const response = await fetch(base + path, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  assert.ok(response.ok, `${path}: ${JSON.stringify(answer)}`);
  return answer;
}

async function startFromForm(page, workflow, fill) {
  await page.selectOption("#run-workflow", workflow);
  await fill();
  await page.click("#run-form button[type=submit]");
}

test("a run started from the form completes live, with its step timeline", async () => {
  const { page, problems } = await open();
  await startFromForm(page, "twice", () => page.fill("input[name=n]", "21"));
  await page.locator("#run-message", { hasText: "Started" }).waitFor();
  const row = page.locator("#executions tbody tr", { hasText: "twice" }).first();
  await row.locator("td.status", { hasText: "completed" }).waitFor({ timeout: 5000 });
  await page.locator("#detail-status", { hasText: "completed" }).waitFor();
  // The result as a table of its fields, its JSON one click away.
  const field = page.locator("#detail-outcome table.kv tr", { hasText: "n" });
  assert.equal(await field.locator("th").textContent(), "n");
  assert.equal(await field.locator("td").textContent(), "42");
  assert.match(await page.textContent("#detail-outcome details pre"), /"n": 42/);
  assert.ok((await page.locator("#gantt rect.bar").count()) >= 1, "the timeline has a bar per attempt");
  mkdirSync(join(root, "target"), { recursive: true });
  await page.screenshot({ path: join(root, "target", "dashboard-coordination.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test("a wait is answered from its generated form and the execution completes live", async () => {
  const { page, problems } = await open();
  const start = (id) => api(server.base, "/workflows/approval/runs", { id });
  const first = (await start("A1")).execution;
  const second = (await start("B2")).execution;
  const card = (id) => page.locator("form.wait", { hasText: id.slice(-8) });
  await card(first).waitFor({ timeout: 5000 });
  await card(second).waitFor({ timeout: 5000 });
  assert.match(await card(first).textContent(), /Waits for "invoice.approved" where event.invoice == input.id/);
  assert.match(await card(first).textContent(), /h \d+ min left/);
  // A field of the wrong type is refused before sending.
  await card(first).locator("input[name=amount]").fill("lots");
  await card(first).locator("button[type=submit]").click();
  await card(first).locator("[role=alert]", { hasText: "amount must be a number" }).waitFor();
  await card(first).locator("input[name=approved]").check();
  await card(first).locator("input[name=amount]").fill("1200");
  await card(first).locator("input[name=by]").fill("Ann Example");
  await card(first).locator("button[type=submit]").click();
  const row = page.locator("#executions tbody tr", { hasText: first.slice(-8) });
  await row.locator("td.status", { hasText: "completed" }).waitFor({ timeout: 5000 });
  const detail = await (await fetch(`${server.base}/executions/${first}`)).json();
  assert.deepEqual(detail.execution.result, { approved: true, amount: 1200 });
  assert.equal(detail.waits[0].source, "dashboard");
  assert.equal(detail.waits[0].decided_by, "Ann Example");
  await card(first).waitFor({ state: "detached", timeout: 5000 });
  // Answered elsewhere (an event), the other card leaves the list by itself.
  await api(server.base, "/events/invoice.approved", { invoice: "B2", approved: false, amount: 0 });
  await card(second).waitFor({ state: "detached", timeout: 5000 });
  await page.locator("#waits-empty").waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test("times read relative, an execution has a link of its own, and the timeline an axis", async () => {
  const { execution } = await api(server.base, "/workflows/uneven/runs", {});
  const { page, problems } = await open(server.base, `/#execution=${execution}`);
  // Opened from its link, with its workflow's name before its short id.
  await page.locator("#detail-id", { hasText: `uneven · ${execution.slice(-8)}` }).waitFor();
  await page.locator("#detail-status", { hasText: "completed" }).waitFor({ timeout: 10000 });
  assert.ok(await page.locator("#gantt .tick-label").count() >= 5, "the timeline has a time axis");
  assert.match(await page.textContent("#gantt"), /0 ms.*(ms|s)/);
  // Started "just now", the local date and time on hover.
  const row = page.locator("#executions tbody tr", { hasText: execution.slice(-8) });
  assert.equal(await row.locator("td").first().textContent(), "uneven");
  const started = row.locator("time");
  assert.equal(await started.textContent(), "just now");
  assert.ok((await started.getAttribute("title")).length > 8);
  // The detail is scrolled to where the user looks.
  const box = await page.locator("#detail").boundingBox();
  assert.ok(box.y < 200, `the detail starts at ${box.y}px, not in view`);
  assert.deepEqual(problems, []);
  await page.close();
});

test("the graph's labels are never cut: each node is as wide as its label", async () => {
  const { execution } = await api(server.base, "/workflows/verbose/runs", {});
  const { page, problems } = await open(server.base, `/#execution=${execution}`);
  await page.locator("#graph g.node", { hasText: "the_quarterly_revenue_reconciliation_result" }).waitFor();
  const misfits = await page.$$eval("#graph g.node", (nodes) => nodes.flatMap((g) => {
    const rect = g.querySelector("rect").getBBox();
    return [...g.querySelectorAll("text")]
      .map((t) => t.getBBox())
      .filter((b) => b.x < rect.x || b.x + b.width > rect.x + rect.width || b.y + b.height > rect.y + rect.height + 1)
      .map(() => g.textContent);
  }));
  assert.deepEqual(misfits, []);
  assert.deepEqual(problems, []);
  await page.close();
});

test("the timeline's bars are as long as their attempts took", async () => {
  const { page, problems } = await open();
  await startFromForm(page, "uneven", async () => {});
  await page.locator("#detail-status", { hasText: "completed" }).waitFor({ timeout: 10000 });
  const bars = page.locator("#gantt rect.bar");
  assert.equal(await bars.count(), 2);
  const [quick, slow] = [await bars.nth(0).boundingBox(), await bars.nth(1).boundingBox()];
  // One rule once sized every `.bar`, these included, at 10rem.
  const id = await page.getAttribute("#detail-id", "title");
  const detail = await (await fetch(`${server.base}/executions/${id}`)).json();
  const [a, b] = detail.attempts.map((x) => x.duration_ms);
  // However loaded the machine, the slow step takes clearly longer, and the
  // bars keep the durations' proportion.
  assert.ok(b > 1.5 * a, `durations ${a} and ${b} ms`);
  const ratio = (slow.width / quick.width) / (b / a);
  assert.ok(ratio > 0.7 && ratio < 1.4, `widths ${quick.width} and ${slow.width} for ${a} and ${b} ms`);
  assert.deepEqual(problems, []);
  await page.close();
});

test("the form refuses input of the wrong type before sending it", async () => {
  const { page } = await open();
  const before = (await (await fetch(server.base + "/executions")).json()).executions.length;
  await startFromForm(page, "twice", () => page.fill("input[name=n]", "twenty"));
  await page.locator("label:has(input[name=n]) [role=alert]", { hasText: "n must be a number" }).waitFor();
  await page.locator("#run-message", { hasText: "Not sent" }).waitFor();
  // A wrong optional field is refused too; an empty one is left out.
  await page.fill("input[name=n]", "2");
  await page.click("#run-form button[type=submit]");
  await page.locator("#run-message", { hasText: "Started" }).waitFor();
  const after = (await (await fetch(server.base + "/executions")).json()).executions.length;
  assert.equal(after, before + 1, "only the valid submission started a run");
  await page.close();
});

test("a running execution is cancelled after confirmation", async () => {
  const { page } = await open();
  let asked = "";
  page.on("dialog", (dialog) => { asked = dialog.message(); dialog.accept(); });
  await startFromForm(page, "sleepy", async () => {});
  await page.locator("#detail-status", { hasText: "running" }).waitFor();
  // The agent's call shows as under way while it runs.
  await page.locator("#agents tr[data-agent=nap] td.load", { hasText: "1" }).waitFor();
  await page.locator("#detail-agents", { hasText: "nap" }).waitFor();
  // The graph lights the step under way.
  await page.locator("#graph g.lit[data-step=r]").waitFor();
  await page.locator("#cancel").waitFor({ state: "visible" });
  await page.click("#cancel");
  await page.locator("#detail-status", { hasText: "cancelled" }).waitFor({ timeout: 10000 });
  await page.locator("#agents tr[data-agent=nap] td.load", { hasText: "0" }).waitFor();
  assert.match(asked, /Cancel execution/);
  await page.close();
});

test("a dead letter is replayed from the queue and its replay completes", async () => {
  const { page } = await open();
  let asked = "";
  page.on("dialog", (dialog) => { asked = dialog.message(); dialog.accept(); });
  await startFromForm(page, "fragile", async () => {});
  const letter = page.locator("#dead-letters tbody tr", { hasText: "fragile" });
  await letter.waitFor({ timeout: 10000 });
  await letter.locator("button", { hasText: "Replay" }).click();
  await page.locator("#detail-status", { hasText: "completed" }).waitFor({ timeout: 10000 });
  await letter.locator("td", { hasText: /^[0-9a-f]{8}$/ }).waitFor();
  await letter.locator("button", { hasText: "Drop" }).click();
  await page.locator("#dead-letters-empty").waitFor({ state: "visible" });
  assert.match(asked, /Drop dead letter/);
  // The failure is in the analysis, and its example opens the execution.
  await page.click("#tab-management");
  const group = page.locator("#failures tbody tr", { hasText: "fragile" });
  await group.locator("td", { hasText: "failed" }).first().waitFor();
  await group.locator("a").click();
  await page.locator("#detail-status", { hasText: "failed" }).waitFor();
  await page.close();
});

test("an alert fires once when its condition starts to hold, and shows as firing", async () => {
  // The dead-letter test above failed `fragile` once: the alert holds from then on.
  const { page } = await open();
  const row = page.locator("#alerts tr[data-alert=fragile_failing]");
  await row.locator("td.state", { hasText: "firing since" }).waitFor({ timeout: 5000 });
  await row.locator("td", { hasText: "delivered (HTTP 200)" }).waitFor({ timeout: 5000 });
  // Two more evaluations while it still holds send nothing more.
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(hookCalls.length, 1, JSON.stringify(hookCalls));
  assert.equal(hookCalls[0].alert, "fragile_failing");
  assert.equal(hookCalls[0].condition, "failures(fragile) >= 1 within 1h");
  await page.locator("#episodes li[data-alert=fragile_failing]").first().waitFor({ state: "attached" });
  await page.close();
});

test("two versions that ran are diffed in the management tab", async () => {
  const { page } = await open();
  await startFromForm(page, "twice", () => page.fill("input[name=n]", "1"));
  await page.locator("#run-message", { hasText: "Started" }).waitFor();
  // A second version of the file: the server reloads it (--watch) and runs it.
  appendFileSync(join(server.dir, "flow.wf"), "// the second version\n");
  let started = false;
  for (let i = 0; i < 50 && !started; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const workflows = (await (await fetch(server.base + "/workflows")).json()).workflows;
    const twice = workflows.find((w) => w.name === "twice");
    if (twice.versions.length >= 1) {
      const response = await fetch(server.base + "/workflows/twice/runs", {
        method: "POST", body: JSON.stringify({ n: 3 }),
      });
      assert.equal(response.status, 202);
      const again = (await (await fetch(server.base + "/workflows")).json()).workflows;
      started = again.find((w) => w.name === "twice").versions.length >= 2;
    }
  }
  assert.ok(started, "the reloaded file ran as a second version");
  await page.click("#tab-management");
  const boxes = page.locator("#workflows input[type=checkbox][aria-label^='pick twice']");
  await boxes.nth(1).waitFor();
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await page.click("#diff");
  await page.locator("#source .ins", { hasText: "+// the second version" }).waitFor();
  // The diff has a link of its own: opened afresh, it shows the same diff.
  const link = page.url();
  assert.match(link, /#diff=twice&from=[0-9a-f]{40}&to=[0-9a-f]{40}/);
  const linked = await browser.newPage();
  await linked.goto(link);
  await linked.locator("#source .ins", { hasText: "+// the second version" }).waitFor();
  await linked.goto(server.base + "/#workflow=fragile");
  await linked.locator("#workflows tr.linked[data-workflow=fragile]").waitFor();
  await linked.close();
  await page.locator("#history tbody tr").first().waitFor();
  // The history's filters are the CLI's: only failed runs of `fragile` now.
  await page.selectOption("#history-filter select[name=workflow]", "fragile");
  await page.selectOption("#history-filter select[name=status]", "failed");
  await page.click("#history-filter button[type=submit]");
  await page.locator("#history tbody tr", { hasText: "twice" }).waitFor({ state: "detached" });
  // The table empties before the filtered page arrives: read it once it has.
  await page.locator("#history tbody tr", { hasText: "fragile" }).first().waitFor();
  const rows = await page.locator("#history tbody tr").allTextContents();
  assert.ok(rows.length >= 1 && rows.every((r) => r.includes("fragile") && r.includes("failed")), rows.join("\n"));
  await page.selectOption("#history-filter select[name=workflow]", "");
  await page.selectOption("#history-filter select[name=status]", "");
  await page.click("#history-filter button[type=submit]");
  await page.locator("#history tbody tr", { hasText: "twice" }).first().waitFor();
  await page.screenshot({ path: join(root, "target", "dashboard-management.png"), fullPage: true });
  await page.close();
});

test("the management tab charts performance, goals and metrics", async () => {
  for (const n of [5, 6]) {
    const response = await fetch(server.base + "/workflows/twice/runs", { method: "POST", body: JSON.stringify({ n }) });
    assert.equal(response.status, 202);
  }
  const { page, problems } = await open();
  await page.click("#tab-management");
  // Both runs end within the hour shown; the charts and tables follow live.
  const row = page.locator("#workflow-stats tbody tr", { hasText: "twice" });
  await row.waitFor();
  await page.locator("#charts svg[aria-label='Completion time over time (p50 and p95)'] circle.p95").first().waitFor({ timeout: 5000 });
  assert.ok((await page.locator("#charts svg[aria-label='success rate over time'] rect.rate").count()) === 12);
  await page.locator("#agent-stats tbody tr", { hasText: "double" }).waitFor();
  // The goal tree: the parent and its child with their progress and status.
  const revenue = page.locator(".goal[data-goal=revenue]");
  await revenue.locator(".goal[data-goal=latest_sale] .goal-status", { hasText: "achieved" }).waitFor({ timeout: 5000 });
  const revenueLine = await revenue.locator(".goal-line").first().textContent();
  assert.match(revenueLine, /sum\(sales\) >= 1000/);
  // Its progress is a roll-up with a sub-goal, named so, its own KPI's beside it.
  assert.match(revenueLine, /\d+% overall/);
  assert.match(revenueLine, /its KPI \d+%/);
  // The metric recorded by each run, charted.
  await page.locator("figure[data-metric=sales] circle").nth(1).waitFor({ timeout: 5000 });
  await page.selectOption("#window", "7d");
  await page.locator("#charts svg").first().waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test("the template library lists each template with its doc, parameters and workflows", async () => {
  const { page, problems } = await open();
  await page.click("#tab-management");
  const row = page.locator("#templates tbody tr", { hasText: "gate" });
  await row.waitFor();
  const cells = await row.locator("td").allTextContents();
  assert.match(cells[0], /Look twice at large numbers\./);
  assert.match(cells[1], /reviewer: agent \{ n: number \} -> \{ n: number \}/);
  assert.match(cells[1], /threshold: number = 10/);
  assert.equal(cells[2], "gated");
  assert.equal(cells[3], "working tree");
  const workflow = await page.locator("#workflows tbody tr", { hasText: "gated" }).locator("td").first().textContent();
  assert.match(workflow, /from template gate\(reviewer: double, threshold: 5\)/);
  assert.match(workflow, /Numbers from the front desk\./);
  assert.deepEqual(problems, []);
  await page.close();
});

/** Runs `triage` `times` times over the API; resolves with who answered each. */
async function triaged(times) {
  const answered = [];
  for (let i = 0; i < times; i++) {
    const { execution } = await api(server.base, "/workflows/triage/runs", {});
    let detail;
    for (let n = 0; n < 100; n++) {
      detail = await (await fetch(`${server.base}/executions/${execution}`)).json();
      if (detail.execution.status === "completed") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    answered.push(detail.execution.result.by);
  }
  return answered;
}

test("an agent paused or left out of a pool from the Agents section gets no calls until put back", async () => {
  const { page, problems } = await open();
  const row = (name) => page.locator(`#agents tr[data-agent=${name}]`);
  await row("ann").waitFor();
  // A change needs a name to record.
  await page.click("button[aria-label='pause ann']");
  await page.locator("#agents-message", { hasText: "Give your name first" }).waitFor();
  await page.fill("#assigner", "Tess Ter");
  await page.click("button[aria-label='pause ann']");
  await row("ann").locator(".assignment", { hasText: "paused by Tess Ter" }).waitFor();
  assert.deepEqual(await triaged(3), ["ben", "ben", "ben"]);
  await page.click("button[aria-label='resume ann']");
  await row("ann").locator(".assignment", { hasText: "taking calls" }).waitFor();
  await page.click("button[aria-label='leave out ben from triage']");
  await row("ben").locator(".pools", { hasText: "triage: left out" }).waitFor();
  assert.deepEqual(await triaged(2), ["ann", "ann"]);
  await page.click("button[aria-label='put back ben into triage']");
  await row("ben").locator("button[aria-label='leave out ben from triage']").waitFor();
  await page.screenshot({ path: join(root, "target", "dashboard-agents.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test("a workflow made from a template in the browser is saved, served and runs", async () => {
  const editing = await serve(["--token", "ed1t", "--edit"]);
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(editing.base + "/");
    await page.fill("input[name=token]", "ed1t");
    await page.click("button[type=submit]");
    await page.locator("#live", { hasText: "live" }).waitFor();
    await page.click("#tab-management");
    await page.click("button:has-text('New workflow from gate')");
    const form = page.locator("#new-from-template");
    await form.waitFor();
    // Only the agents that fit the contract can be picked; the others say why.
    const reviewer = form.locator("select[data-param=reviewer]");
    const nap = reviewer.locator("option[value=nap]");
    assert.equal(await nap.isDisabled(), true);
    assert.match(await nap.getAttribute("title"), /does not give what the template wants/);
    assert.equal(await reviewer.locator("option[value=double]").isDisabled(), false);
    await form.locator("input[name=name]").fill("front_desk");
    await reviewer.selectOption("double");
    await form.locator("input[data-param=threshold]").fill("7");
    // A trigger declared with it, checked as it is typed by the server's checker.
    await form.locator("select[name=trigger]").selectOption({ label: "a new cron schedule…" });
    await form.locator("input[name=cron]").fill("99 * * * *");
    await page.locator("#new-problems li", { hasText: "wf::invalid_cron" }).waitFor();
    await form.screenshot({ path: join(root, "target", "dashboard-new-from-template-form.png") });
    assert.match(await page.textContent("#new-preview"), /^trigger front_desk_schedule \{ cron "99 \* \* \* \*" \}\n/);
    await form.locator("input[name=cron]").fill("0 9 * * 1-5");
    await page.locator("#new-check", { hasText: "It checks." }).waitFor();
    await form.locator("select[name=trigger]").selectOption("by_hand");
    await page.locator("#new-check", { hasText: "It checks." }).waitFor();
    assert.equal(await page.textContent("#new-preview"),
      'workflow front_desk = gate(reviewer: double, threshold: 7) {\n  version "1.0.0"\n  on by_hand\n}');
    await form.locator("button[type=submit]").click();
    await page.locator("#new-message", { hasText: /./ }).waitFor();
    assert.match(await page.textContent("#new-message"), /front_desk is served now/);
    // Saved into the file, and served at once: it runs.
    const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const headers = { authorization: "Bearer ed1t", "content-type": "application/json" };
    const started = await fetch(`${editing.base}/workflows/front_desk/runs`, {
      method: "POST", headers, body: JSON.stringify({ n: 9 }),
    });
    const answer = await started.text();
    assert.equal(started.status, 202, answer);
    const { execution } = JSON.parse(answer);
    let detail;
    for (let i = 0; i < 100; i++) {
      detail = await (await fetch(`${editing.base}/executions/${execution}`, { headers })).json();
      if (detail.execution.status === "completed") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(detail.execution.result, { big: true });
    assert.ok(cookie.length > 0);
    await page.screenshot({ path: join(root, "target", "dashboard-new-from-template.png"), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    editing.child.kill();
  }
});

test("a server with a token shows a sign-in page first, then the dashboard", async () => {
  const guarded = await serve(["--token", "s3cret-dash"]);
  try {
    const page = await browser.newPage();
    const response = await page.goto(guarded.base + "/");
    assert.equal(response.status(), 401);
    await page.fill("input[name=token]", "wrong");
    await page.click("button[type=submit]");
    await page.locator("[role=alert]", { hasText: "not the token" }).waitFor();
    await page.fill("input[name=token]", "s3cret-dash");
    await page.click("button[type=submit]");
    await page.locator("#live", { hasText: "live" }).waitFor();
    const api = await fetch(guarded.base + "/workflows");
    assert.equal(api.status, 401, "the API still wants the token without the cookie");
    await page.close();
  } finally {
    guarded.child.kill();
  }
});

/** A page another program serves on another port of this host: what it answers
 * at each path, and the Cookie headers it was sent. */
async function otherSite(pages) {
  const cookies = [];
  const site = createServer((request, response) => {
    cookies.push(request.headers.cookie || "");
    response.setHeader("content-type", "text/html");
    response.end(pages[request.url] || "");
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  return { site, cookies, base: `http://127.0.0.1:${site.address().port}` };
}

/** A page that posts a text/plain form to `target` and fetches it without CORS. */
const attack = (target) => `<!doctype html><body>
<form id="f" method="post" action="${target}" enctype="text/plain"><input name='{"n":1,"x":"' value='"}'></form>
<script>
fetch(${JSON.stringify(target)}, { method: "POST", mode: "no-cors", body: '{"n": 2}' })
  .finally(() => document.getElementById("f").submit());
</script></body>`;

const executions = async (base, headers = {}) =>
  (await (await fetch(base + "/executions", { headers })).json()).executions.length;

test("a page on another port cannot start runs on the tokenless loopback default", async () => {
  const before = await executions(server.base);
  const { site, base } = await otherSite({ "/": attack(server.base + "/workflows/twice/runs") });
  try {
    const page = await browser.newPage();
    const answers = [];
    page.on("response", (r) => { if (r.url().startsWith(server.base) && r.request().method() === "POST") answers.push(r.status()); });
    // The form is sent once the fetch has its answer.
    await page.goto(base + "/");
    await page.waitForURL(server.base + "/workflows/twice/runs");
    assert.deepEqual(answers, [403, 403], "the fetch and the form were refused");
    assert.match(await page.textContent("body"), /only this server's own pages/);
    await page.close();
  } finally {
    site.close();
  }
  assert.equal(await executions(server.base), before, "nothing started");
});

test("a name rebound to this machine is refused, page and API alike", async () => {
  const page = await browser.newPage();
  const response = await page.goto(server.base.replace("127.0.0.1", "rebound.test") + "/executions");
  assert.equal(response.status(), 400);
  assert.match(await page.textContent("body"), /does not name this server/);
  await page.close();
});

test("with a token, a signed-in browser's cookie neither leaks the token nor lets another port act", async () => {
  const token = "s3cret-cross-site";
  const guarded = await serve(["--token", token]);
  const auth = { authorization: `Bearer ${token}` };
  const { site, cookies, base } = await otherSite({
    "/run": attack(guarded.base + "/workflows/twice/runs"),
    "/cancel": attack(guarded.base + "/executions/01234567/cancel"),
  });
  try {
    const page = await browser.newPage();
    await page.goto(guarded.base + "/");
    await page.fill("input[name=token]", token);
    await page.click("button[type=submit]");
    await page.locator("#live", { hasText: "live" }).waitFor();
    const before = await executions(guarded.base, auth);
    for (const path of ["/run", "/cancel"]) {
      const answers = [];
      // Only the attack's POSTs: the signed-in dashboard just left may still be
      // answering its own polls.
      page.removeAllListeners("response");
      page.on("response", (r) => { if (r.url().startsWith(guarded.base) && r.request().method() === "POST") answers.push(r.status()); });
      await page.goto(base + path);
      await page.waitForURL((url) => url.href.startsWith(guarded.base));
      assert.deepEqual(answers, [403, 403], `${path}: the fetch and the form were refused`);
    }
    assert.equal(await executions(guarded.base, auth), before, "nothing started");
    // A name rebound to this machine is refused here too, sign-in page and all.
    const rebound = await page.goto(guarded.base.replace("127.0.0.1", "rebound.test") + "/");
    assert.equal(rebound.status(), 400);
    // Browsers send a host's cookies to all its ports: the other site got the
    // session cookie, never the token.
    assert.ok(cookies.some((c) => c.includes("wfc_session=")), cookies.join("; "));
    assert.ok(cookies.every((c) => !c.includes(token)), cookies.join("; "));
    // The dashboard itself still acts, and signing out ends the session.
    await page.goto(guarded.base + "/");
    await startFromForm(page, "twice", () => page.fill("input[name=n]", "4"));
    await page.locator("#run-message", { hasText: "Started" }).waitFor();
    await page.click("#sign-out button");
    await page.locator("input[name=token]").waitFor();
    const again = await page.goto(guarded.base + "/executions");
    assert.equal(again.status(), 401);
    await page.close();
  } finally {
    site.close();
    guarded.child.kill();
  }
});

test("an execution of a workflow this server does not serve says so, and offers no replay", async () => {
  // Another file run on the same store: its workflow is not served here.
  writeFileSync(join(server.dir, "other.wf"), `trigger go { manual }
agent broken { output { ok: bool } run ["sh", "-c", "exit 3"] }
workflow lonely { on go steps { r = broken({}) } output r on_failure dead_letter }
`);
  const ran = spawnSync(wfc, ["run", "other.wf", "--workflow", "lonely"], { cwd: server.dir, encoding: "utf8" });
  assert.equal(ran.status, 1, ran.stderr);
  const { page, problems } = await open();
  const notFound = [];
  page.on("response", (r) => { if (r.status() === 404) notFound.push(r.url()); });
  const letter = page.locator("#dead-letters tbody tr", { hasText: "lonely" });
  await letter.waitFor({ timeout: 10000 });
  assert.equal(await letter.locator("button", { hasText: "Replay" }).count(), 0, "no replay offered");
  await letter.locator("td", { hasText: "not served here" }).waitFor();
  await page.locator("#executions tbody tr", { hasText: "lonely" }).first().click();
  await page.locator("#graph-note", { hasText: "not served by this server" }).waitFor();
  assert.equal(await page.locator("#graph-section").isHidden(), true, "no blank graph area");
  assert.deepEqual(notFound, [], "nothing asked that this server cannot answer");
  assert.deepEqual(problems, []);
  await page.close();
});

test("on a narrow screen (800 px) wide tables scroll inside their section, not the page", async () => {
  const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
  await page.goto(server.base + "/");
  await page.locator("#live", { hasText: "live" }).waitFor();
  for (const tab of ["#tab-coordination", "#tab-management"]) {
    await page.click(tab);
    await page.locator("#workflows tbody tr").first().waitFor({ state: "attached" });
    // A table as wide as a real organisation's (long agent lists, version ranges).
    await page.evaluate(() => {
      for (const table of document.querySelectorAll("main table")) {
        const cell = table.insertRow().insertCell();
        cell.textContent = "x".repeat(300);
      }
    });
    const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= width, `${tab}: the page is ${scroll} px wide in a ${width} px window`);
  }
  await page.screenshot({ path: join(root, "target", "dashboard-narrow.png"), fullPage: true });
  await page.close();
});

// ---- The definition editor ------------------------------------------------------

/** Runs git in `dir`; fails the test if git does. */
function git(dir, ...args) {
  const done = spawnSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args], { cwd: dir, encoding: "utf8" });
  assert.equal(done.status, 0, `git ${args.join(" ")}: ${done.stderr}`);
  return done.stdout;
}

/** A server with --edit and a token in a git repository of its own (flow.wf
 * committed; an unrelated change staged), and a browser signed in to it. */
async function editing() {
  const server = await serve(["--token", "ed1t", "--edit"], (dir) => {
    git(dir, "init", "-q", "-b", "main");
    git(dir, "add", "flow.wf");
    git(dir, "commit", "-qm", "first");
    writeFileSync(join(dir, "notes.txt"), "someone's staged note\n");
    git(dir, "add", "notes.txt");
  });
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  await page.goto(server.base + "/");
  await page.fill("input[name=token]", "ed1t");
  await page.click("button[type=submit]");
  await page.locator("#live", { hasText: "live" }).waitFor();
  return { server, page, problems };
}

/** The Management tab's editor, the served file open and checked. */
async function openEditor(page) {
  await page.click("#tab-management");
  await page.locator("#editor .cm-content").waitFor();
  await page.locator("#editor-status", { hasText: "Checks:" }).waitFor();
}

/** Types `words` on a new line at the end of the editor's text. */
async function typeAtEnd(page, words) {
  await page.click("#editor .cm-content");
  await page.keyboard.press("Control+End");
  await page.keyboard.press("Enter");
  await page.keyboard.type(words);
  // No completion stays open to take a later key.
  await page.keyboard.press("Escape");
}

const editorText = (page) => page.locator("#editor .cm-content").evaluate((content) =>
  [...content.querySelectorAll(".cm-line")].map((line) => line.textContent).join("\n"));

/** Starts `workflow` over the API and waits for its result. */
async function runToEnd(base, workflow, input) {
  const headers = { authorization: "Bearer ed1t", "content-type": "application/json" };
  const started = await fetch(`${base}/workflows/${workflow}/runs`, { method: "POST", headers, body: JSON.stringify(input) });
  const said = await started.text();
  assert.equal(started.status, 202, said);
  const { execution } = JSON.parse(said);
  for (let i = 0; i < 200; i++) {
    const detail = await (await fetch(`${base}/executions/${execution}`, { headers })).json();
    if (detail.execution.status === "completed") return detail.execution.result;
    assert.notEqual(detail.execution.status, "failed", JSON.stringify(detail));
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${workflow} did not complete`);
}

test("an edit with a typo shows the checker's diagnostic where it is; fixing it clears it; completion and hover come from the language server", async () => {
  const { page, problems } = await open();
  await openEditor(page);
  await page.locator("#editor-status", { hasText: "Checks: no problem" }).waitFor();
  // This server has no --edit: it checks but does not save.
  assert.equal(await page.isVisible("#editor-readonly"), true);
  assert.equal(await page.isDisabled("#editor-save-form button[type=submit]"), true);
  await typeAtEnd(page, "workflow typo { on go steps { r = doubel({ n: 1 }) } }");
  const line = (await editorText(page)).split("\n").findIndex((l) => l.includes("doubel")) + 1;
  const mark = page.locator("#editor .cm-lintRange-error");
  await mark.first().waitFor();
  assert.equal(await mark.count(), 1);
  assert.equal(await mark.first().textContent(), "doubel");
  const problem = page.locator("#editor-problems li.error");
  await problem.first().waitFor();
  const said = await problem.first().textContent();
  assert.equal(said, `${line}:35 wf::unknown_agent unknown agent \`doubel\``);
  await page.locator("#editor-status", { hasText: "1 error" }).waitFor();
  await page.locator("#editor-section").screenshot({ path: join(root, "target", "dashboard-editor-typo.png") });
  // Fixed in place: the mark and the problem go.
  await mark.first().dblclick();
  await page.keyboard.type("double");
  await page.locator("#editor-status", { hasText: "Checks: no problem" }).waitFor();
  assert.equal(await mark.count(), 0);
  assert.equal(await page.locator("#editor-problems li").count(), 0);
  // Completion: after `on `, the declared triggers.
  await typeAtEnd(page, "workflow more { on ");
  await page.keyboard.type("by_");
  const offered = page.locator(".cm-tooltip-autocomplete .cm-completionLabel");
  await offered.first().waitFor();
  assert.deepEqual(await offered.allTextContents(), ["by_hand"]);
  await page.keyboard.press("Escape");
  // Hover on an agent's name: the language server's explanation.
  await page.locator("#editor .cm-line span", { hasText: /^double$/ }).first().hover();
  const hover = page.locator(".cm-tooltip-hover");
  await hover.waitFor();
  assert.match(await hover.textContent(), /agent double/);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a save shows the diff first, commits that file alone to git, and the server runs the new version", async () => {
  const { server: editingServer, page, problems } = await editing();
  try {
    await openEditor(page);
    await page.locator("#editor-status", { hasText: "Checks: no problem" }).waitFor();
    assert.equal(await page.isVisible("#editor-readonly"), false);
    await page.locator("#editor .cm-line", { hasText: "agent double" }).click();
    await page.keyboard.press("End");
    for (let i = 0; i < "2 } }".length; i++) await page.keyboard.press("Backspace");
    await page.keyboard.type("3 } }");
    await page.locator("#editor-dirty").waitFor();
    await page.fill("#editor-save-form input[name=author]", "Ada Ops");
    await page.fill("#editor-save-form input[name=email]", "ada@example.com");
    await page.fill("#editor-save-form input[name=message]", "Triple instead of double");
    await page.click("#editor-save-form button[type=submit]");
    const diff = page.locator("#editor-diff");
    await diff.waitFor();
    assert.match(await diff.textContent(), /-agent double .*input\.n \* 2 } }\n\+agent double .*input\.n \* 3 } }/);
    await page.locator("#editor-section").screenshot({ path: join(root, "target", "dashboard-editor-diff.png") });
    await page.click("#editor-confirm");
    await page.locator("#editor-message", { hasText: "committed as" }).waitFor();
    assert.equal(git(editingServer.dir, "log", "-1", "--format=%an <%ae>|%s").trim(), "Ada Ops <ada@example.com>|Triple instead of double");
    assert.equal(git(editingServer.dir, "show", "--name-only", "--format=", "HEAD").trim(), "flow.wf");
    assert.match(git(editingServer.dir, "show", "HEAD:flow.wf"), /input\.n \* 3/);
    // The other staged change is untouched; the saved file is clean.
    assert.equal(git(editingServer.dir, "status", "--porcelain", "--untracked-files=no"), "A  notes.txt\n");
    assert.deepEqual(await runToEnd(editingServer.base, "twice", { n: 2 }), { n: 6 });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    editingServer.child.kill();
  }
});

test("a save over a file changed meanwhile is refused with both versions, and nothing is lost", async () => {
  const { server: editingServer, page, problems } = await editing();
  try {
    await openEditor(page);
    await typeAtEnd(page, "// mine");
    // Someone else's edit lands on disk after the file was opened.
    appendFileSync(join(editingServer.dir, "flow.wf"), "// theirs\n");
    await page.click("#editor-save-form button[type=submit]");
    await page.click("#editor-confirm");
    await page.locator("#editor-conflict").waitFor();
    await page.locator("#editor-conflict-diff", { hasText: "+// mine" }).waitFor();
    assert.match(await page.textContent("#editor-conflict-diff"), /-\/\/ theirs/);
    assert.match(await page.textContent("#editor-theirs"), /\/\/ theirs/);
    assert.match(await page.textContent("#editor-yours"), /\/\/ mine/);
    const disk = readFileSync(join(editingServer.dir, "flow.wf"), "utf8");
    assert.ok(disk.includes("// theirs") && !disk.includes("// mine"), "nothing was overwritten");
    await page.locator("#editor-section").screenshot({ path: join(root, "target", "dashboard-editor-conflict.png") });
    await page.click("#editor-take-theirs");
    assert.match(await editorText(page), /\/\/ theirs/);
    assert.match(await page.textContent("#editor-yours"), /\/\/ mine/, "your text stays to merge");
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    editingServer.child.kill();
  }
});

test("a file that does not check is not saved over the served one, only as a draft", async () => {
  const { server: editingServer, page, problems } = await editing();
  try {
    await openEditor(page);
    const before = readFileSync(join(editingServer.dir, "flow.wf"), "utf8");
    await typeAtEnd(page, "workflow broken { on go steps { r = nobody({}) } }");
    await page.locator("#editor .cm-lintRange-error").first().waitFor();
    await page.click("#editor-save-form button[type=submit]");
    await page.click("#editor-confirm");
    await page.locator("#editor-message", { hasText: "does not check" }).waitFor();
    assert.match(await page.textContent("#editor-message"), /wf::unknown_agent/);
    assert.equal(readFileSync(join(editingServer.dir, "flow.wf"), "utf8"), before);
    await page.click("#editor-draft");
    await page.locator("#editor-message", { hasText: "Kept as a draft" }).waitFor();
    assert.match(readFileSync(join(editingServer.dir, "flow.wf.draft"), "utf8"), /nobody/);
    assert.equal(readFileSync(join(editingServer.dir, "flow.wf"), "utf8"), before);
    const served = await (await fetch(`${editingServer.base}/workflows`, { headers: { authorization: "Bearer ed1t" } })).json();
    assert.ok(!served.workflows.some((w) => w.name === "broken"), "the draft is not served");
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    editingServer.child.kill();
  }
});

test("New workflow starts a new file from the skeleton, checked as typed; saved, it is served and runs", async () => {
  const { server: editingServer, page, problems } = await editing();
  try {
    await openEditor(page);
    await page.click("#editor-new");
    await page.fill("#editor-new-form input[name=name]", "intake");
    assert.equal(await page.inputValue("#editor-new-form input[name=file]"), "intake.wf");
    await page.click("#editor-new-form button[type=submit]");
    await page.locator("#editor-name", { hasText: "intake.wf (new)" }).waitFor();
    await page.locator("#editor-status", { hasText: "Checks: no problem" }).waitFor();
    assert.match(await editorText(page), /workflow intake \{/);
    await page.click("#editor-save-form button[type=submit]");
    await page.click("#editor-confirm");
    await page.locator("#editor-message", { hasText: "serving it now" }).waitFor();
    assert.equal(git(editingServer.dir, "show", "--name-only", "--format=", "HEAD").trim(), "intake.wf");
    // In the catalogue, and it runs.
    await page.click("#tab-coordination");
    await page.locator("#run-workflow option[value=intake]").waitFor({ state: "attached" });
    assert.deepEqual(await runToEnd(editingServer.base, "intake", { name: "Ada" }), { text: "Hello, Ada" });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    editingServer.child.kill();
  }
});

test("without --edit, or without the token, every write endpoint refuses", async () => {
  // The default server (no --edit): the page's own save is refused.
  const { page } = await open();
  const status = await page.evaluate(async () => {
    const file = await (await fetch("/files/flow.wf")).json();
    const response = await fetch("/files/flow.wf", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: file.text, blob: file.blob }) });
    return response.status;
  });
  assert.equal(status, 403);
  await page.close();
  // A server with --edit and a token: nothing is written without the token.
  const guarded = await serve(["--token", "ed1t", "--edit"]);
  try {
    const writes = [
      ["PUT", "/files/flow.wf"], ["PUT", "/files/new.wf"], ["POST", "/workflows/twice/runs"],
      ["POST", "/events/lead.created"], ["POST", "/metrics/sales"], ["POST", "/agents/ann/pause"],
      ["POST", "/dead-letters/1/replay"], ["POST", "/dead-letters/1/drop"],
      ["POST", "/executions/00000000-0000-0000-0000-000000000000/cancel"],
      ["POST", "/executions/00000000-0000-0000-0000-000000000000/waits/decision"],
    ];
    for (const [method, path] of writes) {
      const response = await fetch(guarded.base + path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "", blob: null }) });
      assert.equal(response.status, 401, `${method} ${path}`);
    }
    assert.ok(!existsSync(join(guarded.dir, "new.wf")));
  } finally {
    guarded.child.kill();
  }
});

test("axe-core finds no serious or critical accessibility violation on either tab", async () => {
  const require = createRequire(import.meta.url);
  const axe = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  const { page, problems } = await open();
  await page.locator("#executions tbody tr, #dead-letters-empty").first().waitFor();
  const found = [];
  for (const tab of ["#tab-coordination", "#tab-management"]) {
    await page.click(tab);
    if (tab === "#tab-management") await openEditor(page);
    // Evaluated by the browser's debugger, not as a page script: the page's
    // policy rightly refuses inline scripts.
    await page.evaluate(axe);
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
    for (const violation of result.violations) {
      if (violation.impact === "serious" || violation.impact === "critical") {
        found.push(`${tab} ${violation.id} (${violation.impact}): ${violation.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
      }
    }
  }
  assert.deepEqual(found, []);
  assert.deepEqual(problems, []);
  await page.close();
});
