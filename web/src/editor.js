// The Management tab's definition editor: open a served .wf file (or start a
// new one from the skeleton), edit it with the server's diagnostics, completion
// and hover, review the diff against the file on disk, and save it — written
// atomically, served at once and committed to git by the server, refused when
// the file changed since it was opened.
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { syntaxHighlighting, HighlightStyle, bracketMatching, indentUnit } from "@codemirror/language";
import { lintKeymap } from "@codemirror/lint";
import { completionKeymap, closeBrackets } from "@codemirror/autocomplete";
import { tags } from "@lezer/highlight";
import { call, filePath, ApiError } from "./api.js";
import { wfLanguage } from "./language.js";
import { checking, completing, hovering, offsetOf } from "./checker.js";

const $ = (selector) => document.querySelector(selector);
const say = (element, words, kind = "") => {
  element.className = kind;
  element.textContent = words;
};

// CodeMirror's one <style> element carries the page's nonce, which its policy
// allows; nothing else it styles needs one.
const nonce = document.currentScript ? document.currentScript.nonce : "";

// Colours with at least 4.5:1 contrast on white, for readers and for axe.
const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: "#8250df", fontWeight: "600" },
  { tag: tags.string, color: "#0a3069" },
  { tag: tags.comment, color: "#57606a", fontStyle: "italic" },
  { tag: tags.number, color: "#0550ae" },
  { tag: tags.typeName, color: "#953800" },
  { tag: tags.definition(tags.variableName), color: "#116329", fontWeight: "600" },
  { tag: tags.operator, color: "#cf222e" },
]);

const theme = EditorView.theme({
  "&": { border: "1px solid #d0d7de", borderRadius: "6px", fontSize: "13px", background: "#fff" },
  "&.cm-focused": { outline: "2px solid #0969da" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", minHeight: "16rem", maxHeight: "32rem" },
  ".cm-gutters": { background: "#f6f8fa", color: "#57606a", borderRight: "1px solid #d0d7de" },
  ".cm-tooltip": { maxWidth: "36rem" },
  ".wf-hover": { padding: ".3rem .6rem", maxHeight: "20rem", overflow: "auto" },
  ".wf-hover pre": { margin: ".3rem 0", whiteSpace: "pre-wrap" },
  ".cm-diagnosticText": { whiteSpace: "pre-wrap" },
});

/** The file open: its path, the blob it had when opened (null: new), its text then. */
let open = null;
let view = null;
let editable = false;

function dirty() {
  return open && view && view.state.doc.toString() !== open.text;
}

function showProblems(diagnostics, failure) {
  const list = $("#editor-problems");
  list.replaceChildren();
  if (failure) {
    say($("#editor-status"), `Cannot check: ${failure.message}`, "error");
    return;
  }
  const count = (severity) => diagnostics.filter((d) => d.severity === severity).length;
  const errors = count("error");
  const warnings = count("warning");
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (!diagnostics.length) say($("#editor-status"), "Checks: no problem.", "completed");
  else say($("#editor-status"), `Checks: ${plural(errors, "error")}, ${plural(warnings, "warning")}.`, errors ? "error" : "");
  for (const d of diagnostics) {
    const item = document.createElement("li");
    const here = d.file === open.path;
    const where = `${here ? "" : d.file + " "}${d.line}:${d.column}`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = where;
    button.setAttribute("aria-label", `go to ${where}`);
    button.disabled = !here || !d.range;
    button.addEventListener("click", () => {
      const at = offsetOf(view.state.doc, d.range.start);
      view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
      view.focus();
    });
    const code = document.createElement("code");
    code.textContent = d.code;
    item.className = d.severity;
    item.append(button, " ", code, " ", d.message);
    list.append(item);
  }
}

function extensions() {
  const path = () => open.path;
  return [
    lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), drawSelection(),
    history(), bracketMatching(), closeBrackets(), indentUnit.of("  "),
    keymap.of([...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap, indentWithTab]),
    language, syntaxHighlighting(highlight), theme,
    checking(path, showProblems), completing(path), hovering(path),
    // Focusable by the keyboard in so many words, for tools that do not count
    // contenteditable (axe's scrollable-region rule).
    EditorView.contentAttributes.of({ "aria-label": "workflow definition", tabindex: "0" }),
    EditorView.cspNonce.of(nonce),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) {
        $("#editor-diff-box").hidden = true;
        $("#editor-dirty").hidden = !dirty();
      }
    }),
  ];
}

