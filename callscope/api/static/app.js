/* callscope QA dashboard: plain JavaScript, no build step, no external assets.
 *
 * Views: login, call list (filters + search + upload), call review (player with
 * waveform and speaker lanes, transcript synced to playback, emotion timeline,
 * metrics, QA scorecard), insights (issues, FAQ drafts, IVR), admin (users, keys).
 * All text from the server is inserted as text nodes, never as HTML.
 */
"use strict";

const state = { me: null, csrf: null, facets: null, teardown: [], rubric: null };
const ROLE_LABEL = { caller: "Caller", agent: "Agent", unknown: "Speaker", mixed: "Both speakers" };
const EMOTION_COLOR = { neutral: "#8a94a3", positive: "#16a34a", frustrated: "#dc2626", anxious: "#d97706" };
const ROLE_COLOR = { caller: "#2f6fdf", agent: "#0f9f74", unknown: "#6b7280" };
const SVG_NS = "http://www.w3.org/2000/svg";

// ------------------------------------------------------------------ helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

function fmtTime(seconds) {
  if (!Number.isFinite(seconds)) return "0:00";
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  return (hh ? `${hh}:${String(mm).padStart(2, "0")}` : `${mm}`) + `:${String(ss).padStart(2, "0")}`;
}

function fmtDate(iso) {
  if (!iso) return "";
  const d = new Date(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z");
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function pct(value, digits = 0) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(digits)}%`;
}

function num(value, digits = 1, unit = "") {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : `${Number(value).toFixed(digits)}${unit}`;
}

function emotionBadge(label) {
  if (!label) return h("span", { class: "muted" }, "—");
  return h("span", { class: `badge emo-${label}` }, h("span", { class: "dot" }), label);
}

function statusBadge(status, progress, analysed = false) {
  if (!status) return analysed ? h("span", { class: "badge st-done" }, "analysed") : h("span", { class: "badge" }, "not processed");
  if (status === "running" || status === "queued") {
    return h("span", { class: "nowrap" }, h("span", { class: `badge st-${status}` }, status), " ",
      h("span", { class: "progress", title: pct(progress || 0) }, h("span", { style: { width: pct(progress || 0) } })));
  }
  return h("span", { class: `badge st-${status}` }, status === "done" ? "analysed" : status);
}

function toast(message, kind = "") {
  const el = h("div", { class: `toast ${kind}`, role: "status" }, message);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.remove(), kind === "error" ? 6000 : 3200);
}

function queryTerms(q) {
  return (q || "").toLowerCase().split(/\s+/).map((t) => t.replace(/\*$/, "")).filter((t) => t.length > 0);
}

function highlight(text, q) {
  const terms = queryTerms(q).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (!terms.length) return [text];
  const re = new RegExp(`(${terms.join("|")})`, "ig");
  return text.split(re).map((part, i) => (i % 2 ? h("mark", {}, part) : part));
}

class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : (Array.isArray(detail) ? detail.map((d) => d.msg || d).join("; ") : `HTTP ${status}`));
    this.status = status;
  }
}

async function api(path, { method = "GET", body, form, raw = false, signal } = {}) {
  const headers = {};
  if (method !== "GET" && method !== "HEAD" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin", signal });
  if (response.status === 401 && !path.startsWith("/api/auth/login")) {
    state.me = null;
    if (location.pathname !== "/login") navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, true);
    throw new ApiError(401, "Please log in again.");
  }
  if (!response.ok) {
    let detail = `HTTP ${response.status}`;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

async function tryApi(path, options) {
  try { return await api(path, options); } catch (err) { if (err.status === 404) return null; throw err; }
}

function onCleanup(fn) { state.teardown.push(fn); }

function every(ms, fn) {
  const id = setInterval(fn, ms);
  onCleanup(() => clearInterval(id));
}

function listen(target, type, fn, opts) {
  target.addEventListener(type, fn, opts);
  onCleanup(() => target.removeEventListener(type, fn, opts));
}

function typingInField(event) {
  const t = event.target;
  return t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
}

// ------------------------------------------------------------------- router

const routes = [
  [/^\/login$/, viewLogin],
  [/^\/$/, () => navigate("/calls", true)],
  [/^\/calls$/, viewCalls],
  [/^\/calls\/([0-9a-f]{6,64})$/, viewCall],
  [/^\/insights$/, viewInsights],
  [/^\/qa$/, viewQaRules],
  [/^\/analytics$/, viewAnalytics],
  [/^\/admin$/, viewAdmin],
];

function navigate(path, replace = false) {
  if (replace) history.replaceState({}, "", path); else history.pushState({}, "", path);
  render();
}

async function render() {
  for (const fn of state.teardown.splice(0)) { try { fn(); } catch (_) { /* ignore */ } }
  const path = location.pathname;
  const main = document.getElementById("app");
  if (path !== "/login" && !state.me) {
    try {
      await loadMe();
    } catch (_) {
      return;  // api() already sent us to the login page
    }
  }
  document.getElementById("topbar").hidden = path === "/login";
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.classList.toggle("active", path.startsWith(`/${link.dataset.nav}`));
  }
  for (const [pattern, view] of routes) {
    const match = path.match(pattern);
    if (match) {
      main.replaceChildren(h("div", { class: "loading" }, "Loading…"));
      try {
        await view(main, ...match.slice(1));
      } catch (err) {
        if (err.status !== 401) main.replaceChildren(h("div", { class: "empty" }, h("strong", {}, "Something went wrong"), err.message));
      }
      return;
    }
  }
  main.replaceChildren(h("div", { class: "empty" }, h("strong", {}, "Page not found"), h("a", { href: "/calls", "data-link": "" }, "Back to calls")));
}

async function loadMe() {
  const me = await api("/api/auth/me");
  state.me = me;
  state.csrf = me.csrf_token;
  document.getElementById("user-name").textContent = me.username;
  document.getElementById("user-role").textContent = me.role;
  document.getElementById("nav-admin").hidden = !me.is_admin;
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", render);

document.addEventListener("keydown", (event) => {
  if (typingInField(event) || event.metaKey || event.ctrlKey || event.altKey) return;
  if (event.key === "/" && location.pathname !== "/login") {
    event.preventDefault();
    document.getElementById("global-q").focus();
  } else if (event.key === "?") {
    document.getElementById("help-dialog").showModal();
  }
});

// ------------------------------------------------------------------- login

async function viewLogin(main) {
  const params = new URLSearchParams(location.search);
  const error = h("div", { class: "form-error", hidden: true });
  const user = h("input", { type: "text", name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { class: "btn", type: "submit" }, "Log in");
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.hidden = true;
      try {
        const me = await api("/api/auth/login", { method: "POST", body: { username: user.value.trim(), password: pass.value } });
        state.me = me;
        state.csrf = me.csrf_token;
        await loadMe();
        const next = params.get("next");
        navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/calls", true);
      } catch (err) {
        error.textContent = err.status === 401 ? "Wrong user name or password." : err.message;
        error.hidden = false;
        pass.select();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h("label", { class: "field" }, "User name", user),
  h("label", { class: "field" }, "Password", pass),
  error, submit);
  main.replaceChildren(h("div", { class: "login-wrap" },
    h("div", { class: "panel login-card" },
      h("div", { class: "brand-big" }, h("img", { src: "/static/favicon.svg", width: 30, height: 30, alt: "" }), "callscope"),
      h("p", { class: "lead" }, "Call quality review — sign in to continue."),
      form,
      h("div", { class: "login-foot" }, "No account? Ask an admin to run ", h("code", {}, "callscope users add NAME"), "."))));
  user.focus();
}

document.getElementById("logout").addEventListener("click", async () => {
  try { await api("/api/auth/logout", { method: "POST" }); } catch (_) { /* already gone */ }
  state.me = null; state.csrf = null;
  navigate("/login", true);
});

document.getElementById("global-search").addEventListener("submit", (event) => {
  event.preventDefault();
  const q = document.getElementById("global-q").value.trim();
  navigate(q ? `/calls?q=${encodeURIComponent(q)}` : "/calls");
});

// --------------------------------------------------------------- call list

const FILTERS = ["q", "since", "until", "language", "agent", "issue", "emotion", "qa", "min_duration", "max_duration", "sort"];
const COLUMNS = [["name", "Call"], ["date", "Date"], ["duration", "Length"], ["language", "Lang"], ["agent", "Agent"],
  ["emotion", "Caller"], ["issue", "Issue"], ["qa", "QA"], ["status", "Status"]];
const PAGE = 25;

async function facets() {
  if (!state.facets) state.facets = await api("/api/recordings/facets");
  return state.facets;
}

async function viewCalls(main) {
  const params = new URLSearchParams(location.search);
  const offset = Math.max(0, parseInt(params.get("offset") || "0", 10) || 0);
  state.facets = null;
  const fac = await facets();
  const qaRules = await tryApi("/api/qa/scorecard");
  document.getElementById("global-q").value = params.get("q") || "";

  const select = (name, label, options) => h("label", { class: "field" }, label,
    h("select", { name }, h("option", { value: "" }, "Any"),
      options.map((o) => h("option", { value: o.value, selected: params.get(name) === o.value }, o.label))));
  const input = (name, label, type, extra = {}) => h("label", { class: "field" + (extra.grow ? " grow" : "") }, label,
    h("input", { type, name, value: params.get(name) || "", ...extra.attrs }));
  const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); apply(); } },
    input("q", "Search transcripts", "search", { grow: true, attrs: { placeholder: "words or 中文, e.g. refund, 开门" } }),
    input("since", "From", "date"), input("until", "To", "date"),
    select("language", "Language", fac.languages.map((l) => ({ value: l, label: { en: "English", zh: "Mandarin" }[l] || l }))),
    select("agent", "Agent", fac.agents.map((a) => ({ value: a, label: a }))),
    select("issue", "Issue", fac.issues.map((i) => ({ value: i.id, label: i.label }))),
    select("emotion", "Caller emotion", ["neutral", "positive", "frustrated", "anxious"].map((e) => ({ value: e, label: e }))),
    select("qa", "QA", [{ value: "below:80", label: "Score below 80 %" }, { value: "below:50", label: "Score below 50 %" },
      ...(qaRules ? qaRules.criteria.map((c) => ({ value: `fail:${c.id}`, label: `Failed: ${c.name}` })) : []),
      ...(qaRules ? qaRules.categories.map((c) => ({ value: `category:${c.id}`, label: `Tagged: ${c.name}` })) : [])]),
    h("div", { class: "field" }, h("label", { class: "field" }, "Duration (s)",
      h("div", { class: "range" },
        h("input", { type: "number", name: "min_duration", min: 0, placeholder: "min", value: params.get("min_duration") || "" }),
        "–",
        h("input", { type: "number", name: "max_duration", min: 0, placeholder: "max", value: params.get("max_duration") || "" })))),
    h("div", { class: "range" }, h("button", { class: "btn", type: "submit" }, "Apply"),
      h("button", { class: "btn ghost", type: "button", onclick: () => navigate("/calls") }, "Clear")));
  form.addEventListener("change", (e) => { if (e.target.tagName === "SELECT") apply(); });

  function apply(newOffset = 0) {
    const data = new FormData(form);
    const out = new URLSearchParams();
    for (const key of FILTERS) { const v = (data.get(key) || "").toString().trim(); if (v) out.set(key, v); }
    if (newOffset) out.set("offset", String(newOffset));
    navigate(`/calls${out.toString() ? "?" + out : ""}`);
  }

  const listParams = new URLSearchParams();
  for (const key of FILTERS) if (params.get(key) && key !== "qa") listParams.set(key, params.get(key));
  const qaFilter = (params.get("qa") || "").split(":");
  if (qaFilter[0] === "below") listParams.set("qa_below", qaFilter[1]);
  else if (qaFilter[0] === "fail") listParams.set("qa_fail", qaFilter[1]);
  else if (qaFilter[0] === "category") listParams.set("category", qaFilter[1]);
  listParams.set("limit", PAGE);
  listParams.set("offset", offset);

  const tableBody = h("tbody");
  const pager = h("div", { class: "pager" });
  const summary = h("div", { class: "sub" });
  const sort = params.get("sort") || "-date";
  const sortKey = sort.replace(/^-/, ""), descending = sort.startsWith("-");
  const headers = COLUMNS.map(([key, label]) => {
    const active = key === sortKey;
    const next = active ? (descending ? key : `-${key}`) : (key === "date" || key === "qa" || key === "duration" ? `-${key}` : key);
    return h("th", { "aria-sort": active ? (descending ? "descending" : "ascending") : "none", class: `col-${key}` },
      h("button", { type: "button", class: "sort" + (active ? " on" : ""), dataset: { sort: key }, title: `Sort by ${label.toLowerCase()}`,
        onclick: () => { params.set("sort", next); params.delete("offset"); navigate(`/calls?${params}`); } },
        label, h("span", { class: "arrow", "aria-hidden": "true" }, active ? (descending ? "▼" : "▲") : "↕")));
  });
  const panel = h("div", { class: "panel" }, form, h("div", { class: "table-wrap" }, h("table", { class: "grid calls" },
    h("thead", {}, h("tr", {}, headers)), tableBody)), pager);
  const head = h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Calls"), summary));
  const nodes = [head];
  if (state.me.can_edit) nodes.push(uploadZone(() => refresh()));
  nodes.push(panel);
  main.replaceChildren(...nodes);

  let snippets = new Map();
  async function refresh() {
    let page;
    try {
      page = await api(`/api/recordings?${listParams}`);
    } catch (err) {
      tableBody.replaceChildren(h("tr", {}, h("td", { colspan: 9 }, h("div", { class: "form-error" }, err.message))));
      return;
    }
    if (params.get("q") && !snippets.size) {
      try {
        const found = await api(`/api/search?${new URLSearchParams({ q: params.get("q"), limit: 200 })}`);
        for (const hit of found.hits) if (!snippets.has(hit.recording_id)) snippets.set(hit.recording_id, hit);
      } catch (_) { snippets = new Map(); }
    }
    summary.textContent = page.total === 1 ? "1 call" : `${page.total} calls`;
    if (!page.items.length) {
      tableBody.replaceChildren(h("tr", {}, h("td", { colspan: 9 }, h("div", { class: "empty" },
        h("strong", {}, params.toString() ? "No calls match these filters" : "No calls yet"),
        state.me.can_edit && !params.toString() ? "Drop a recording above to get started." : ""))));
    } else {
      tableBody.replaceChildren(...page.items.map((rec) => callRow(rec, snippets.get(rec.id), params.get("q"))));
    }
    pager.replaceChildren(
      `${page.total ? page.offset + 1 : 0}–${page.offset + page.items.length} of ${page.total}`,
      h("button", { class: "btn secondary small", disabled: page.offset === 0, onclick: () => apply(Math.max(0, page.offset - PAGE)) }, "‹ Prev"),
      h("button", { class: "btn secondary small", disabled: page.offset + page.items.length >= page.total, onclick: () => apply(page.offset + PAGE) }, "Next ›"));
    return page.items.some((r) => r.status === "queued" || r.status === "running");
  }
  await refresh();
  every(3000, async () => {
    if (document.hidden) return;
    if (tableBody.querySelector(".st-queued, .st-running")) await refresh();
  });
}

function callTitle(rec) { return rec.title || rec.name; }

function callRow(rec, hit, q) {
  const open = () => navigate(`/calls/${rec.id}${hit ? `?t=${hit.start}` : ""}`);
  return h("tr", { class: "row", tabindex: 0, onclick: open, onkeydown: (e) => { if (e.key === "Enter") open(); }, dataset: { id: rec.id } },
    h("td", { class: "col-name" },
      h("a", { class: "call-name", href: `/calls/${rec.id}`, "data-link": "", title: rec.call_id ? `${rec.name} · Twilio ${rec.call_id}` : rec.name }, callTitle(rec)),
      rec.reason ? h("div", { class: "call-reason", title: rec.reason }, rec.reason) : null,
      hit ? h("div", { class: "snippet" }, h("span", { class: `role-${hit.speaker || "unknown"}` }, `${fmtTime(hit.start)} `), highlight(hit.text, q)) : null),
    h("td", { class: "nowrap muted col-date", title: fmtDate(rec.created_at) }, fmtDate(rec.created_at)),
    h("td", { class: "nowrap mono" }, fmtTime(rec.duration_s)),
    h("td", {}, rec.language ? rec.language.toUpperCase() : "—"),
    h("td", { class: "col-agent", title: rec.agent || "" }, rec.agent || h("span", { class: "muted" }, "—")),
    h("td", {}, emotionBadge(rec.caller_emotion)),
    h("td", { class: "col-issue", title: rec.issue_label || "" }, rec.issue_label || rec.issue_id || h("span", { class: "muted" }, "—")),
    h("td", { class: "nowrap" }, qaBadge(rec)),
    h("td", {}, statusBadge(rec.status, rec.progress, Boolean(rec.caller_emotion))));
}

function qaBadge(rec) {
  if (rec.qa_score === null || rec.qa_score === undefined) return h("span", { class: "muted" }, "—");
  const cls = rec.qa_score >= 80 ? "good" : rec.qa_score >= 50 ? "mid" : "bad";
  const failed = rec.qa_failed.length ? `Failed: ${rec.qa_failed.join(", ")}` : "All applicable criteria passed";
  return h("span", { class: `qa-score small ${cls}`, title: failed }, `${Math.round(rec.qa_score)}%`);
}

function uploadZone(onDone) {
  const fileInput = h("input", { type: "file", accept: "audio/*,.wav,.mp3,.flac,.ogg,.opus,.m4a,.webm", hidden: true, multiple: true });
  const agent = h("input", { type: "text", placeholder: "Agent (optional)", style: { width: "160px" } });
  const lang = h("select", {}, h("option", { value: "" }, "Detect language"), h("option", { value: "en" }, "English"), h("option", { value: "zh" }, "Mandarin"));
  const status = h("span", { class: "muted" });
  const zone = h("div", { class: "dropzone" },
    h("div", { class: "upload-row" },
      h("span", {}, "Drop call recordings here, or"),
      h("button", { class: "btn secondary", type: "button", onclick: () => fileInput.click() }, "Choose files…"),
      agent, lang, status),
    fileInput);
  async function send(files) {
    for (const file of files) {
      const form = new FormData();
      form.append("file", file, file.name);
      if (agent.value.trim()) form.append("agent", agent.value.trim());
      if (lang.value) form.append("language", lang.value);
      status.textContent = `Uploading ${file.name}…`;
      try {
        const out = await api("/api/recordings", { method: "POST", form });
        toast(out.created ? `${file.name} uploaded — processing started` : `${file.name} was already uploaded`, "ok");
      } catch (err) {
        toast(`${file.name}: ${err.message}`, "error");
      }
    }
    status.textContent = "";
    fileInput.value = "";
    state.facets = null;
    onDone();
  }
  fileInput.addEventListener("change", () => send([...fileInput.files]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); send([...e.dataTransfer.files]); });
  return zone;
}

// ------------------------------------------------------------- call review

async function viewCall(main, id) {
  const rec = await api(`/api/recordings/${id}`);
  const params = new URLSearchParams(location.search);
  const canSeePii = state.me.sees_pii;
  let redacted = !canSeePii || params.get("redacted") === "1";

  const [diarization, analysis, emotions, waveform, rubric] = await Promise.all([
    tryApi(`/api/recordings/${rec.id}/diarization`),
    tryApi(`/api/recordings/${rec.id}/analysis${redacted ? "?redacted=true" : ""}`),
    tryApi(`/api/recordings/${rec.id}/emotions`),
    tryApi(`/api/recordings/${rec.id}/waveform?points=1000`),
    state.rubric ? Promise.resolve(state.rubric) : api("/api/scorecards/rubric"),
  ]);
  const qa = await tryApi(`/api/recordings/${rec.id}/qa`);
  state.rubric = rubric;
  let transcript = await tryApi(`/api/recordings/${rec.id}/transcript${redacted ? "?redacted=true" : ""}`);

  const audio = h("audio", { preload: "auto", src: `/api/recordings/${rec.id}/audio` });
  audio.id = "player-audio";
  const duration = rec.duration_s;
  const roles = roleMap(diarization);

  // header
  const meta = h("div", { class: "meta" },
    h("span", { class: "chip" }, "Duration ", h("b", {}, fmtTime(duration))),
    h("span", { class: "chip" }, "Language ", h("b", {}, (rec.language || "?").toUpperCase())),
    rec.agent ? h("span", { class: "chip" }, "Agent ", h("b", {}, rec.agent)) : null,
    h("span", { class: "chip" }, `${rec.channels === 2 ? "Stereo" : "Mono"} · ${rec.sample_rate / 1000} kHz · ${rec.codec}`),
    h("span", { class: "chip" }, fmtDate(rec.created_at)),
    rec.call_id || (rec.metadata && rec.metadata.recording_sid) ? h("span", { class: "chip mono", title: rec.name },
      `Twilio ${rec.call_id || ""}${rec.metadata && rec.metadata.recording_sid ? " · " + rec.metadata.recording_sid : ""}`) : null,
    statusBadge(rec.status, rec.progress, Boolean(analysis)));
  const head = h("div", { class: "review-head" },
    h("div", { class: "title" },
      h("div", { class: "crumbs" }, h("a", { href: "/calls", "data-link": "" }, "Calls"), " / review"),
      h("h1", {}, callTitle(rec)), meta),
    h("div", { class: "exports" },
      h("a", { class: "btn secondary small", href: `/api/recordings/${rec.id}/audio`, download: rec.name }, "Audio"),
      ["txt", "srt", "vtt", "json"].map((f) => h("a", {
        class: "btn secondary small", href: `/api/recordings/${rec.id}/transcript?format=${f}${redacted ? "&redacted=true" : ""}`, target: "_blank", rel: "noopener",
      }, f.toUpperCase()))));

  // player
  const wave = new Waveform(waveform, diarization, duration, rec.channels, roles, (t) => seek(t));
  const playBtn = h("button", { class: "btn play", type: "button", title: "Play / pause (space)", "aria-label": "Play" }, "▶");
  const timeLabel = h("span", { class: "time" }, `0:00 / ${fmtTime(duration)}`);
  const speed = h("select", { class: "speed", title: "Playback speed ( [ and ] )" },
    [0.75, 1, 1.25, 1.5, 1.75, 2].map((v) => h("option", { value: v, selected: v === 1 }, `${v}×`)));
  speed.addEventListener("change", () => { audio.playbackRate = Number(speed.value); });
  playBtn.addEventListener("click", () => togglePlay());
  const player = h("div", { class: "panel player" }, wave.element,
    h("div", { class: "transport" },
      h("button", { class: "btn secondary icon", type: "button", title: "Back 5 s (j)", onclick: () => seek(audio.currentTime - 5) }, "−5"),
      playBtn,
      h("button", { class: "btn secondary icon", type: "button", title: "Forward 5 s (l)", onclick: () => seek(audio.currentTime + 5) }, "+5"),
      timeLabel, speed, h("span", { class: "spacer" }),
      h("span", { class: "kbd-hint" }, h("kbd", {}, "space"), "play", h("kbd", {}, "j"), h("kbd", {}, "l"), "±5 s", h("kbd", {}, "?"), "all keys")),
    audio);
  // buttons give focus back, so Space always means play/pause (not "press the focused button")
  player.addEventListener("click", (e) => { const button = e.target.closest("button"); if (button) button.blur(); });

  // emotion chart
  const chart = emotions ? new EmotionChart(emotions, duration, (t) => seek(t)) : null;
  const chartPanel = h("div", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", {}, "Emotion & sentiment"),
      emotions ? h("span", { class: "muted" }, emotions.ended_better === true ? "caller ended calmer" : emotions.ended_better === false ? "caller did not calm down" : "") : null),
    chart ? [chart.element, chart.legend] : h("div", { class: "empty" }, processingNote(rec)));

  // transcript
  const transcriptBox = h("div", { class: "transcript", tabindex: 0 });
  const redactToggle = h("button", { type: "button", class: "pii-toggle", id: "pii-toggle" });
  const piiNote = h("div", { class: "pii-note", id: "pii-note" });
  const transcriptPanel = h("div", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", {}, "Transcript"), redactToggle),
    piiNote, transcriptBox);
  function piiState() {
    const info = (transcript && transcript.pii) || {};
    // the original can be shown when it was kept, or when redaction happens only on display
    const canToggle = canSeePii && (info.original_available || !info.redacted_at_source);
    if (!redacted && info.redacted_at_source && !info.original_available) redacted = true;  // the stored text is redacted
    redactToggle.disabled = !canToggle;
    redactToggle.setAttribute("aria-pressed", String(redacted));
    redactToggle.className = "pii-toggle " + (redacted ? "on" : "off");
    redactToggle.replaceChildren(h("span", { class: "knob" }), redacted ? "PII hidden" : "PII shown");
    redactToggle.title = canToggle ? `${redacted ? "Show" : "Hide"} personal data (r)` : "";
    let note;
    if (!canSeePii) note = "Personal data is hidden for your role: names, numbers and addresses show as labels such as PHONE.";
    else if (!redacted) note = "Showing the original words: this transcript contains personal data.";
    else if (canToggle) note = "Personal data is replaced by labels such as PHONE. Press the switch (or r) to see the original words.";
    else note = "Personal data was redacted when the call was transcribed and the original words were not kept " +
      "(CALLSCOPE_PII_KEEP_ORIGINAL=true keeps them for roles that may see PII).";
    piiNote.textContent = note;
    piiNote.className = "pii-note " + (redacted ? "hidden-pii" : "shown-pii");
  }
  let words = [];
  let segments = [];
  function drawTranscript() {
    const built = buildTranscript(transcript, roles, (t) => seek(t, true));
    words = built.words;
    segments = built.segments;
    transcriptBox.replaceChildren(...(built.nodes.length ? built.nodes : [h("div", { class: "empty" }, processingNote(rec))]));
    current.word = -1; current.seg = -1;
  }
  redactToggle.addEventListener("click", async () => {
    if (redactToggle.disabled) return;
    redacted = !redacted;
    transcript = await tryApi(`/api/recordings/${rec.id}/transcript${redacted ? "?redacted=true" : ""}`);
    piiState();
    drawTranscript();
    tick(true);
  });
  piiState();

  // side column
  const side = h("div", { class: "side-col" },
    summaryPanel(rec, analysis),
    qaPanel(rec, qa, (t) => seek(t, false)),
    metricsPanel(analysis),
    await scorecardPanel(rec, rubric));

  main.replaceChildren(head, h("div", { class: "review" },
    h("div", { class: "main-col" }, player, chartPanel, transcriptPanel), side));

  const current = { word: -1, seg: -1, userScrollAt: 0 };
  drawTranscript();
  transcriptBox.addEventListener("wheel", () => { current.userScrollAt = performance.now(); }, { passive: true });

  function seek(t, keepPlaying = true) {
    const target = Math.min(Math.max(0, t), Math.max(0, (audio.duration || duration) - 0.05));
    audio.currentTime = target;
    if (!keepPlaying) audio.pause();
    current.userScrollAt = 0;
    tick(true);
  }
  function togglePlay() {
    if (audio.paused) audio.play().catch((err) => toast(`Cannot play: ${err.message}`, "error"));
    else audio.pause();
  }
  function tick(force = false) {
    const t = audio.currentTime;
    timeLabel.textContent = `${fmtTime(t)} / ${fmtTime(duration)}`;
    wave.setTime(t);
    if (chart) chart.setTime(t);
    const wi = findIndex(words, t);
    if (wi !== current.word || force) {
      if (current.word >= 0 && words[current.word]) words[current.word].el.classList.remove("on");
      if (wi >= 0 && words[wi] && t <= words[wi].end + 0.25) words[wi].el.classList.add("on");
      current.word = wi;
    }
    const si = findIndex(segments, t);
    if (si !== current.seg || force) {
      if (current.seg >= 0 && segments[current.seg]) segments[current.seg].el.classList.remove("current");
      if (si >= 0 && segments[si]) {
        segments[si].el.classList.add("current");
        if (performance.now() - current.userScrollAt > 4000) scrollIntoBox(transcriptBox, segments[si].el);
      }
      current.seg = si;
    }
  }
  let raf = 0;
  const loop = () => { tick(); raf = audio.paused ? 0 : requestAnimationFrame(loop); };
  audio.addEventListener("play", () => { playBtn.textContent = "❚❚"; playBtn.setAttribute("aria-label", "Pause"); if (!raf) raf = requestAnimationFrame(loop); });
  audio.addEventListener("pause", () => { playBtn.textContent = "▶"; playBtn.setAttribute("aria-label", "Play"); tick(); });
  audio.addEventListener("seeked", () => tick(true));
  audio.addEventListener("timeupdate", () => { if (!raf) tick(); });
  audio.addEventListener("error", () => toast("The audio could not be loaded.", "error"));
  onCleanup(() => { cancelAnimationFrame(raf); audio.pause(); audio.removeAttribute("src"); audio.load(); });
  const startAt = parseFloat(params.get("t"));
  if (Number.isFinite(startAt)) audio.addEventListener("loadedmetadata", () => seek(startAt), { once: true });

  listen(window, "resize", () => { wave.resize(); if (chart) chart.resize(); });
  listen(document, "keydown", (event) => {
    if (typingInField(event) || event.metaKey || event.ctrlKey || event.altKey) return;
    const rate = () => { speed.value = String(audio.playbackRate); };
    switch (event.key) {
      case " ": case "k": event.preventDefault(); togglePlay(); break;
      case "j": seek(audio.currentTime - 5); break;
      case "l": seek(audio.currentTime + 5); break;
      case "ArrowLeft": event.preventDefault(); seek(audio.currentTime - 1); break;
      case "ArrowRight": event.preventDefault(); seek(audio.currentTime + 1); break;
      case "[": audio.playbackRate = Math.max(0.5, audio.playbackRate - 0.25); rate(); break;
      case "]": audio.playbackRate = Math.min(3, audio.playbackRate + 0.25); rate(); break;
      case "n": case "p": {
        const list = segments.map((s) => s.start);
        const t = audio.currentTime + 0.05;
        const next = event.key === "n" ? list.find((s) => s > t) : [...list].reverse().find((s) => s < t - 1);
        if (next !== undefined) seek(next);
        break;
      }
      case "r": if (!redactToggle.disabled) redactToggle.click(); break;
      default:
        if (/^[0-9]$/.test(event.key)) seek(duration * Number(event.key) / 10);
    }
  });
  wave.resize();
  if (chart) chart.resize();

  if (rec.status === "queued" || rec.status === "running") {
    every(2500, async () => {
      const jobs = await tryApi(`/api/recordings/${rec.id}/jobs`);
      const last = jobs && jobs[jobs.length - 1];
      if (last && (last.state === "done" || last.state === "failed")) render();
      else if (last) meta.lastElementChild.replaceWith(statusBadge(last.state, last.progress));
    });
  }
}

function processingNote(rec) {
  if (rec.status === "failed") return "Processing failed — an editor can retry it from the API.";
  if (rec.status === "queued" || rec.status === "running") return "Processing… results appear here when ready.";
  return "Not processed yet.";
}

function roleMap(diarization) {
  const map = { agent: "agent", caller: "caller" };
  if (diarization && diarization.roles) for (const [label, role] of Object.entries(diarization.roles)) map[label] = role;
  return map;
}

function findIndex(items, t) {
  // last item whose start <= t (items sorted by start)
  let lo = 0, hi = items.length - 1, best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid].start <= t + 1e-3) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return best;
}

function scrollIntoBox(box, el) {
  const top = el.offsetTop - box.offsetTop;
  if (top < box.scrollTop + 30 || top + el.offsetHeight > box.scrollTop + box.clientHeight - 30) {
    box.scrollTop = Math.max(0, top - box.clientHeight / 3);
  }
}

const PII = /^\s*\[[A-Z_]+\]\s*$/;

function buildTranscript(transcript, roles, seek) {
  const out = { nodes: [], words: [], segments: [] };
  if (!transcript) return out;
  const zh = transcript.language === "zh";
  const segs = [...transcript.segments].sort((a, b) => a.start - b.start);
  for (const seg of segs) {
    const role = roles[seg.speaker] || (seg.speaker ? "unknown" : "unknown");
    const textEl = h("div", { class: "text" });
    const wordList = seg.words && seg.words.length ? seg.words : null;
    if (wordList) {
      wordList.forEach((w, i) => {
        let text = w.word;
        if (!zh && i > 0 && !/^\s/.test(text)) text = " " + text;
        const lead = text.match(/^\s+/);
        if (lead && i > 0) textEl.append(document.createTextNode(" "));
        const clean = text.trim();
        const span = h("span", {
          class: "w" + (PII.test(clean) ? " pii" : "") + (w.probability !== undefined && w.probability < 0.3 ? " lowconf" : ""),
          dataset: { start: w.start, end: w.end }, title: `${fmtTime(w.start)}`,
        }, PII.test(clean) ? clean.replace(/[[\]]/g, "") : clean);
        span.addEventListener("click", () => seek(w.start));
        textEl.append(span);
        out.words.push({ start: w.start, end: w.end, el: span });
      });
    } else {
      const span = h("span", { class: "w", dataset: { start: seg.start } }, seg.text.trim());
      span.addEventListener("click", () => seek(seg.start));
      textEl.append(span);
      out.words.push({ start: seg.start, end: seg.end, el: span });
    }
    const node = h("div", { class: `seg ${role}` },
      h("button", { class: "when", type: "button", onclick: () => seek(seg.start), title: "Play from here" }, fmtTime(seg.start)),
      h("div", { class: "bubble" },
        h("div", { class: "who" }, ROLE_LABEL[role] || seg.speaker || "Speaker",
          seg.flags && seg.flags.length ? h("span", { class: "badge st-failed", title: seg.flags.join(", ") }, "check") : null),
        textEl));
    out.nodes.push(node);
    out.segments.push({ start: seg.start, end: seg.end, el: node });
  }
  out.words.sort((a, b) => a.start - b.start);
  return out;
}

// Waveform with per-role lanes and a playhead; drawn on a canvas (peaks from the server).
class Waveform {
  constructor(peaks, diarization, duration, channels, roles, onSeek) {
    this.peaks = peaks; this.diarization = diarization; this.duration = duration || (peaks && peaks.duration_s) || 1;
    this.roles = roles; this.onSeek = onSeek; this.time = 0;
    this.canvas = h("canvas", { role: "img", "aria-label": "Waveform; click to seek" });
    this.hover = h("div", { class: "hover-time", hidden: true });
    this.lanes = this.laneRoles(channels);
    this.element = h("div", { class: "wave-wrap" }, this.canvas,
      h("div", { class: "lane-labels" }, this.lanes.map((r) => h("span", { class: `role-${r}` }, ROLE_LABEL[r] || r))), this.hover);
    this.canvas.addEventListener("click", (e) => this.onSeek(this.timeAt(e)));
    this.canvas.addEventListener("mousemove", (e) => {
      const t = this.timeAt(e);
      this.hover.hidden = false;
      this.hover.style.left = `${e.offsetX}px`;
      this.hover.textContent = fmtTime(t);
    });
    this.canvas.addEventListener("mouseleave", () => { this.hover.hidden = true; });
  }
  laneRoles(channels) {
    if (this.peaks && this.peaks.channels.length === 2) {
      const byChannel = ["caller", "agent"];
      if (this.diarization) for (const t of this.diarization.turns) if (t.channel === 0 || t.channel === 1) byChannel[t.channel] = t.role;
      return byChannel;
    }
    return ["mixed"];
  }
  timeAt(event) {
    const rect = this.canvas.getBoundingClientRect();
    return Math.max(0, Math.min(1, (event.clientX - rect.left) / rect.width)) * this.duration;
  }
  resize() {
    const width = this.element.clientWidth || 800;
    const laneH = this.lanes.length === 2 ? 58 : 90;
    this.turnRowH = 9;
    this.height = laneH * this.lanes.length + 2 * this.turnRowH + 12;
    this.laneH = laneH;
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    this.canvas.style.height = `${this.height}px`;
    this.ratio = ratio;
    this.width = width;
    this.base = this.render(false);
    this.played = this.render(true);
    this.draw();
  }
  render(played) {
    const c = document.createElement("canvas");
    c.width = this.canvas.width; c.height = this.canvas.height;
    const g = c.getContext("2d");
    g.scale(this.ratio, this.ratio);
    const w = this.width;
    g.fillStyle = "#fbfcfd"; g.fillRect(0, 0, w, this.height);
    if (this.peaks) {
      this.lanes.forEach((role, lane) => {
        const data = this.peaks.channels[lane] || this.peaks.channels[0];
        const mid = lane * this.laneH + this.laneH / 2;
        const amp = this.laneH / 2 - 4;
        const color = ROLE_COLOR[role] || "#475569";
        g.fillStyle = played ? color : hexAlpha(color, 0.32);
        const n = data.length;
        // normalise each lane to its own loudest peak so a quiet leg stays visible
        let peak = 0.05;
        for (const [lo, hi] of data) peak = Math.max(peak, Math.abs(lo), Math.abs(hi));
        const barW = Math.max(1, w / n);
        for (let i = 0; i < n; i++) {
          const [lo, hi] = data[i];
          const top = mid - (hi / peak) * amp, bottom = mid - (lo / peak) * amp;
          g.fillRect((i / n) * w, top, Math.max(1, barW - 0.3), Math.max(1, bottom - top));
        }
        g.fillStyle = "#e3e7ed";
        if (lane > 0) g.fillRect(0, lane * this.laneH, w, 1);
      });
    }
    // speaker turns: one thin row per role
    const y0 = this.laneH * this.lanes.length + 6;
    ["caller", "agent"].forEach((role, row) => {
      const y = y0 + row * this.turnRowH;
      g.fillStyle = "#eef1f5"; g.fillRect(0, y, w, this.turnRowH - 3);
      if (!this.diarization) return;
      g.fillStyle = played ? ROLE_COLOR[role] : hexAlpha(ROLE_COLOR[role], 0.55);
      for (const t of this.diarization.turns) {
        if ((this.roles[t.speaker] || t.role) !== role) continue;
        const x = (t.start / this.duration) * w;
        g.fillRect(x, y, Math.max(1.5, ((t.end - t.start) / this.duration) * w), this.turnRowH - 3);
      }
    });
    return c;
  }
  setTime(t) { this.time = t; this.draw(); }
  draw() {
    if (!this.base) return;
    const g = this.canvas.getContext("2d");
    const W = this.canvas.width, H = this.canvas.height;
    const x = Math.round((this.time / this.duration) * W);
    g.clearRect(0, 0, W, H);
    g.drawImage(this.base, 0, 0);
    if (x > 0) g.drawImage(this.played, 0, 0, x, H, 0, 0, x, H);
    g.fillStyle = "#111a2e";
    g.fillRect(Math.min(W - 2 * this.ratio, x), 0, 2 * this.ratio, H);
  }
}

function hexAlpha(hex, alpha) {
  const v = parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
}

// Sentiment per turn over time, one line per role, emotion-coloured dots, escalation markers.
class EmotionChart {
  constructor(data, duration, onSeek) {
    this.data = data; this.duration = duration || 1; this.onSeek = onSeek;
    this.element = h("div", { class: "chart-wrap" });
    this.legend = h("div", { class: "legend" },
      h("span", {}, h("i", { style: { background: ROLE_COLOR.caller } }), "Caller sentiment"),
      h("span", {}, h("i", { style: { background: ROLE_COLOR.agent } }), "Agent sentiment"),
      Object.entries(EMOTION_COLOR).map(([label, color]) => h("span", {}, h("i", { style: { background: color } }), label)),
      data.escalations.length ? h("span", {}, h("i", { style: { background: "#dc2626", borderRadius: "2px", width: "3px" } }), "escalation") : null);
  }
  resize() {
    const width = this.element.clientWidth - 24 || 760;
    const height = 150, left = 58, right = 8, top = 10, bottom = 22;
    const plotW = width - left - right, plotH = height - top - bottom;
    const X = (t) => left + (Math.min(Math.max(t, 0), this.duration) / this.duration) * plotW;
    const Y = (s) => top + (1 - (Math.max(-1, Math.min(1, s)) + 1) / 2) * plotH;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, height, role: "img", "aria-label": "Sentiment over the call" });
    root.append(svg("rect", { x: left, y: top, width: plotW, height: plotH / 2, fill: "#f3fbf6" }));
    root.append(svg("rect", { x: left, y: top + plotH / 2, width: plotW, height: plotH / 2, fill: "#fdf4f4" }));
    root.append(svg("line", { x1: left, x2: left + plotW, y1: Y(0), y2: Y(0), stroke: "#cfd6df", "stroke-dasharray": "3 3" }));
    [["positive", 0.85], ["neutral", 0], ["negative", -0.85]].forEach(([label, s]) =>
      root.append(svg("text", { x: left - 8, y: Y(s) + 4, "text-anchor": "end", "font-size": 10.5, fill: "#7b8794" }, label)));
    const ticks = Math.max(2, Math.min(10, Math.floor(plotW / 90)));
    for (let i = 0; i <= ticks; i++) {
      const t = (this.duration * i) / ticks;
      root.append(svg("text", { x: X(t), y: height - 6, "text-anchor": "middle", "font-size": 10.5, fill: "#7b8794" }, fmtTime(t)));
    }
    for (const t of this.data.escalations) {
      root.append(svg("line", { x1: X(t), x2: X(t), y1: top, y2: top + plotH, stroke: "#dc2626", "stroke-width": 2, "stroke-dasharray": "4 3" },
        svg("title", {}, `escalation at ${fmtTime(t)}`)));
    }
    for (const role of ["agent", "caller"]) {
      const pts = this.data.points.filter((p) => p.role === role);
      if (!pts.length) continue;
      const d = pts.map((p, i) => `${i ? "L" : "M"}${X((p.start + p.end) / 2).toFixed(1)},${Y(p.sentiment).toFixed(1)}`).join(" ");
      root.append(svg("path", { d, fill: "none", stroke: ROLE_COLOR[role], "stroke-width": 2, "stroke-linejoin": "round", opacity: 0.85 }));
      for (const p of pts) {
        root.append(svg("line", { x1: X(p.start), x2: X(p.end), y1: Y(p.sentiment), y2: Y(p.sentiment), stroke: ROLE_COLOR[role], "stroke-width": 5, "stroke-linecap": "round", opacity: 0.25 }));
        const dot = svg("circle", { cx: X((p.start + p.end) / 2), cy: Y(p.sentiment), r: 5, fill: EMOTION_COLOR[p.emotion] || "#8a94a3", stroke: "#fff", "stroke-width": 1.5, style: "cursor:pointer" },
          svg("title", {}, `${ROLE_LABEL[role]} ${fmtTime(p.start)}: ${p.emotion}, sentiment ${p.sentiment.toFixed(2)}`));
        dot.addEventListener("click", (e) => { e.stopPropagation(); this.onSeek(p.start); });
        root.append(dot);
      }
    }
    this.playhead = svg("line", { x1: left, x2: left, y1: top, y2: top + plotH, stroke: "#111a2e", "stroke-width": 1.5 });
    root.append(this.playhead);
    root.addEventListener("click", (e) => {
      const rect = root.getBoundingClientRect();
      const x = ((e.clientX - rect.left) / rect.width) * width;
      if (x >= left) this.onSeek(((x - left) / plotW) * this.duration);
    });
    this.X = X;
    this.element.replaceChildren(root);
  }
  setTime(t) {
    if (!this.playhead) return;
    const x = this.X(Math.min(t, this.duration));
    this.playhead.setAttribute("x1", x); this.playhead.setAttribute("x2", x);
  }
}

function summaryPanel(rec, analysis) {
  if (!analysis) {
    return h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Summary")),
      h("div", { class: "panel-body muted" }, processingNote(rec)));
  }
  const agentEmotion = analysis.agent_emotion && analysis.agent_emotion.label;
  return h("div", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", {}, "Summary")),
    h("div", { class: "panel-body" },
      analysis.summary ? h("p", { class: "call-summary", title: analysis.summary.method === "llm" ? "Written by the local LLM from the transcript" : "Extracted from what was said" }, analysis.summary.text,
        analysis.summary.resolved === true ? h("span", { class: "badge st-approved", style: { marginLeft: "6px" } }, "resolved")
          : analysis.summary.resolved === false ? h("span", { class: "badge st-rejected", style: { marginLeft: "6px" } }, "unresolved") : null) : null,
      h("h3", {}, "Reason for calling"),
      h("p", { class: "summary-reason" }, analysis.reason || "—"),
      h("dl", { class: "kv" },
        h("dt", {}, "Caller emotion"), h("dd", {}, emotionBadge(analysis.caller_emotion)),
        h("dt", {}, "Agent emotion"), h("dd", {}, emotionBadge(agentEmotion)),
        h("dt", {}, "Issue"), h("dd", {}, rec.issue_label || analysis.issue_id || "—"),
        h("dt", {}, "Escalations"), h("dd", {}, String((analysis.escalations || []).length)),
        h("dt", {}, "Ended better"), h("dd", {}, analysis.ended_better === null || analysis.ended_better === undefined ? "—" : analysis.ended_better ? "yes" : "no"))));
}

function metricsPanel(analysis) {
  const m = analysis && analysis.metrics;
  if (!m) return h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Conversation metrics")), h("div", { class: "panel-body muted" }, "No metrics yet."));
  const callerShare = (m.talk_ratio && m.talk_ratio.caller) || 0;
  const agentShare = (m.talk_ratio && m.talk_ratio.agent) || 0;
  const rateUnit = analysis.language === "zh" ? " chars/min" : " wpm";
  return h("div", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", {}, "Conversation metrics")),
    h("div", { class: "panel-body" },
      h("h3", {}, "Talk ratio"),
      h("div", { class: "ratio" }, h("div", { class: "caller", style: { width: pct(callerShare) } }), h("div", { class: "agent", style: { width: pct(agentShare) } })),
      h("div", { class: "ratio-legend" }, h("span", { class: "role-caller" }, `Caller ${pct(callerShare)}`), h("span", { class: "role-agent" }, `Agent ${pct(agentShare)}`)),
      h("dl", { class: "kv", style: { marginTop: "12px" } },
        h("dt", {}, "Handle time"), h("dd", {}, fmtTime(m.handle_time_s)),
        h("dt", {}, "Silence (non-talk)"), h("dd", {}, num(m.non_talk_time_s, 1, " s")),
        h("dt", {}, "Longest silence"), h("dd", {}, num(m.longest_silence_s, 1, " s")),
        h("dt", {}, "Hold"), h("dd", {}, `${num(m.hold_time_s, 0, " s")} · ${m.hold_count}×`),
        h("dt", {}, "Overtalk"), h("dd", {}, num(m.overtalk_time_s, 1, " s")),
        h("dt", {}, "Agent interruptions"), h("dd", {}, String((m.interruptions || {}).agent ?? "—")),
        h("dt", {}, "Caller interruptions"), h("dd", {}, String((m.interruptions || {}).caller ?? "—")),
        h("dt", {}, "Agent pace"), h("dd", {}, num((m.speaking_rate || {}).agent, 0, rateUnit)),
        h("dt", {}, "Caller pace"), h("dd", {}, num((m.speaking_rate || {}).caller, 0, rateUnit)),
        h("dt", {}, "Turns"), h("dd", {}, String(m.turn_count)),
        h("dt", {}, "Agent first spoke"), h("dd", {}, m.time_to_first_agent_s === null ? "—" : num(m.time_to_first_agent_s, 1, " s")))));
}

const QA_MARK = { true: ["✓", "pass", "Passed"], false: ["✗", "fail", "Failed"], null: ["–", "na", "Not applicable"] };

function qaPanel(rec, qa, seek) {
  const body = h("div", { class: "panel-body" });
  const score = h("span", { class: "qa-score" });
  const panel = h("div", { class: "panel", id: "qa" },
    h("div", { class: "panel-head" }, h("h2", {}, "Automatic QA"), score,
      h("div", { class: "exports" },
        h("a", { class: "btn ghost small", href: "/api/qa/export?format=csv", title: "Every call's verdicts" }, "CSV"),
        h("a", { class: "btn ghost small", href: "/qa", "data-link": "", title: "Edit the rules" }, "Rules"))),
    body);
  if (!qa) {
    append(body, h("div", { class: "muted" }, rec.status === "done" ? "Not scored yet — an editor can re-score calls on the QA rules page." : processingNote(rec)));
    return panel;
  }
  function draw(result) {
    score.textContent = result.score === null ? "—" : `${Math.round(result.score)}%`;
    score.className = "qa-score " + (result.score === null ? "" : result.score >= 80 ? "good" : result.score >= 50 ? "mid" : "bad");
    score.title = `${result.scorecard_name}: share of applicable criteria passed`;
    const items = result.items.map((item) => {
      const [mark, cls, word] = QA_MARK[String(item.passed)];
      const evidence = item.evidence.map((e) => h("button", {
        type: "button", class: "evidence", title: `Play from ${fmtTime(e.start)}`, dataset: { start: e.start },
        onclick: () => seek(e.start),
      }, h("span", { class: "mono" }, fmtTime(e.start)), " ", e.text));
      const override = item.override ? h("div", { class: "qa-override" },
        `Set to ${word.toLowerCase()} by ${item.override.by}` +
        ` (automatic: ${QA_MARK[String(item.override.automatic)][2].toLowerCase()})` + (item.override.note ? ` — ${item.override.note}` : "")) : null;
      const controls = state.me.can_edit ? h("div", { class: "qa-controls" },
        h("span", { class: "muted" }, "Reviewer:"),
        [[true, "Pass"], [false, "Fail"]].map(([value, label]) => h("button", {
          type: "button", class: "btn ghost small" + (item.passed === value && item.override ? " sel" : ""),
          title: `Override: mark ${label.toLowerCase()}`, onclick: () => change(item, value),
        }, label)),
        item.override ? h("button", { type: "button", class: "btn ghost small", title: "Back to the automatic verdict", onclick: () => change(item, null) }, "Undo") : null) : null;
      return h("div", { class: `qa-item ${cls}`, dataset: { id: item.id } },
        h("span", { class: "qa-mark", title: word, "aria-label": word }, mark),
        h("div", { class: "qa-main" }, h("div", { class: "qa-name" }, item.name),
          h("div", { class: "qa-detail" }, item.detail), evidence, override, controls));
    });
    const cats = result.categories.length ? h("div", { class: "qa-cats" }, h("h3", {}, "Categories"),
      result.categories.map((c) => h("button", {
        type: "button", class: "chip", title: c.evidence.length ? `${fmtTime(c.evidence[0].start)} ${c.evidence[0].text}` : c.name,
        onclick: () => { if (c.evidence.length) seek(c.evidence[0].start); },
      }, c.name))) : null;
    body.replaceChildren(...items, cats || "");
  }
  async function change(item, passed) {
    let note = "";
    if (passed !== null) {
      note = window.prompt(`Why is “${item.name}” ${passed ? "passed" : "failed"}? (optional note)`, "");
      if (note === null) return;
    }
    try {
      draw(await api(`/api/recordings/${rec.id}/qa/${item.id}`, { method: "PUT", body: { passed, note } }));
      toast(passed === null ? "Back to the automatic verdict" : "Override saved", "ok");
    } catch (err) {
      toast(err.message, "error");
    }
  }
  draw(qa);
  return panel;
}

async function scorecardPanel(rec, rubric) {
  const body = h("div", { class: "panel-body" });
  const panel = h("div", { class: "panel", id: "scorecard" },
    h("div", { class: "panel-head" }, h("h2", {}, "QA scorecard"),
      h("div", { class: "exports" },
        h("a", { class: "btn ghost small", href: `/api/scorecards/export?format=csv&recording_id=${rec.id}` }, "CSV"),
        h("a", { class: "btn ghost small", href: `/api/scorecards/export?format=json&recording_id=${rec.id}` }, "JSON"))),
    body);
  let editing = null;
  const scores = {};
  const comments = h("textarea", { rows: 3, placeholder: "What went well, what to coach…", style: { width: "100%" } });
  const total = h("span", { class: "big" }, "—");
  const save = h("button", { class: "btn", type: "button" }, "Save scorecard");
  const past = h("div", { class: "past-cards" });
  const rows = rubric.map((c) => {
    const buttons = [];
    const scale = h("div", { class: "scale", role: "radiogroup", "aria-label": c.label });
    const na = h("button", { type: "button", class: "na sel", title: "Not applicable" }, "–");
    buttons.push(na);
    for (let v = 0; v <= c.max_score; v++) buttons.push(h("button", { type: "button", dataset: { v } }, String(v)));
    buttons.forEach((b) => b.addEventListener("click", () => {
      if (b.dataset.v === undefined) delete scores[c.key]; else scores[c.key] = Number(b.dataset.v);
      buttons.forEach((x) => x.classList.toggle("sel", x === b));
      update();
    }));
    append(scale, buttons);
    return { c, buttons, el: h("div", { class: "score-row", title: c.description }, h("div", { class: "label" }, c.label), scale) };
  });
  function setScores(values) {
    for (const key of Object.keys(scores)) delete scores[key];
    Object.assign(scores, values);
    for (const row of rows) {
      const v = scores[row.c.key];
      row.buttons.forEach((b) => b.classList.toggle("sel", v === undefined ? b.dataset.v === undefined : Number(b.dataset.v) === v && b.dataset.v !== undefined));
    }
    update();
  }
  function update() {
    const keys = Object.keys(scores);
    const max = rubric.filter((c) => keys.includes(c.key)).reduce((a, c) => a + c.max_score, 0);
    total.textContent = max ? `${Math.round((100 * keys.reduce((a, k) => a + scores[k], 0)) / max)}%` : "—";
  }
  async function loadPast() {
    const cards = await api(`/api/recordings/${rec.id}/scorecards`);
    past.replaceChildren(...cards.map((card) => h("div", {
      class: "past-card", title: card.comments || "", onclick: () => {
        if (!state.me.can_edit || (card.reviewer !== state.me.username && !state.me.is_admin)) return;
        editing = card.id; setScores(card.scores); comments.value = card.comments; save.textContent = "Update scorecard";
      },
    }, h("span", {}, h("b", {}, card.reviewer), ` · ${fmtDate(card.created_at)}`), h("b", {}, `${Math.round(card.total)}%`))));
    if (!cards.length && !state.me.can_edit) past.replaceChildren(h("div", { class: "muted" }, "No scorecards yet."));
  }
  save.addEventListener("click", async () => {
    if (!Object.keys(scores).length) { toast("Score at least one criterion.", "error"); return; }
    save.disabled = true;
    try {
      const payload = { scores: { ...scores }, comments: comments.value };
      if (editing) await api(`/api/scorecards/${editing}`, { method: "PUT", body: payload });
      else await api(`/api/recordings/${rec.id}/scorecards`, { method: "POST", body: payload });
      toast("Scorecard saved", "ok");
      editing = null; save.textContent = "Save scorecard"; setScores({}); comments.value = "";
      await loadPast();
    } catch (err) {
      toast(err.message, "error");
    } finally {
      save.disabled = false;
    }
  });
  if (state.me.can_edit) {
    append(body, rows.map((r) => r.el), h("div", { class: "score-total" }, total, h("span", { class: "muted" }, "of scored criteria")),
      comments, h("div", { style: { display: "flex", justifyContent: "flex-end", marginTop: "8px" } }, save));
  }
  append(body, state.me.can_edit ? h("h3", { style: { marginTop: "14px" } }, "Previous") : null, past);
  await loadPast();
  return panel;
}

// ----------------------------------------------------------------- analytics

function niceMax(value) {
  if (!(value > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= value) return m * p;
  return 10 * p;
}

function dayLabel(iso, period) {
  const d = new Date(iso + "T00:00:00Z");
  const text = d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  return period === "week" ? `wk ${text}` : text;
}

function lastDay(b) { // the bucket's last day (its end is exclusive), for the call list's inclusive "until"
  const d = new Date(b.end + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/* An SVG chart with axes, labels and hover titles; a click on a point opens the calls behind it.
 * series: [{ key, label, color, value: (bucket) => number|null }]; kind: "bar" | "stack" | "line". */
function trendChart({ id, title, buckets, period, series, kind = "bar", yFormat = (v) => String(v), yMax, yLabel, drill, integer = false }) {
  const W = 560, H = 210, L = 48, R = 12, T = 12, B = 34;
  const pw = W - L - R, ph = H - T - B, n = Math.max(1, buckets.length), bw = pw / n;
  const totals = buckets.map((b) => kind === "stack" ? series.reduce((a, s) => a + (s.value(b) || 0), 0) : Math.max(0, ...series.map((s) => s.value(b) || 0)));
  const peak = Math.max(0, ...totals);
  const top = yMax || (integer ? Math.max(4, Math.ceil(peak / 4) * 4) : niceMax(peak));
  const Y = (v) => T + ph - (ph * v) / top;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "trend", role: "img", "aria-label": title });
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    root.append(svg("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: i ? "grid" : "axis" }),
      svg("text", { x: L - 6, y: Y(v) + 4, class: "tick", "text-anchor": "end" }, yFormat(v)));
  }
  if (yLabel) root.append(svg("text", { x: 12, y: T + ph / 2, class: "ylabel", transform: `rotate(-90 12 ${T + ph / 2})`, "text-anchor": "middle" }, yLabel));
  const every = Math.ceil(n / 8);
  buckets.forEach((b, i) => {
    if (i % every === 0) root.append(svg("text", { x: L + bw * i + bw / 2, y: H - B + 16, class: "tick", "text-anchor": "middle" }, dayLabel(b.start, period)));
  });
  root.append(svg("line", { x1: L, x2: L, y1: T, y2: T + ph, class: "axis" }));
  const go = (url) => () => navigate(url);
  if (kind === "line") {
    for (const s of series) {
      const pts = buckets.map((b, i) => [L + bw * i + bw / 2, s.value(b), b]).filter(([, v]) => v !== null && v !== undefined);
      if (pts.length > 1) root.append(svg("polyline", { points: pts.map(([x, v]) => `${x},${Y(v)}`).join(" "), fill: "none", stroke: s.color, "stroke-width": 2 }));
      for (const [x, v, b] of pts) {
        root.append(svg("circle", { cx: x, cy: Y(v), r: 4.5, fill: s.color, class: "pt", onclick: drill ? go(drill(b, s.key)) : null },
          svg("title", {}, `${dayLabel(b.start, period)}: ${s.label} ${yFormat(v)}${b.calls !== undefined ? ` · ${b.calls} calls` : ""}`)));
      }
    }
  } else {
    buckets.forEach((b, i) => {
      let base = 0;
      for (const s of series) {
        const v = s.value(b) || 0;
        if (!v) continue;
        const y0 = kind === "stack" ? base : 0;
        root.append(svg("rect", { x: L + bw * i + bw * 0.15, width: bw * 0.7, y: Y(y0 + v), height: Y(y0) - Y(y0 + v), fill: s.color, class: "pt",
          onclick: drill ? go(drill(b, s.key)) : null }, svg("title", {}, `${dayLabel(b.start, period)}: ${s.label} ${yFormat(v)}`)));
        if (kind === "stack") base += v;
      }
    });
  }
  const legend = series.length > 1 ? h("div", { class: "chart-legend" }, series.map((s) => h("span", {}, h("i", { style: { background: s.color } }), s.label))) : null;
  return h("div", { class: "panel chart-panel", id }, h("div", { class: "panel-head" }, h("h2", {}, title)), h("div", { class: "panel-body" }, root, legend));
}

async function viewAnalytics(main) {
  const params = new URLSearchParams(location.search);
  const days = parseInt(params.get("days") || "30", 10) || 30;
  const data = await api(`/api/insights/trends?days=${days}`);
  const range = h("div", { class: "tabs" }, [7, 30, 90, 365].map((d) =>
    h("button", { type: "button", class: d === days ? "on" : "", onclick: () => navigate(`/analytics?days=${d}`) }, d === 365 ? "1 year" : `${d} days`)));
  const b = data.buckets, period = data.period;
  const calls = (bk, extra = "") => `/calls?since=${bk.start}&until=${lastDay(bk)}${extra}`;
  const emotions = ["neutral", "positive", "anxious", "frustrated"];
  const causes = Object.keys(CAUSE_LABEL);
  const causeColor = { caller_request: "#2f4fd8", no_match: "#d97706", out_of_scope: "#a16207", frustration: "#dc2626", no_input: "#9aa3af", needs_agent: "#0f9f74", error: "#6b21a8" };
  const charts = h("div", { class: "charts" },
    trendChart({ id: "chart-volume", title: "Call volume", buckets: b, period, yLabel: "calls", integer: true, drill: (bk) => calls(bk),
      series: [{ key: "calls", label: "calls", color: "#2f4fd8", value: (bk) => bk.calls }] }),
    trendChart({ id: "chart-aht", title: "Average handle time", buckets: b, period, kind: "line", yFormat: (v) => fmtTime(v), yLabel: "mm:ss", drill: (bk) => calls(bk),
      series: [{ key: "aht", label: "AHT", color: "#0f9f74", value: (bk) => bk.avg_handle_time_s }] }),
    trendChart({ id: "chart-emotion", title: "Caller emotion mix", buckets: b, period, kind: "stack", yLabel: "calls", integer: true,
      drill: (bk, key) => calls(bk, `&emotion=${key}`),
      series: emotions.map((e) => ({ key: e, label: e, color: EMOTION_COLOR[e], value: (bk) => bk.emotions[e] || 0 })) }),
    trendChart({ id: "chart-qa", title: "Automatic QA score", buckets: b, period, kind: "line", yMax: 100, yFormat: (v) => `${Math.round(v)}%`, yLabel: "score",
      drill: (bk) => calls(bk, "&qa=below:80"), series: [{ key: "qa", label: "average score", color: "#7c3aed", value: (bk) => bk.avg_qa_score }] }),
    trendChart({ id: "chart-containment", title: "IVR containment", buckets: b, period, kind: "line", yMax: 1, yFormat: (v) => pct(v), yLabel: "contained",
      drill: () => `/insights?days=${days}`, series: [{ key: "containment", label: "containment", color: "#16a34a", value: (bk) => bk.ivr_containment }] }),
    trendChart({ id: "chart-transfers", title: "Why IVR calls were transferred", buckets: b, period, kind: "stack", yLabel: "transfers", integer: true,
      drill: () => `/insights?days=${days}`,
      series: causes.map((c) => ({ key: c, label: CAUSE_LABEL[c], color: causeColor[c], value: (bk) => bk.transfer_causes[c] || 0 })) }));
  const issueRows = b.filter((bk) => bk.top_issues.length).slice(-8).reverse();
  const issues = h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Top issues by period")),
    h("div", { class: "panel-body" }, issueRows.length ? h("table", { class: "grid compact" }, h("tbody", {}, issueRows.map((bk) =>
      h("tr", {}, h("td", { class: "nowrap muted" }, dayLabel(bk.start, period)),
        h("td", {}, bk.top_issues.map((i, n) => [n ? " · " : "", h("a", { href: calls(bk, `&issue=${encodeURIComponent(i.id)}`), "data-link": "" }, i.label), h("span", { class: "muted" }, ` ${i.calls}`)]))))))
      : h("p", { class: "muted" }, "No issues mined in this period yet.")));
  const agentRows = data.agents.map((a) => h("tr", { class: "row", onclick: () => navigate(a.agent === "unassigned" ? "/calls" : `/calls?agent=${encodeURIComponent(a.agent)}`) },
    h("td", {}, h("b", {}, a.agent)), h("td", { class: "num" }, String(a.calls)),
    h("td", { class: "num mono" }, a.avg_handle_time_s === null ? "—" : fmtTime(a.avg_handle_time_s)),
    h("td", { class: "num" }, a.avg_agent_talk_share === null ? "—" : pct(a.avg_agent_talk_share)),
    h("td", { class: "num" }, a.avg_qa_score === null ? "—" : `${Math.round(a.avg_qa_score)}%`),
    h("td", { class: "num" }, a.avg_caller_sentiment === null ? "—" : a.avg_caller_sentiment.toFixed(2)),
    h("td", { class: "num" }, `${a.negative_calls}`)));
  const agents = h("div", { class: "panel", id: "agents" }, h("div", { class: "panel-head" }, h("h2", {}, "Agents")),
    h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["Agent", "Calls", "AHT", "Agent talk", "QA score", "Caller sentiment", "Upset callers"].map((t) => h("th", {}, t)))),
      h("tbody", {}, agentRows.length ? agentRows : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No analysed calls in this period.")))));
  main.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Analytics"),
      h("div", { class: "sub" }, `${b.reduce((a, x) => a + x.calls, 0)} analysed calls, per ${period}. Click a bar or point to open its calls.`)), range),
    charts, h("div", { class: "insights" }, agents, issues));
}

// ----------------------------------------------------------------- QA rules

async function viewQaRules(main) {
  const active = await api("/api/qa/scorecard");
  const editor = h("textarea", { class: "rules-editor mono", spellcheck: "false", rows: 30, readonly: !state.me.can_edit }, active.source);
  const error = h("div", { class: "form-error", hidden: true });
  const info = h("div", { class: "sub" });
  const list = h("div", { class: "panel-body" });
  function describe(sc) {
    info.textContent = `${sc.name} · ${sc.criteria.length} criteria, ${sc.categories.length} categories · ` +
      (sc.origin === "dashboard" ? `saved by ${sc.author} ${fmtDate(sc.saved_at)}` : sc.origin === "default" ? "the shipped default" : `from ${sc.origin}`);
    list.replaceChildren(h("h3", {}, "Criteria"), h("ol", { class: "rules-list" }, sc.criteria.map((c) => h("li", {}, h("b", {}, c.name), c.description ? h("div", { class: "muted" }, c.description) : null))),
      sc.categories.length ? [h("h3", {}, "Categories"), h("ul", { class: "rules-list" }, sc.categories.map((c) => h("li", {}, c.name)))] : null);
  }
  const save = h("button", { class: "btn", type: "button" }, "Save and re-score all calls");
  save.addEventListener("click", async () => {
    save.disabled = true; error.hidden = true;
    try {
      const saved = await api("/api/qa/scorecard", { method: "PUT", body: { source: editor.value } });
      describe(saved);
      toast(`Saved; ${saved.rescored} call${saved.rescored === 1 ? "" : "s"} re-scored`, "ok");
    } catch (err) {
      error.textContent = err.message; error.hidden = false;
    } finally {
      save.disabled = false;
    }
  });
  describe(active);
  main.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "QA rules"), info)),
    h("div", { class: "rules-layout" },
      h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Scorecard (YAML or JSON)"),
        state.me.can_edit ? save : h("span", { class: "muted" }, "read-only for your role")),
        h("div", { class: "panel-body" }, error, editor,
          h("p", { class: "muted small" }, "Conditions: said / not_said (by agent, caller or any; phrases matched by meaning in English and Mandarin, keywords, regex; within first/last N s; before/after another phrase), metric (min/max), sentiment (by, at start/end/overall/any, min/max), emotion (is / is_not), and all / any / not. A criterion with “when” counts only on calls where it holds."))),
      h("div", { class: "panel" }, list)));
}

// ----------------------------------------------------------------- insights

async function viewInsights(main) {
  const params = new URLSearchParams(location.search);
  const days = parseInt(params.get("days") || "30", 10) || 30;
  // issues first: loading them mines new calls, which also drafts FAQ entries
  const issues = await tryApi(`/api/insights/issues?days=${days}`);
  const [ivr, faqs, selfService] = await Promise.all([tryApi(`/api/insights/ivr?days=${days}`), tryApi("/api/faq"),
    tryApi(`/api/insights/selfservice?days=${days}`)]);
  const range = h("div", { class: "tabs" }, [7, 30, 90, 365].map((d) =>
    h("button", { type: "button", class: d === days ? "on" : "", onclick: () => navigate(`/insights?days=${d}`) }, d === 365 ? "1 year" : `${d} days`)));
  const kpis = h("div", { class: "kpis" },
    kpi("Calls analysed", issues ? String(issues.calls) : "—", `last ${days} days`),
    kpi("Top issue", issues && issues.issues.length ? pct(issues.issues[0].share) : "—", issues && issues.issues.length ? issues.issues[0].label : "no issues mined yet"),
    kpi("IVR containment", ivr && ivr.calls ? pct(ivr.containment_rate) : "—", ivr && ivr.calls ? containmentHint(ivr) : "no IVR calls yet"),
    kpi("Transfers to agents", ivr && ivr.calls ? pct(ivr.transfer_rate) : "—", ivr && ivr.calls ? `${ivr.transferred} of ${ivr.calls} IVR calls` : ""),
    kpi("Self-service", ivr && ivr.calls ? pct(ivr.self_service_rate) : "—", ivr && ivr.calls ? `${ivr.outcomes.self_service} of ${ivr.calls} IVR calls answered by an FAQ or action` : ""),
    kpi("CSAT", ivr && ivr.csat_avg ? `${ivr.csat_avg.toFixed(1)} / 5` : "—", ivr ? `${ivr.csat_responses} responses` : ""));
  main.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Insights"), h("div", { class: "sub" }, "Why customers call, what the IVR can answer, and what it can't yet.")), range),
    kpis,
    h("div", { class: "insights" },
      h("div", { class: "main-col", style: { display: "flex", flexDirection: "column", gap: "16px" } }, issuesPanel(issues, days)),
      h("div", { style: { display: "flex", flexDirection: "column", gap: "16px" } }, faqPanel(faqs), kbVersionsPanel(), ivrPanel(ivr), selfServicePanel(selfService))));
}

function containmentHint(ivr) {
  const split = ivr.since_publish;
  if (!split) return `${ivr.contained} of ${ivr.calls} IVR calls`;
  return `${ivr.contained} of ${ivr.calls} IVR calls · its questions ${pct(split.before.containment_rate)} → ${pct(split.after.containment_rate)} since publishing ${split.entry_id}`;
}

const OUTCOME_LABEL = { self_service: "Self-service answer", ended_in_ivr: "Ended in IVR, nothing answered", repeat_call: "Called back within 24 h",
  transferred: "Transferred to an agent", early_abandon: "Hung up before asking" };
const OUTCOME_COLOR = { self_service: "#16a34a", ended_in_ivr: "#86cfa0", repeat_call: "#d97706", transferred: "#2f4fd8", early_abandon: "#9aa3af" };
const CAUSE_LABEL = { caller_request: "Caller asked for a person", no_match: "Not understood after reprompts", out_of_scope: "Outside what the IVR answers", frustration: "Caller frustrated",
  no_input: "No input from the caller", needs_agent: "Topic needs an agent", error: "IVR or lookup error" };

function outcomeBar(ivr) {
  const entries = Object.entries(ivr.outcomes || {}).filter(([, n]) => n > 0);
  return h("div", { class: "outcomes", id: "ivr-outcomes" },
    h("div", { class: "stack", role: "img", "aria-label": entries.map(([k, n]) => `${OUTCOME_LABEL[k] || k} ${n}`).join(", ") },
      entries.map(([k, n]) => h("div", { title: `${OUTCOME_LABEL[k] || k}: ${n} of ${ivr.calls} (${pct(n / ivr.calls)})`, style: { width: `${(100 * n) / ivr.calls}%`, background: OUTCOME_COLOR[k] || "#999" } }))),
    h("ul", { class: "legend" }, entries.map(([k, n]) => h("li", {}, h("i", { style: { background: OUTCOME_COLOR[k] || "#999" } }),
      `${OUTCOME_LABEL[k] || k}`, h("b", {}, ` ${n} · ${pct(n / ivr.calls)}`)))),
    h("p", { class: "muted small" }, `Every IVR call has one outcome; containment ${pct(ivr.containment_rate)} = self-service + ended in IVR.`));
}

function kpi(label, value, hint) {
  return h("div", { class: "panel kpi" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), h("div", { class: "hint" }, hint));
}

function issuesPanel(data, days) {
  const list = h("div");
  const panel = h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Top issues"),
    h("span", { class: "muted" }, data ? `${data.issues.length} found in ${data.calls} calls` : "")), list);
  if (!data || !data.issues.length) {
    list.append(h("div", { class: "empty" }, h("strong", {}, "No common issues yet"), "Issues are mined from analysed calls; upload and process some calls first."));
    return panel;
  }
  data.issues.forEach((issue, i) => {
    list.append(h("div", { class: "issue" },
      h("div", { class: "rank" }, `#${i + 1}`),
      h("div", {},
        h("div", { class: "label" }, issue.label,
          (issue.other_labels || []).map((n) => h("span", { class: "muted other-label" }, ` · ${n}`))),
        h("div", { class: "kw" }, (issue.keywords || []).slice(0, 8).map((k) => h("span", {}, k))),
        (issue.examples || []).slice(0, 2).map((q) => h("div", { class: "quote" }, `“${q}”`)),
        h("div", { class: "examples" }, h("span", { class: "muted" }, "Example calls:"),
          (issue.calls || []).slice(0, 4).map((c) => h("a", { href: `/calls/${c.id}`, "data-link": "" }, c.name)),
          h("a", { href: `/calls?issue=${encodeURIComponent(issue.id)}`, "data-link": "" }, "all →"))),
      h("div", { class: "stats" },
        h("div", { class: "count" }, String(issue.count)),
        h("div", { class: "muted" }, `${pct(issue.share)} of calls`),
        sparkline(issue.trend || [], days))));
  });
  return panel;
}

