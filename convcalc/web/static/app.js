// convcalc's page: Pyodide from ./pyodide/, the wheels from ./wheels/, nothing from elsewhere.
// Python (convcalc.web.page) computes; this script only shows what it returns (JSON).
import { loadPyodide } from "./pyodide/pyodide.mjs";

const $ = (id) => document.getElementById(id);
const started = performance.now();
const timings = { loaded: null, first: null, updates: [] };
let page = null;

async function sha256(buffer) {
  if (!globalThis.crypto || !crypto.subtle) return null; // not a secure context: nothing to check with
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function start() {
  const here = new URL("./", location.href).href;
  const pyodide = await loadPyodide({ indexURL: here + "pyodide/", lockFileURL: here + "pyodide/pyodide-lock.json" });
  const manifest = await (await fetch("wheels.json")).json();
  const purelib = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
  for (const wheel of manifest.wheels) {
    const buffer = await (await fetch("wheels/" + wheel.file)).arrayBuffer();
    const found = await sha256(buffer);
    if (found !== null && found !== wheel.sha256) throw new Error(`${wheel.file}: checksum ${found}, expected ${wheel.sha256}`);
    pyodide.unpackArchive(buffer, "wheel", { extractDir: purelib });
  }
  page = pyodide.pyimport("convcalc.web.page");
  $("version").textContent = manifest.convcalc;
  timings.loaded = performance.now() - started;
  return pyodide;
}

function call(name, ...args) {
  return JSON.parse(page[name](...args));
}

function element(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function goToLine(line) {
  const editor = $("spec");
  const lines = editor.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  editor.focus();
  editor.setSelectionRange(start, start + (lines[line - 1] || "").length);
}

function located(item, text) {
  // A message at its line: a button that selects the line in the editor.
  if (!item.line) return element("span", text);
  const button = element("button", `line ${item.line}: ${text}`);
  button.type = "button";
  button.addEventListener("click", () => goToLine(item.line));
  return button;
}

function show(result) {
  const errors = $("errors");
  errors.replaceChildren();
  for (const e of result.errors) {
    const li = element("li", undefined, "bad");
    li.append(located(e, `error: ${e.message}`));
    errors.append(li);
  }
  if (result.errors.length) {
    $("summary").textContent = "The spec cannot be read: see the messages under the editor.";
    $("summary").className = "bad";
    return;
  }
  const checks = $("checks");
  checks.replaceChildren();
  for (const c of result.checks || []) {
    const li = element("li", undefined, c.ok ? "ok" : "bad");
    const actual = Array.isArray(c.actual) ? c.actual.join("x") : String(c.actual);
    li.append(located(c, `${c.ok ? "✓" : "✗"} ${c.name} ${c.key}: answered ${c.expected}, convcalc computes ${actual}`));
    checks.append(li);
  }
  for (const d of result.diagnostics || []) {
    const li = element("li", undefined, d.severity === "error" ? "bad" : "");
    li.append(located(d, `${d.severity}: ${d.message}`));
    checks.append(li);
  }
  if (!checks.children.length) checks.append(element("li", "No answers to check and nothing wrong.", "ok"));
  $("table").innerHTML = result.table; // rich's HTML export: every text escaped
  $("figure").innerHTML = result.figure || ""; // convcalc's SVG: every text escaped
  $("sizes").textContent = (result.sizes || []).join("\n");
  const summary = $("summary");
  if (result.symbolic) {
    summary.textContent = "A symbolic input: every figure as a formula of the sizes.";
    summary.className = "";
  } else {
    const state = result.ok ? "ok" : "not ok: see the checks";
    summary.textContent = `${result.name}: ${result.rows} rows, ${result.params.toLocaleString("en-US")} params, ` +
      `${result.macs.toLocaleString("en-US")} MACs, ${state}`;
    summary.className = result.ok ? "ok" : "bad";
  }
}

function update() {
  const t0 = performance.now();
  const result = call("spec_result", $("spec").value);
  show(result);
  const took = performance.now() - t0;
  if (timings.first === null) timings.first = performance.now() - started;
  else timings.updates.push(took);
  document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  return result;
}

function calculate(event) {
  if (event) event.preventDefault();
  const result = call("layer_result", $("calc-input").value, $("calc-layers").value);
  $("calc-result").innerHTML = result.html; // text escaped in Python
  $("calc-result").className = result.ok ? "" : "bad";
  return result;
}

function encode(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decode(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

function fromHash() {
  const match = /^#spec=([A-Za-z0-9_-]*)$/.exec(location.hash);
  if (!match) return null;
  try { return decode(match[1]); } catch { return null; }
}

async function main() {
  const status = $("status");
  try {
    await start();
  } catch (error) {
    status.textContent = `convcalc could not start: ${error}`;
    status.className = "bad";
    throw error;
  }
  const builtins = call("builtins");
  const select = $("builtin");
  for (const b of builtins) select.append(new Option(b.name, b.name));
  const shared = fromHash();
  const editor = $("spec");
  editor.value = shared ?? builtins.find((b) => b.name === "vgg16").text;
  if (shared === null) select.value = "vgg16";
  select.addEventListener("change", () => {
    const chosen = builtins.find((b) => b.name === select.value);
    if (chosen) { editor.value = chosen.text; update(); }
  });
  let pending = null;
  editor.addEventListener("input", () => {
    select.value = "";
    clearTimeout(pending);
    pending = setTimeout(update, 120);
  });
  $("calc-form").addEventListener("submit", calculate);
  $("share").addEventListener("click", async () => {
    history.replaceState(null, "", "#spec=" + encode(editor.value));
    try { await navigator.clipboard.writeText(location.href); $("share-note").textContent = "Link copied."; }
    catch { $("share-note").textContent = "The link is in the address bar."; }
  });
  addEventListener("hashchange", () => { const text = fromHash(); if (text !== null) { editor.value = text; update(); } });
  calculate();
  update();
  status.textContent = shared === null ? "Ready: edit the spec, results follow as you type."
    : "Worksheet: the answers in this spec are checked below.";
  document.body.dataset.ready = "true";
}

window.convcalc = { timings, ready: main(), call: (name, ...args) => call(name, ...args), update, calculate };