/** Shows `text` of `path` (blob null: a file not on disk yet) in the editor. */
function show(path, blob, text) {
  open = { path, blob, text };
  const state = EditorState.create({ doc: text, extensions: extensions() });
  // Made with its first file: its styles are mounted with the nonce from the start.
  if (view) view.setState(state);
  else view = new EditorView({ parent: $("#editor"), state });
  $("#editor-name").textContent = blob ? path : `${path} (new)`;
  $("#editor-dirty").hidden = true;
  $("#editor-diff-box").hidden = true;
  $("#editor-conflict").hidden = true;
  say($("#editor-message"), "");
  say($("#editor-status"), "Checking…", "muted");
}

/** The address names the file open, so it can be linked. */
function link(path) {
  window.history.replaceState(null, "", `#edit=${encodeURIComponent(path)}`);
}

async function openFile(path) {
  if (dirty() && !confirm(`Discard your changes to ${open.path}?`)) {
    $("#editor-file").value = open.path;
    return;
  }
  const file = await call(filePath(path));
  show(file.path, file.blob, file.text);
  $("#editor-file").value = file.path;
}

/** The .wf highlighter, made once the grammar's words are known. */
let language = [];
async function loadFiles(select) {
  const listing = await call("/files");
  editable = listing.editable;
  $("#editor-readonly").hidden = editable;
  for (const button of document.querySelectorAll("#editor-save-form button")) button.disabled = !editable;
  const files = [...listing.files].sort((a, b) => (b.root - a.root) || a.path.localeCompare(b.path));
  $("#editor-file").replaceChildren(...files.map((f) => new Option(f.root ? f.path : `${f.path} (imported)`, f.path)));
  // A new file's directory: the first served file's.
  const first = files.find((f) => f.root);
  $("#editor-new-form").elements.namedItem("file").dataset.dir = first && first.path.includes("/")
    ? first.path.slice(0, first.path.lastIndexOf("/") + 1) : "";
  if (select) $("#editor-file").value = select;
  return files;
}

// ---- New workflow: a skeleton in a new file ----------------------------------
function newForm() {
  const form = $("#editor-new-form");
  const name = form.elements.namedItem("name");
  const file = form.elements.namedItem("file");
  if (!file.dataset.edited) file.value = `${file.dataset.dir}${name.value || "new_workflow"}.wf`;
}

async function startNew(event) {
  event.preventDefault();
  const form = $("#editor-new-form");
  const name = form.elements.namedItem("name").value.trim();
  const path = form.elements.namedItem("file").value.trim();
  if (dirty() && !confirm(`Discard your changes to ${open.path}?`)) return;
  const skeleton = await (await fetch("/skeleton.wf")).text();
  show(path, null, skeleton.replaceAll("{name}", name));
  link(path);
  // Unsaved: the whole text is the change.
  open.text = "";
  $("#editor-dirty").hidden = false;
  form.hidden = true;
  $("#editor-file").value = "";
  view.focus();
}

// ---- Saving: review the diff, then write ---------------------------------------
/** Shows in `pre` the diff from the file on disk now to `text`. */
async function showDiff(pre, text) {
  const answer = await call("/diff", "POST", { path: open.path, text });
  pre.replaceChildren();
  for (const line of answer.diff.split("\n")) {
    const span = document.createElement("span");
    span.className = line.startsWith("+") && !line.startsWith("+++") ? "ins"
      : line.startsWith("-") && !line.startsWith("---") ? "del" : "";
    span.textContent = line + "\n";
    pre.append(span);
  }
  if (!answer.diff) pre.textContent = "No change from the file on disk.";
}

async function review() {
  say($("#editor-message"), "");
  await showDiff($("#editor-diff"), view.state.doc.toString());
  $("#editor-diff-box").hidden = false;
  $("#editor-confirm").focus();
}