function sparkline(trend, days) {
  // a small chart with its axes: calls per bucket (y, 0 to the peak) over the period (x, first to last date)
  const W = 170, H = 62, L = 18, B = 14, T = 4, R = 4;
  const root = svg("svg", { class: "spark", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "calls per period" });
  if (!trend.length) return root;
  const max = Math.max(1, ...trend.map((p) => p.count));
  const pw = W - L - R, ph = H - T - B;
  const step = trend.length > 1 ? pw / (trend.length - 1) : pw;
  const pts = trend.map((p, i) => [L + (trend.length > 1 ? i * step : pw / 2), T + ph - (p.count / max) * ph]);
  const line = pts.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  root.append(svg("line", { x1: L, x2: W - R, y1: T + ph, y2: T + ph, class: "axis" }), svg("line", { x1: L, x2: L, y1: T, y2: T + ph, class: "axis" }),
    svg("text", { x: L - 3, y: T + 7, class: "tick", "text-anchor": "end" }, String(max)),
    svg("text", { x: L - 3, y: T + ph, class: "tick", "text-anchor": "end" }, "0"));
  const short = (iso) => new Date(iso + "T00:00:00Z").toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  root.append(svg("text", { x: L, y: H - 2, class: "tick", "text-anchor": "start" }, short(trend[0].date)));
  if (trend.length > 1) root.append(svg("text", { x: W - R, y: H - 2, class: "tick", "text-anchor": "end" }, short(trend[trend.length - 1].date)));
  root.append(svg("path", { d: `${line} L${pts[pts.length - 1][0]},${T + ph} L${pts[0][0]},${T + ph} Z`, fill: "#e8edff" }));
  root.append(svg("path", { d: line, fill: "none", stroke: "#2f4fd8", "stroke-width": 1.8 }));
  for (const [i, [x, y]] of pts.entries()) {
    root.append(svg("circle", { cx: x, cy: y, r: trend[i].count ? 2.5 : 1.5, fill: "#2f4fd8" },
      svg("title", {}, `${short(trend[i].date)}: ${trend[i].count} call${trend[i].count === 1 ? "" : "s"}`)));
  }
  return root;
}

