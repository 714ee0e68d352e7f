// luodi review: the queue, one item at a time, keyboard first.
// Every value from the server reaches the page through textContent, .value or setAttribute, never
// as HTML, so a field that reads "<script>" is shown as those characters.
"use strict";

const API = "/ui/api";
const KEY = "luodi.review.key";
const NAME = "luodi.review.name";
const RENEW_MS = 60_000;

const state = {
  items: [], total: 0, offset: 0, item: null, objectUrls: [], draw: null, renew: null, activeField: null,
};

const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...children) {
  const el = tag === "svg" || tag === "polygon" || tag === "image" || tag === "g"
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.setAttribute("class", v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// --- talking to the service ---------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.type = body && body.error && body.error.type;
  }
}

function headers(extra) {
  const name = sessionStorage.getItem(NAME) || "";
  // a header value must be latin-1: the name travels as UTF-8 bytes, the server decodes them
  const utf8 = String.fromCharCode(...new TextEncoder().encode(name));
  return { "X-API-Key": sessionStorage.getItem(KEY) || "", "X-Reviewer": utf8, ...(extra || {}) };
}

async function call(method, path, body, extraHeaders) {
  const init = { method, headers: headers(extraHeaders) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(API + path, init);
  if (res.status === 401) {
    showLogin("The API key was not accepted.");
    throw new ApiError(401, await res.json().catch(() => null));
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

async function blob(path) {
  const res = await fetch(API + path, { headers: headers() });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return res;
}

// --- login --------------------------------------------------------------------------------------
function showLogin(message) {
  $("login-error").textContent = message || "";
  $("login-name").value = sessionStorage.getItem(NAME) || "";
  if (!$("login").open) $("login").showModal();
  $("login-key").focus();
}

async function onLogin(event) {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("login-key").value.trim());
  sessionStorage.setItem(NAME, $("login-name").value.trim());
  try {
    await call("GET", "/queue?limit=1");
  } catch (err) {
    if (err.status !== 401) $("login-error").textContent = err.message;
    return;
  }
  $("login").close();
  $("who").textContent = sessionStorage.getItem(NAME);
  await start();
}

// --- queue --------------------------------------------------------------------------------------
function filters() {
  const form = new FormData($("filters"));
  const out = {};
  for (const [k, v] of form.entries()) if (v) out[k] = v;
  if (out.until) out.until = new Date(new Date(out.until).getTime() + 86_400_000).toISOString().slice(0, 10);
  return out;
}

function query(params) {
  const q = new URLSearchParams(params).toString();
  return q ? `?${q}` : "";
}

function fillSelect(select, values) {
  const keep = select.value;
  select.replaceChildren(h("option", { value: "" }, "any"), ...values.map((v) => h("option", { value: v }, v)));
  if (values.includes(keep)) select.value = keep;
}

async function loadFacets() {
  const f = await call("GET", "/facets");
  const form = $("filters");
  fillSelect(form.elements.kind, f.kinds);
  fillSelect(form.elements.schema, f.schemas);
  fillSelect(form.elements.field, f.fields);
  fillSelect(form.elements.reason, f.reasons);
}

function renderCounts(waiting) {
  const total = Object.values(waiting).reduce((a, b) => a + b, 0);
  const parts = Object.entries(waiting).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  $("counts").textContent = `${total} waiting${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

function ago(epoch) {
  return new Date(epoch * 1000).toLocaleString();
}

function queueRow(entry) {
  const leasedByOther = entry.lease && entry.lease.owner !== sessionStorage.getItem(NAME);
  const flags = [...new Set(entry.flags.map((f) => f.field))];
  return h("li", {
    "data-id": entry.id,
    class: [leasedByOther ? "leased" : "", state.item && state.item.id === entry.id ? "current" : ""].join(" ").trim(),
    title: leasedByOther ? `being reviewed by ${entry.lease.owner}` : "",
    onclick: () => openItem(entry.id),
  },
  h("div", { class: "src" }, entry.source || entry.id),
  h("div", { class: "tags" },
    h("span", { class: "tag" }, entry.kind), entry.schema ? h("span", { class: "tag" }, entry.schema) : null,
    ...flags.map((f) => h("span", { class: "tag flag" }, f)),
    leasedByOther ? h("span", { class: "tag" }, `🔒 ${entry.lease.owner}`) : null),
  h("div", { class: "muted" }, ago(entry.created_at)));
}

async function loadQueue(append) {
  state.offset = append ? state.items.length : 0;
  const page = await call("GET", `/queue${query({ ...filters(), limit: 50, offset: state.offset })}`);
  state.items = append ? state.items.concat(page.items) : page.items;
  state.total = page.total;
  renderCounts(page.waiting);
  $("queue-total").textContent = `${page.total} matching`;
  $("queue").replaceChildren(...state.items.map(queueRow));
  $("more").hidden = state.items.length >= page.total;
}

function dropFromQueue(id) {
  state.items = state.items.filter((e) => e.id !== id);
  state.total = Math.max(0, state.total - 1);
  const row = $("queue").querySelector(`li[data-id="${CSS.escape(id)}"]`);
  if (row) row.remove();
  $("queue-total").textContent = `${state.total} matching`;
}

// --- one item -----------------------------------------------------------------------------------
function banner(message, bad) {
  const el = $("banner");
  el.hidden = !message;
  el.className = bad ? "banner bad" : "banner";
  el.replaceChildren();
  if (message) el.append(message);
}

function freeUrls() {
  for (const url of state.objectUrls) URL.revokeObjectURL(url);
  state.objectUrls = [];
}

async function leave() {
  clearInterval(state.renew);
  if (state.item && state.item.status === "waiting") {
    call("DELETE", `/items/${state.item.id}/claim`).catch(() => {});
  }
  state.item = null;
}

async function openNext() {
  await leave();
  const item = await call("POST", `/next${query(filters())}`);
  if (!item) return showNothing();
  show(item);
}

function showNothing() {
  freeUrls();
  $("view").hidden = true;
  $("empty").hidden = false;
  banner("");
}

async function openItem(id) {
  await leave();
  banner("");
  let item;
  try {
    item = await call("POST", `/items/${id}/claim`);
  } catch (err) {
    if (err.status !== 409) throw err;
    item = await call("GET", `/items/${id}`);
    show(item);
    banner(`${err.message}. You can look, but saving waits until the lease ends.`, true);
    return;
  }
  show(item);
}

function show(item) {
  freeUrls();
  state.item = item;
  state.activeField = null;
  $("empty").hidden = true;
  $("view").hidden = false;
  banner("");
  $("item-title").textContent = item.source || item.id;
  const bits = [item.kind, item.schema, item.dataset, ago(item.created_at), `v${item.version}`].filter(Boolean);
  if (item.status !== "waiting") bits.push(`${item.status} by ${item.reviewer || "?"}`);
  $("item-meta").textContent = bits.join(" · ");
  for (const li of $("queue").children) li.classList.toggle("current", li.dataset.id === item.id);
  const form = $("form");
  form.replaceChildren();
  $("canvas").replaceChildren();
  if (item.kind === "document") showDocument(item);
  else if (item.kind === "line") showLine(item);
  else showClass(item);
  clearInterval(state.renew);
  if (item.status === "waiting") {
    state.renew = setInterval(() => call("POST", `/items/${item.id}/claim`).catch(() => {}), RENEW_MS);
  }
}

async function pageImage(item, page, svg) {
  const res = await blob(`/items/${item.id}/image?page=${page}`);
  const url = URL.createObjectURL(await res.blob());
  state.objectUrls.push(url);
  const probe = new Image();
  probe.src = url;
  await probe.decode();
  svg.setAttribute("viewBox", `0 0 ${probe.naturalWidth} ${probe.naturalHeight}`);
  svg.prepend(h("image", { href: url, x: 0, y: 0, width: probe.naturalWidth, height: probe.naturalHeight }));
}

function points(box) {
  return box.map(([x, y]) => `${x},${y}`).join(" ");
}

const MAX_PAGES = 20;

function showDocument(item) {
  // every page stacked, each an SVG of its own with its fields' boxes (a field's page is in its entry)
  const svgs = [];
  for (let p = 0; p < Math.min(item.pages, MAX_PAGES); p++) {
    const svg = h("svg", { role: "img", "aria-label": `page ${p + 1} with field boxes`, "data-page": p });
    $("canvas").append(svg);
    svgs.push(svg);
    pageImage(item, p, svg).catch((err) => banner(`image: ${err.message}`, true));
  }
  const fields = item.final.fields || {};
  const suggested = item.suggestion.fields || {};
  const flagged = {};
  for (const f of item.flags) (flagged[f.field] = flagged[f.field] || []).push(f.reason);
  const names = Object.keys(suggested).concat(Object.keys(fields).filter((n) => !(n in suggested)));
  // flagged fields first: the cursor lands where a person is needed
  names.sort((a, b) => (flagged[b] ? 1 : 0) - (flagged[a] ? 1 : 0));
  state.boxes = {};
  state.pages = {};
  const form = $("form");
  if (flagged.document) form.append(h("div", { class: "why" }, `document: ${flagged.document.join("; ")}`));
  for (const name of names.filter((n) => n !== "document")) {
    const entry = fields[name] || { value: null, box: null };
    const was = suggested[name] || {};
    state.boxes[name] = entry.box || null;
    state.pages[name] = Number(entry.page !== undefined ? entry.page : was.page || 0);
    const input = h("input", {
      type: "text", name, value: entry.value === null || entry.value === undefined ? "" : String(entry.value),
      "aria-label": name, "data-field": name,
      onfocus: () => setActive(name),
      oninput: (e) => e.target.closest(".field").classList.add("changed"),
    });
    const row = h("div", { class: `field${flagged[name] ? " flagged" : ""}`, "data-field": name },
      h("div", { class: "name" }, h("span", {}, name),
        was.score !== undefined ? h("span", { class: "muted" }, `score ${Number(was.score).toFixed(2)}`) : null,
        h("button", { type: "button", class: "small", title: "redraw this field's box (Alt+B)", tabindex: -1,
          onclick: () => startDraw(name) }, "box")),
      input,
      flagged[name] ? h("div", { class: "why" }, flagged[name].join("; ")) : null,
      was.raw && was.raw !== entry.value ? h("div", { class: "was" }, `read: ${was.raw}`) : null);
    form.append(row);
    const svg = svgs[state.pages[name]];
    if (entry.box && svg) svg.append(h("polygon", { class: `box${flagged[name] ? " flagged" : ""}`, points: points(entry.box), "data-field": name }));
  }
  focusFirst();
}

function focusFirst() {
  const first = $("form").querySelector(".field.flagged input") || $("form").querySelector("input");
  if (first) { first.focus(); first.select(); } else $("accept").focus();
}

function setActive(name) {
  state.activeField = name;
  for (const poly of document.querySelectorAll("#canvas polygon")) {
    poly.classList.toggle("active", poly.dataset.field === name);
  }
}

function showLine(item) {
  const svg = h("svg", { role: "img", "aria-label": "text line image" });
  $("canvas").append(svg);
  pageImage(item, 0, svg).catch((err) => banner(`image: ${err.message}`, true));
  const final = item.final;
  const input = h("input", { type: "text", name: "text", value: final.text || "", "aria-label": "text", lang: "zh" });
  const illegible = h("input", { type: "checkbox", name: "illegible", checked: final.illegible ? "checked" : null });
  $("form").append(
    h("div", { class: `field${item.flags.length ? " flagged" : ""}` },
      h("div", { class: "name" }, "text", item.suggestion.score !== undefined ? h("span", { class: "muted" }, `score ${Number(item.suggestion.score).toFixed(2)}`) : null),
      input, h("div", { class: "was" }, `read: ${item.suggestion.text || ""}`)),
    h("label", { class: "field" }, h("span", { class: "name" }, illegible, " illegible (###)")));
  input.focus();
  input.select();
}

function showClass(item) {
  const classes = item.suggestion.classes || [];
  if (item.kind === "text") {
    $("canvas").append(h("div", { class: "text-item", lang: "zh" }, item.text || ""));
  } else {
    const svg = h("svg", { role: "img", "aria-label": "image to classify" });
    $("canvas").append(svg);
    pageImage(item, 0, svg).catch((err) => banner(`image: ${err.message}`, true));
  }
  state.chosen = item.final.label || null;
  const buttons = classes.map((c, i) => h("button", {
    type: "button", "data-class": c, class: c === state.chosen ? "chosen" : "",
    onclick: () => choose(c),
  }, i < 9 ? h("kbd", {}, String(i + 1)) : null, " ", c));
  const other = h("input", { type: "text", name: "label", placeholder: "or type a class", value: classes.includes(state.chosen) ? "" : (state.chosen || ""), "aria-label": "class" });
  $("form").append(h("div", { class: "field" }, h("div", { class: "name" }, "class"), h("div", { class: "classes" }, buttons), other));
  $("accept").focus();
}

function choose(label) {
  state.chosen = label;
  for (const b of $("form").querySelectorAll("button[data-class]")) b.classList.toggle("chosen", b.dataset.class === label);
  const other = $("form").elements.label;
  if (other) other.value = "";
}

function labelsFromForm() {
  const item = state.item;
  const form = $("form");
  if (item.kind === "document") {
    const fields = {};
    for (const input of form.querySelectorAll("input[data-field]")) {
      const name = input.dataset.field;
      const before = (item.final.fields || {})[name] || {};
      let value = input.value;
      // keep a suggested number a number when it was not edited
      if (before.value !== null && before.value !== undefined && String(before.value) === value) value = before.value;
      else if (value === "") value = null;
      fields[name] = { value, box: state.boxes[name] || null };
      if (state.pages[name]) fields[name].page = state.pages[name];
    }
    return { fields };
  }
  if (item.kind === "line") {
    const illegible = form.elements.illegible.checked;
    return illegible ? { text: form.elements.text.value, illegible: true } : { text: form.elements.text.value };
  }
  const typed = form.elements.label && form.elements.label.value.trim();
  return { label: typed || state.chosen || null };
}

async function decide(action) {
  const item = state.item;
  if (!item) return;
  const body = { action };
  if (action !== "reject") body.labels = labelsFromForm();
  try {
    const saved = await call("PUT", `/items/${item.id}`, body, { "If-Match": `"v${item.version}"` });
    if (action === "save") {
      state.item = saved;
      $("item-meta").textContent = `${saved.kind} · saved v${saved.version}`;
      return;
    }
    clearInterval(state.renew);
    state.item = null;
    dropFromQueue(item.id);
    renderCountsAfter();
    await openNext();
  } catch (err) {
    if (err.status === 409) {
      banner(`Not saved: ${err.message}. Alt+L reloads the item.`, true);
    } else if (err.status !== 401) {
      banner(`Not saved: ${err.message}`, true);
    }
  }
}

async function renderCountsAfter() {
  try {
    const page = await call("GET", `/queue${query({ limit: 1 })}`);
    renderCounts(page.waiting);
  } catch { /* the count refreshes on the next queue load */ }
}

async function reload() {
  if (!state.item) return;
  const item = await call("GET", `/items/${state.item.id}`);
  show(item);
}

// --- redrawing a box ----------------------------------------------------------------------------
function startDraw(name) {
  const svg = $("canvas").querySelector("svg");
  if (!svg || !state.item || state.item.kind !== "document") return;
  state.draw = { name, start: null, rect: null };
  $("canvas").classList.add("drawing");
  banner(`Drag a box on the image for "${name}" (Esc cancels).`);
}

function svgPoint(svg, event) {
  const pt = svg.createSVGPoint();
  pt.x = event.clientX;
  pt.y = event.clientY;
  const p = pt.matrixTransform(svg.getScreenCTM().inverse());
  return [Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10];
}

function onDown(event) {
  if (!state.draw) return;
  const svg = event.currentTarget;
  state.draw.svg = svg;
  state.draw.start = svgPoint(svg, event);
  state.draw.rect = h("polygon", { class: "box draft" });
  svg.append(state.draw.rect);
  event.preventDefault();
}

function rectBox(a, b) {
  const [x0, x1] = [Math.min(a[0], b[0]), Math.max(a[0], b[0])];
  const [y0, y1] = [Math.min(a[1], b[1]), Math.max(a[1], b[1])];
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

function onMove(event) {
  if (!state.draw || !state.draw.start) return;
  state.draw.rect.setAttribute("points", points(rectBox(state.draw.start, svgPoint(event.currentTarget, event))));
}

function onUp(event) {
  if (!state.draw || !state.draw.start) return;
  const svg = event.currentTarget;
  const box = rectBox(state.draw.start, svgPoint(svg, event));
  const { name, rect } = state.draw;
  rect.remove();
  endDraw();
  if (box[1][0] - box[0][0] < 2 || box[2][1] - box[1][1] < 2) return;
  state.boxes[name] = box;
  state.pages[name] = Number(svg.dataset.page || 0);
  let poly = $("canvas").querySelector(`polygon[data-field="${CSS.escape(name)}"]`);
  if (!poly) poly = h("polygon", { class: "box", "data-field": name });
  svg.append(poly);  // onto the page it was drawn on
  poly.setAttribute("points", points(box));
  const row = $("form").querySelector(`.field[data-field="${CSS.escape(name)}"]`);
  if (row) { row.classList.add("changed"); row.querySelector("input").focus(); }
  banner("");
}

function endDraw() {
  state.draw = null;
  $("canvas").classList.remove("drawing");
}

// --- export -------------------------------------------------------------------------------------
async function doExport() {
  const fmt = $("export-format").value;
  try {
    const res = await blob(`/export?format=${encodeURIComponent(fmt)}`);
    const written = res.headers.get("X-Luodi-Written");
    const skipped = res.headers.get("X-Luodi-Skipped");
    const disposition = res.headers.get("Content-Disposition") || "";
    const match = /filename="?([^";]+)"?/.exec(disposition);
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: match ? match[1] : `luodi-review-${fmt}.zip` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    banner(`Exported ${written} item(s) as ${fmt}${skipped !== "0" ? `; skipped ${skipped} (see report.json)` : ""}.`);
  } catch (err) {
    banner(`Export failed: ${err.message}`, true);
  }
}

// --- keys ---------------------------------------------------------------------------------------
function onKey(event) {
  if ($("login").open) return;
  if (event.key === "Escape" && state.draw) { endDraw(); banner(""); return; }
  if (!state.item || $("view").hidden) return;
  const inForm = event.target.closest && event.target.closest("#form");
  if (event.altKey && !event.ctrlKey && !event.metaKey) {
    const k = event.key.toLowerCase();
    const acts = { r: () => decide("reject"), s: () => decide("save"), n: () => skip(), l: () => reload(),
      b: () => state.activeField && startDraw(state.activeField) };
    if (acts[k]) { event.preventDefault(); acts[k](); }
    return;
  }
  if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.isComposing) {
    const tag = event.target.tagName;
    if (tag === "BUTTON" && !inForm && event.target.id !== "accept") return; // Enter on another button presses it
    if (tag === "SELECT" || (event.target.closest && event.target.closest("#filters, header"))) return;
    event.preventDefault();
    decide("accept");
    return;
  }
  const isText = event.target.tagName === "INPUT" && event.target.type === "text";
  if (!isText && /^[1-9]$/.test(event.key) && (state.item.kind === "text" || state.item.kind === "image")) {
    const classes = state.item.suggestion.classes || [];
    const pick = classes[Number(event.key) - 1];
    if (pick) { event.preventDefault(); choose(pick); decide("accept"); }
  }
}

async function skip() {
  const current = state.item;
  await leave();
  const rest = state.items.filter((e) => !current || e.id !== current.id);
  const nextEntry = rest.find((e) => !e.lease) || null;
  if (nextEntry) await openItem(nextEntry.id);
  else showNothing();
}

// --- start --------------------------------------------------------------------------------------
async function start() {
  // the list and the first item at once; the filter values after (they only fill the drop-downs)
  await Promise.all([loadQueue(false), openNext()]);
  loadFacets().catch((err) => banner(`filters: ${err.message}`, true));
}

function init() {
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", () => { sessionStorage.removeItem(KEY); leave(); showLogin(""); });
  $("filters").addEventListener("change", async () => { await loadQueue(false); await openNext(); });
  $("more").addEventListener("click", () => loadQueue(true));
  $("accept").addEventListener("click", () => decide("accept"));
  $("save").addEventListener("click", () => decide("save"));
  $("reject").addEventListener("click", () => decide("reject"));
  $("skip").addEventListener("click", () => skip());
  $("export").addEventListener("click", doExport);
  $("form").addEventListener("submit", (e) => e.preventDefault());
  const canvas = $("canvas");
  // a box is drawn on the page where the pointer went down, and stays in that page's coordinates
  const under = (e) => (e.target.closest ? e.target.closest("#canvas svg") : null);
  canvas.addEventListener("pointerdown", (e) => { const svg = under(e); if (svg) onDown({ ...pick(e), currentTarget: svg, preventDefault: () => e.preventDefault() }); });
  canvas.addEventListener("pointermove", (e) => { const svg = state.draw && state.draw.svg; if (svg) onMove({ ...pick(e), currentTarget: svg }); });
  canvas.addEventListener("pointerup", (e) => { const svg = state.draw && state.draw.svg; if (svg) onUp({ ...pick(e), currentTarget: svg }); });
  document.addEventListener("keydown", onKey);
  window.addEventListener("beforeunload", () => { if (state.item) leave(); });
  if (!sessionStorage.getItem(KEY) || !sessionStorage.getItem(NAME)) {
    showLogin("");
  } else {
    $("who").textContent = sessionStorage.getItem(NAME);
    start().catch((err) => banner(err.message, true));
  }
}

function pick(e) {
  return { clientX: e.clientX, clientY: e.clientY };
}

init();