async function save(draft) {
  const form = $("#editor-save-form");
  const field = (name) => form.elements.namedItem(name).value.trim();
  const text = view.state.doc.toString();
  const message = $("#editor-message");
  say(message, draft ? "Saving a draft…" : "Saving…", "muted");
  try {
    const answer = await call(filePath(open.path), "PUT", {
      text, blob: open.blob, draft,
      author: field("author"), email: field("email"), message: field("message"),
    });
    localStorage.setItem("wfc-assigner", field("author"));
    localStorage.setItem("wfc-email", field("email"));
    $("#editor-diff-box").hidden = true;
    if (!answer.served) {
      say(message, `Kept as a draft in ${answer.written}: it is not served until it checks.`, "");
      return;
    }
    open = { path: open.path, blob: answer.blob, text };
    $("#editor-dirty").hidden = true;
    const committed = answer.commit ? `committed as ${answer.commit.slice(0, 8)}` : `not committed (${answer.not_committed})`;
    say(message, `Saved ${open.path} and serving it now; ${committed}.`, "completed");
    form.elements.namedItem("message").value = "";
    await loadFiles(open.path);
    $("#editor-name").textContent = open.path;
    document.dispatchEvent(new CustomEvent("wfc:saved", { detail: { path: open.path } }));
  } catch (error) {
    $("#editor-diff-box").hidden = true;
    if (error instanceof ApiError && error.status === 409 && error.body.disk) return conflict(error.body, text);
    const found = (error.body && error.body.diagnostics || []).filter((d) => d.severity === "error");
    const why = found.map((d) => `${d.code} at ${d.line}:${d.column}: ${d.message}`);
    say(message, [error.message, ...why].join("\n"), "error");
    $("#editor-draft-hint").hidden = !(error instanceof ApiError && error.status === 422);
  }
}

/** The file changed on disk since it was opened: both texts shown, nothing lost. */
async function conflict(body, yours) {
  const box = $("#editor-conflict");
  box.hidden = false;
  $("#editor-conflict-error").textContent = body.error;
  $("#editor-theirs").textContent = body.disk.text || "(the file is empty or gone)";
  $("#editor-yours").textContent = yours;
  say($("#editor-message"), "Not saved: the file changed on disk. Your text is kept below and in the editor.", "error");
  box.dataset.blob = body.disk.blob || "";
  box.dataset.text = body.disk.text;
  await showDiff($("#editor-conflict-diff"), yours).catch((error) => { $("#editor-conflict-diff").textContent = error.message; });
  box.scrollIntoView({ block: "nearest" });
}

function takeTheirs() {
  const box = $("#editor-conflict");
  const yours = view.state.doc.toString();
  show(open.path, box.dataset.blob || null, box.dataset.text);
  // Yours stays on screen to merge by hand.
  box.hidden = false;
  $("#editor-yours").textContent = yours;
  say($("#editor-message"), "The editor now has the file as it is on disk; your text is below.", "");
}

function keepMine() {
  const box = $("#editor-conflict");
  // Saving over the file as it is now, knowingly: review first.
  open.blob = box.dataset.blob || null;
  open.text = box.dataset.text;
  box.hidden = true;
  review();
}

// ---- Start ------------------------------------------------------------------------
async function start() {
  if (!$("#editor")) return;
  const keywords = (await call("/language")).keywords;
  language = wfLanguage(keywords);
  const form = $("#editor-save-form");
  form.elements.namedItem("author").value = localStorage.getItem("wfc-assigner") || "";
  form.elements.namedItem("email").value = localStorage.getItem("wfc-email") || "";
  const files = await loadFiles();
  const linked = new URLSearchParams(location.hash.slice(1)).get("edit");
  const first = files.find((f) => f.path === linked) || files.find((f) => f.root) || files[0];
  if (first) await openFile(first.path);
  if (linked) {
    $("#tab-management").click();
    $("#editor-section").scrollIntoView({ block: "start" });
  }

  $("#editor-file").addEventListener("change", async (event) => {
    if (!event.target.value) return;
    await openFile(event.target.value);
    link(open.path);
  });
  $("#editor-new").addEventListener("click", () => {
    const newForm_ = $("#editor-new-form");
    newForm_.hidden = !newForm_.hidden;
    newForm();
    if (!newForm_.hidden) newForm_.elements.namedItem("name").focus();
  });
  $("#editor-new-form").elements.namedItem("name").addEventListener("input", newForm);
  $("#editor-new-form").elements.namedItem("file").addEventListener("input", (event) => { event.target.dataset.edited = "1"; });
  $("#editor-new-form").addEventListener("submit", startNew);
  form.addEventListener("submit", (event) => { event.preventDefault(); review(); });
  $("#editor-confirm").addEventListener("click", () => save(false));
  $("#editor-draft").addEventListener("click", () => save(true));
  $("#editor-keep-editing").addEventListener("click", () => { $("#editor-diff-box").hidden = true; view.focus(); });
  $("#editor-take-theirs").addEventListener("click", takeTheirs);
  $("#editor-keep-mine").addEventListener("click", keepMine);
  // A workflow made from a template elsewhere on the page changes the files.
  document.addEventListener("wfc:files-changed", () => loadFiles(open && open.path));
  window.addEventListener("beforeunload", (event) => { if (dirty()) event.preventDefault(); });
}

start().catch((error) => say($("#editor-status"), `The editor could not start: ${error.message}`, "error"));