function faqPanel(faqs) {
  const list = h("div", { id: "faq-list" });
  let entries = faqs || [];
  // reviewers start on the drafts; with none waiting, on everything (e.g. what the IVR now answers)
  let filter = entries.some((f) => f.status === "draft") || !entries.length ? "draft" : "all";
  let superseded = null; // drafts re-mining retired: fetched when their tab is opened
  const names = ["draft", "approved", "published", "superseded", "all"];
  const tabs = h("div", { class: "tabs" }, names.map((s) =>
    h("button", { type: "button", class: s === filter ? "on" : "", dataset: { status: s }, onclick: async () => {
      filter = s;
      [...tabs.children].forEach((b) => b.classList.toggle("on", b.dataset.status === s));
      if (s === "superseded") superseded = (await tryApi("/api/faq?status=superseded")) || [];
      draw();
    } }, s)));
  const panel = h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "FAQ drafts"), tabs), list);
  async function reload() {
    entries = (await tryApi("/api/faq")) || [];
    if (filter === "superseded") superseded = (await tryApi("/api/faq?status=superseded")) || [];
    draw();
  }
  function counts() {
    for (const b of tabs.children) {
      const s = b.dataset.status;
      const n = s === "all" ? entries.length : s === "superseded" ? (superseded ? superseded.length : null) : entries.filter((f) => f.status === s).length;
      b.textContent = n === null ? s : `${s} (${n})`;
    }
  }
  function draw() {
    counts();
    const shown = filter === "superseded" ? (superseded || []) : entries.filter((f) => filter === "all" || f.status === filter);
    if (faqs === null) { list.replaceChildren(h("div", { class: "empty" }, "FAQ drafting is not available on this server.")); return; }
    const hints = { draft: "Drafts appear as calls reveal questions the IVR could answer.", superseded: "Drafts whose issue a later mining run no longer found are kept here." };
    if (!shown.length) { list.replaceChildren(h("div", { class: "empty" }, h("strong", {}, `No ${filter === "all" ? "" : filter + " "}entries`), hints[filter] || "")); return; }
    list.replaceChildren(...shown.map((f) => faqEntry(f, reload)));
  }
  draw();
  return panel;
}

function faqEntry(entry, reload) {
  const langs = [...new Set([...Object.keys(entry.questions || {}), ...Object.keys(entry.answers || {})])].sort();
  const canEdit = state.me.can_edit;
  const editable = canEdit && (entry.status === "draft" || entry.status === "approved");
  const fields = {};
  const questionInput = (lang, value) => {
    const input = h("input", { type: "text", value, disabled: !editable, "aria-label": `Question (${lang})` });
    const row = h("div", { class: "q-row" }, input,
      editable ? h("button", { type: "button", class: "btn ghost small", title: "Remove this question", "aria-label": "Remove question",
        onclick: () => { row.remove(); fields[lang].qs = fields[lang].qs.filter((q) => q !== input); } }, "×") : null);
    return { input, row };
  };
  const edit = h("div", { class: "faq-edit" }, langs.map((lang) => {
    const box = h("div", { class: "q-list" });
    fields[lang] = { qs: [], a: null };
    for (const q of (entry.questions || {})[lang] || []) {
      const made = questionInput(lang, q);
      fields[lang].qs.push(made.input);
      box.append(made.row);
    }
    const add = editable ? h("button", { type: "button", class: "btn ghost small add-q", onclick: () => {
      const made = questionInput(lang, ""); fields[lang].qs.push(made.input); box.append(made.row); made.input.focus();
    } }, "+ question") : null;
    const a = h("textarea", { rows: 2, disabled: !editable, "aria-label": `Answer (${lang})` });
    a.value = (entry.answers || {})[lang] || "";
    fields[lang].a = a;
    const count = ((entry.questions || {})[lang] || []).length;
    const src = (entry.answer_sources || {})[lang] || {};
    const quality = src.quality == null ? null : h("div", { class: "muted faq-quality", style: { fontSize: "12px" }, title: (src.quality_notes || []).join("\n") },
      h("span", { class: `badge ${src.quality_passed ? "st-approved" : "st-rejected"}` }, `quality ${Number(src.quality).toFixed(2)}`), " ",
      src.quality_passed ? "passes the gate: " : "below the gate: ", (src.quality_notes || [])[0] || "");
    return [h("div", { class: "lang" }, h("span", { title: `${count} question${count === 1 ? "" : "s"}` }, lang), h("div", {}, box, add)),
      h("div", { class: "lang" }, h("span", {}), a), quality ? h("div", { class: "lang" }, h("span", {}), quality) : null];
  }));
  const act = async (path, method, body, message) => {
    try {
      const out = await api(path, { method, body });
      toast(message, "ok");
      await reload();
      return out;
    } catch (err) { toast(err.message, "error"); return null; }
  };
  const payload = () => ({
    questions: Object.fromEntries(langs.map((l) => [l, fields[l].qs.map((q) => q.value.trim()).filter(Boolean)]).filter(([, qs]) => qs.length)),
    answers: Object.fromEntries(langs.map((l) => [l, fields[l].a.value.trim()]).filter(([, v]) => v)),
  });
  const actions = h("div", { class: "faq-actions" });
  if (canEdit) {
    if (editable) actions.append(h("button", { class: "btn secondary small", type: "button", onclick: () => act(`/api/faq/${entry.id}`, "PATCH", payload(), "Saved") }, "Save"));
    if (entry.status === "superseded" || entry.status === "rejected") actions.append(h("button", { class: "btn secondary small", type: "button", dataset: { action: "reopen" }, onclick: () => act(`/api/faq/${entry.id}/reopen`, "POST", undefined, "Back to draft") }, "Reopen"));
    if (entry.status === "draft") {
      actions.append(h("button", { class: "btn danger small", type: "button", onclick: () => act(`/api/faq/${entry.id}/reject`, "POST", undefined, "Rejected") }, "Reject"));
      actions.append(h("button", { class: "btn small", type: "button", dataset: { action: "approve" }, onclick: async () => { await act(`/api/faq/${entry.id}`, "PATCH", payload(), "Saved"); await act(`/api/faq/${entry.id}/approve`, "POST", undefined, "Approved"); } }, "Approve"));
    }
    if (entry.status === "approved") actions.append(h("button", { class: "btn success small", type: "button", dataset: { action: "publish" }, onclick: () => previewDialog(entry, payload(), act) }, "Preview & publish…"));
    if (entry.status === "published") actions.append(h("button", { class: "btn danger small", type: "button", dataset: { action: "unpublish" }, onclick: () => {
      if (window.confirm(`Take “${((entry.questions || {})[langs[0]] || [entry.id])[0]}” out of the live IVR? Callers asking it will no longer get this answer.`)) {
        act(`/api/faq/${entry.id}/unpublish`, "POST", undefined, "Unpublished: the IVR no longer gives this answer");
      }
    } }, "Unpublish"));
  }
  const evidence = (entry.evidence_calls || []).slice(0, 3);
  const total = Object.values(entry.questions || {}).reduce((n, qs) => n + qs.length, 0);
  return h("div", { class: "faq", dataset: { id: entry.id } },
    h("div", { class: "faq-top" }, h("span", { class: `badge st-${entry.status}` }, entry.status),
      h("span", { class: "q" }, ((entry.questions || {})[langs[0]] || [entry.id])[0]),
      h("span", { class: "muted" }, `${total} question${total === 1 ? "" : "s"}`),
      entry.frequency ? h("span", { class: "muted" }, `asked ${entry.frequency}×`) : null),
    edit,
    evidence.length ? h("div", { class: "muted", style: { fontSize: "12px", marginTop: "6px" } }, "From calls: ",
      evidence.map((id, i) => [i ? ", " : "", /^[0-9a-f]{64}$/.test(id) ? h("a", { href: `/calls/${id}`, "data-link": "" }, id.slice(0, 8)) : id])) : null,
    actions);
}

async function previewDialog(entry, draft, act) {
  const dialog = h("dialog", { class: "dialog preview-dialog", id: "publish-preview" });
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.append(h("h2", {}, "Before publishing to the live IVR"), h("div", { class: "loading" }, "Running the IVR matcher on past callers' questions…"));
  dialog.showModal();
  let preview;
  try {
    preview = await api(`/api/faq/${entry.id}/preview`, { method: "POST", body: draft });
  } catch (err) {
    dialog.replaceChildren(h("h2", {}, "Preview failed"), h("p", { class: "form-error" }, err.message),
      h("form", { method: "dialog" }, h("button", { class: "btn" }, "Close")));
    return;
  }
  const list = (items, empty, withBefore) => items.length ? h("ul", { class: "preview-list" }, items.slice(0, 12).map((c) =>
    h("li", {}, h("span", { class: "mono muted" }, `${Math.round(c.score * 100)}%`), " ", c.text,
      withBefore && c.before ? h("span", { class: "muted" }, ` (now: ${c.before})`) : null)))
    : h("p", { class: "muted small" }, empty);
  const takes = Object.entries(preview.takes);
  const confirmBox = h("input", { type: "checkbox", id: "publish-confirm" });
  const publishBtn = h("button", { class: "btn success", type: "button", disabled: true, dataset: { action: "confirm-publish" } }, "Publish to the live IVR");
  confirmBox.addEventListener("change", () => { publishBtn.disabled = !confirmBox.checked; });
  publishBtn.addEventListener("click", async () => {
    publishBtn.disabled = true;
    const saved = await act(`/api/faq/${entry.id}`, "PATCH", draft, "Saved");
    if (saved) await act(`/api/faq/${entry.id}/publish`, "POST", undefined, "Published to the IVR knowledge base");
    dialog.close();
  });
  const questions = Object.values(draft.questions).flat();
  dialog.replaceChildren(
    h("h2", {}, "Before publishing to the live IVR"),
    h("p", { class: "muted small" }, `Tried on ${preview.phrasings} things callers said (IVR questions and reasons for calling) against the ${preview.live_entries} live entries plus this one.`),
    h("h3", {}, `Would newly answer (${preview.catches.length})`), list(preview.catches, "No past caller phrasing — the entry may still help future callers.", false),
    h("h3", {}, `Would take from live entries (${takes.reduce((n, [, v]) => n + v.length, 0)})`),
    takes.length ? takes.map(([id, items]) => [h("div", { class: "small" }, h("b", { class: "mono" }, id)), list(items, "", false)])
      : h("p", { class: "muted small" }, "None: no live entry loses questions."),
    h("h3", {}, `IVR would ask “did you mean…?” (${preview.confirms.length})`), list(preview.confirms, "None.", true),
    h("h3", {}, `Questions to publish (${questions.length})`), h("ul", { class: "preview-list" }, questions.map((q) => h("li", {}, q))),
    h("label", { class: "confirm-line" }, confirmBox, " I checked the answer and the questions above; publish now."),
    h("div", { class: "dialog-actions" }, h("button", { class: "btn ghost", type: "button", onclick: () => dialog.close() }, "Cancel"), publishBtn));
}

function kbVersionsPanel() {
  const body = h("div", { class: "panel-body", id: "kb-versions" });
  const panel = h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Knowledge-base history")), body);
  async function load() {
    const versions = (await tryApi("/api/faq/kb/versions")) || [];
    if (!versions.length) { body.replaceChildren(h("p", { class: "muted" }, "No changes yet: publishing, unpublishing and rollbacks are kept here.")); return; }
    body.replaceChildren(h("table", { class: "grid compact" }, h("tbody", {}, versions.slice(0, 15).map((v, i) => {
      const diffBox = h("pre", { class: "diff", hidden: true });
      const row = h("tr", { dataset: { id: v.id } },
        h("td", { class: "mono" }, `#${v.id}`),
        h("td", {}, h("b", {}, v.action), v.entry_id ? ` ${v.entry_id}` : ""),
        h("td", { class: "muted nowrap" }, `${v.author} · ${fmtDate(v.at)}`),
        h("td", { class: "nowrap" },
          h("button", { class: "btn ghost small", type: "button", onclick: async () => {
            if (diffBox.hidden) {
              const d = await api(`/api/faq/kb/versions/${v.id}/diff`);
              diffBox.replaceChildren(...(d.diff || "(no change)").split("\n").map((line) =>
                h("div", { class: line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : "" }, line)));
            }
            diffBox.hidden = !diffBox.hidden;
          } }, "Diff"),
          state.me.can_edit && i > 0 ? h("button", { class: "btn ghost small", type: "button", dataset: { action: "rollback" }, onclick: async () => {
            if (!window.confirm(`Put the live IVR knowledge base back as it was at #${v.id} (${v.action}${v.entry_id ? " " + v.entry_id : ""})?`)) return;
            try {
              const out = await api(`/api/faq/kb/versions/${v.id}/rollback`, { method: "POST" });
              toast(`Rolled back to #${v.id}${out.withdrawn.length ? `; unpublished ${out.withdrawn.join(", ")}` : ""}`, "ok");
              render();
            } catch (err) { toast(err.message, "error"); }
          } }, "Roll back") : null));
      return [row, h("tr", { class: "diff-row" }, h("td", { colspan: 4 }, diffBox))];
    }))));
  }
  load();
  return panel;
}

function ivrPanel(ivr) {
  const panel = h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "IVR: transfers & unanswered questions")));
  const body = h("div", { class: "panel-body" });
  panel.append(body);
  if (!ivr || !ivr.calls) { body.append(h("div", { class: "empty" }, h("strong", {}, "No IVR calls in this period"), "Point your Twilio number at /ivr/voice to start.")); return panel; }
  const reasons = Object.entries(ivr.transfer_causes || ivr.transfer_reasons || {}).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...reasons.map(([, n]) => n));
  const split = ivr.since_publish;
  append(body, h("h3", {}, "Outcome of each IVR call"), outcomeBar(ivr));
  if (split) {
    const span = (side) => side.calls ? `${fmtDate(side.from)} – ${fmtDate(side.to)}` : "no calls";
    append(body, h("h3", {}, `Effect of publishing ${split.entry_id}`),
      h("p", { class: "muted small" }, "Only IVR calls that asked what this entry covers, e.g. ", h("i", {}, (split.questions || [])[0] || split.entry_id), "."),
      h("dl", { class: "kv", id: "ivr-split", style: { margin: "10px 0 16px" } },
        h("dt", {}, "Published"), h("dd", {}, fmtDate(split.published_at)),
        h("dt", {}, `Before (${span(split.before)})`), h("dd", {}, `${pct(split.before.containment_rate)} (${split.before.contained} of ${split.before.calls} calls)`),
        h("dt", {}, `After (${span(split.after)})`), h("dd", {}, `${pct(split.after.containment_rate)} (${split.after.contained} of ${split.after.calls} calls)`)));
  }
  append(body, h("h3", {}, "Why calls were transferred"),
    reasons.length ? h("div", { class: "bars", id: "transfer-causes", style: { margin: "10px 0 16px" } }, reasons.map(([reason, n]) =>
      h("div", { class: "bar-row" }, h("span", {}, CAUSE_LABEL[reason] || reason.replace(/_/g, " ")), h("div", { class: "track" }, h("div", { class: "fill", style: { width: `${(100 * n) / max}%` } })), h("span", { class: "n" }, String(n)))))
      : h("p", { class: "muted" }, "No transfers."),
    h("dl", { class: "kv", style: { marginBottom: "14px" } },
      h("dt", {}, "Connected to an agent"), h("dd", {}, String(ivr.transfers_connected)),
      h("dt", {}, "Abandoned in queue"), h("dd", {}, String(ivr.transfers_abandoned)),
      h("dt", {}, "Early hang-ups"), h("dd", {}, String(ivr.early_abandons)),
      h("dt", {}, "First-contact resolution"), h("dd", { title: "Calls with a recognised question and no call back about it within 7 days" },
        ivr.first_contact_resolution === null ? "—" : `${pct(ivr.first_contact_resolution)} of ${ivr.fcr_calls} recognised`),
      h("dt", {}, "Median time in IVR"), h("dd", {}, ivr.median_time_in_ivr_s ? `${ivr.median_time_in_ivr_s.toFixed(0)} s` : "—")),
    h("h3", {}, "Unanswered questions"),
    (ivr.unanswered || []).length ? h("ul", { class: "unanswered" }, ivr.unanswered.slice(0, 12).map((u) =>
      h("li", {}, h("span", { class: "badge", style: { marginRight: "8px" } }, u.language), u.text))) : h("p", { class: "muted" }, "Every question found an answer."));
  return panel;
}

function selfServicePanel(ss) {
  // deflection per channel side by side, and what no channel could answer (callscope.selfservice)
  const panel = h("div", { class: "panel", id: "selfservice" }, h("div", { class: "panel-head" }, h("h2", {}, "Self-service by channel")));
  const body = h("div", { class: "panel-body" });
  panel.append(body);
  const names = { voice: "Phone (IVR)", sms: "SMS", whatsapp: "WhatsApp", web: "Help center" };
  const channels = ss ? Object.values(ss.channels) : [];
  if (!channels.some((c) => c.contacts)) { body.append(h("div", { class: "empty" }, h("strong", {}, "No self-service contacts in this period"), "Publish /help and point your Twilio messaging webhook at /messaging/incoming.")); return panel; }
  append(body, h("dl", { class: "kv", id: "deflection", style: { marginBottom: "14px" } }, channels.flatMap((c) => [
    h("dt", { title: c.definition }, names[c.channel] || c.channel),
    h("dd", {}, c.contacts ? `${pct(c.rate)} (${c.deflected} of ${c.contacts})` : "—")])),
    h("h3", {}, "Unanswered on any channel"),
    ss.unanswered_questions.length ? h("ul", { class: "unanswered" }, ss.unanswered_questions.slice(0, 12).map((u) =>
      h("li", {}, h("span", { class: "badge", style: { marginRight: "8px" } }, names[u.channel] || u.channel), u.text))) : h("p", { class: "muted" }, "Every question found an answer."));
  if (!ss.unanswered_questions.length) return panel;
  const gaps = h("div", { id: "selfservice-gaps" });
  const find = h("button", { class: "btn small", type: "button", onclick: async () => {
    find.disabled = true; gaps.replaceChildren(h("p", { class: "muted" }, "Mining the unanswered questions of every channel…"));
    try {
      const data = await api(`/api/insights/selfservice/gaps?days=${new URLSearchParams(location.search).get("days") || 30}`, { method: "POST" });
      gaps.replaceChildren(data.uncovered.length ? h("ul", { class: "unanswered" }, data.uncovered.map((g) => h("li", {},
        h("b", {}, g.label), ` — ${g.count} questions (${Object.entries(g.channels).map(([c, n]) => `${names[c] || c} ${n}`).join(", ")})`)))
        : h("p", { class: "muted" }, "No frequent question is missing from the knowledge base."));
    } catch (err) { gaps.replaceChildren(); toast(err.message, "error"); } finally { find.disabled = false; }
  } }, "Find knowledge-base gaps across channels");
  append(body, find, gaps);
  return panel;
}

// -------------------------------------------------------------------- admin

async function viewAdmin(main) {
  if (!state.me.is_admin) { main.replaceChildren(h("div", { class: "empty" }, h("strong", {}, "Admins only"))); return; }
  const [users, keys] = await Promise.all([api("/api/users"), api("/api/auth/keys")]);
  const userRows = h("tbody", {}, users.map((u) => h("tr", {},
    h("td", {}, h("b", {}, u.username)), h("td", {}, h("span", { class: "badge" }, u.role)), h("td", { class: "muted" }, fmtDate(u.created_at)),
    h("td", {}, u.username === state.me.username ? "" : h("button", { class: "btn danger small", type: "button", onclick: async () => {
      if (!confirm(`Delete user ${u.username}?`)) return;
      try { await api(`/api/users/${encodeURIComponent(u.username)}`, { method: "DELETE" }); render(); } catch (err) { toast(err.message, "error"); }
    } }, "Delete")))));
  const name = h("input", { type: "text", placeholder: "name", required: true });
  const pass = h("input", { type: "password", placeholder: "password (10+ chars)", required: true, minlength: 10 });
  const role = h("select", {}, ["reviewer", "read-only", "admin"].map((r) => h("option", { value: r }, r)));
  const addUser = h("form", { class: "inline-form", onsubmit: async (e) => {
    e.preventDefault();
    try { await api("/api/users", { method: "POST", body: { username: name.value.trim(), password: pass.value, role: role.value } }); toast("User added", "ok"); render(); }
    catch (err) { toast(err.message, "error"); }
  } }, h("label", { class: "field" }, "User", name), h("label", { class: "field" }, "Password", pass), h("label", { class: "field" }, "Role", role), h("button", { class: "btn", type: "submit" }, "Add user"));
  const secret = h("div", { class: "secret", hidden: true });
  const keyName = h("input", { type: "text", placeholder: "label, e.g. reporting", value: "" });
  const keyRows = h("tbody", {}, keys.map((k) => h("tr", {},
    h("td", {}, h("span", { class: "mono" }, `cs_${k.id}_…`)), h("td", {}, k.name), h("td", {}, k.username), h("td", { class: "muted" }, k.last_used_at ? fmtDate(k.last_used_at) : "never"),
    h("td", {}, h("button", { class: "btn danger small", type: "button", onclick: async () => {
      try { await api(`/api/auth/keys/${k.id}`, { method: "DELETE" }); render(); } catch (err) { toast(err.message, "error"); }
    } }, "Revoke")))));
  const addKey = h("form", { class: "inline-form", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const made = await api("/api/auth/keys", { method: "POST", body: { name: keyName.value.trim() || "default" } });
      secret.textContent = `New key (copy it now, it is not shown again): ${made.key}`;
      secret.hidden = false;
    } catch (err) { toast(err.message, "error"); }
  } }, h("label", { class: "field" }, "Label", keyName), h("button", { class: "btn", type: "submit" }, "Create API key"));
  main.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Admin"), h("div", { class: "sub" }, "Users, roles and API keys."))),
    h("div", { class: "admin-grid" },
      h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Users")),
        h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["User", "Role", "Created", ""].map((t) => h("th", {}, t)))), userRows), addUser),
      h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "API keys")),
        h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["Key", "Label", "User", "Last used", ""].map((t) => h("th", {}, t)))), keyRows), secret, addKey)));
}

render();
