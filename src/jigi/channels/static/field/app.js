/* Jigi field collection, the page's app (no framework: small for slow links).
 *
 * Stored in this browser (localStorage, per user): the collection sheet downloaded last, the
 * records waiting to be sent ("queue", each with the UUID made here), and the server's last
 * answers. A record leaves the queue only when the server answered for it (applied,
 * duplicate, conflict or rejected: the server keeps each of them); a failed or cut-off send
 * leaves the queue as it was, and sending again is safe (the UUID makes a resend a no-op). */
(function () {
  "use strict";
  const root = document.getElementById("field-app");
  if (!root) return;
  const T = JSON.parse(document.getElementById("field-strings").textContent);
  const API = root.dataset.api;
  const PREFIX = "jigi.field." + root.dataset.user + ".";
  const MAX_AMOUNT = 5000000;
  const $ = (id) => document.getElementById(id);

  function load(name, fallback) {
    try {
      const text = localStorage.getItem(PREFIX + name);
      return text ? JSON.parse(text) : fallback;
    } catch (e) {
      return fallback;
    }
  }
  function store(name, value) { localStorage.setItem(PREFIX + name, JSON.stringify(value)); }

  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }
  function deviceId() {
    let id = load("device", null);
    if (!id) { id = newUuid(); store("device", id); }
    return id;
  }
  function csrfToken() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }
  function francs(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " ") + " F";
  }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- installable page and offline copy --------------------------------------------------
  const link = el("link", {rel: "manifest", href: root.dataset.manifest});
  document.head.appendChild(link);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.sw, {scope: "/field/"}).then(() =>
      navigator.serviceWorker.ready).then((reg) => {
      const urls = ["/field/"];
      document.querySelectorAll("script[src], link[rel=stylesheet]").forEach((n) => {
        urls.push(n.src || n.href);
      });
      navigator.serviceWorker.addEventListener("message", (event) => {
        if (event.data && event.data.type === "remembered") {
          $("sw-state").textContent = "💾 " + T.ready_offline;
          root.dataset.offlineReady = "1";
        }
      });
      reg.active.postMessage({type: "remember", urls: urls});
    }).catch(() => { $("sw-state").textContent = T.no_offline; });
  }

  function showNetwork() {
    const on = navigator.onLine;
    $("net").textContent = on ? "🟢 " + T.online : "🔴 " + T.offline;
    $("net").className = "net " + (on ? "on" : "off");
  }
  window.addEventListener("online", showNetwork);
  window.addEventListener("offline", showNetwork);

  // --- the collection sheet ---------------------------------------------------------------
  function checkAmount(raw) {
    const text = String(raw || "").replace(/[\s\u00a0\u202f]/g, "");
    if (text === "") return {value: 0};
    if (!/^\d+$/.test(text)) return {error: T.whole_francs};
    const n = Number(text);
    if (n <= 0) return {error: T.more_than_zero};
    if (n > MAX_AMOUNT) return {error: T.too_large};
    return {value: n};
  }

  function renderSheet() {
    const sheet = load("sheet", null);
    const box = $("groups");
    box.textContent = "";
    if (!sheet) { $("sheet-info").textContent = T.no_sheet; return; }
    $("sheet-info").textContent = T.sheet_of + " " + sheet.on + " · " + T.version + " " +
      sheet.version.slice(0, 8);
    if (!sheet.groups.length) box.appendChild(el("p", {class: "muted"}, T.no_group));
    sheet.groups.forEach((group) => {
      const card = el("div", {class: "card", id: "group-" + group.id});
      card.appendChild(el("h2", {}, "👥 " + group.name));
      card.appendChild(el("p", {class: "muted"}, "📍 " + (group.meeting_place || group.caisse) +
        " · 📅 " + group.next_meeting));
      group.members.forEach((m) => card.appendChild(memberRow(m, sheet.on)));
      box.appendChild(card);
    });
  }

  function memberRow(m, on) {
    const row = el("div", {class: "member", id: "m-" + m.person_id});
    row.appendChild(el("b", {}, "👤 " + m.name));
    if (m.loan_id) {
      row.appendChild(el("span", {}, " · 💳 " + T.due + " " + francs(m.due) +
        (m.overdue ? " (⚠️ " + francs(m.overdue) + ")" : "")));
    }
    const form = el("div", {});
    let repay = null;
    let save = null;
    if (m.loan_id) {
      repay = el("input", {id: "repay-" + m.person_id, inputmode: "numeric",
                           "aria-label": T.repayment, placeholder: "💳 " + T.repayment});
      form.appendChild(repay);
    }
    if (m.can_save) {
      save = el("input", {id: "save-" + m.person_id, inputmode: "numeric",
                          "aria-label": T.deposit, placeholder: "🐖 " + T.deposit});
      form.appendChild(save);
    }
    const button = el("button", {type: "button", id: "rec-" + m.person_id}, "✍️ " + T.record);
    const error = el("span", {class: "err", id: "err-" + m.person_id, role: "alert"});
    form.appendChild(button);
    form.appendChild(error);
    row.appendChild(form);
    button.addEventListener("click", () => {
      const r = checkAmount(repay ? repay.value : "");
      const s = checkAmount(save ? save.value : "");
      const problem = r.error || s.error || (!r.value && !s.value ? T.enter_amount : "");
      error.textContent = problem;
      if (problem) return;
      const queue = load("queue", []);
      // The sheet's day is the day collected (the server refuses a future or stale date).
      if (r.value) queue.push({uuid: newUuid(), kind: "repayment", person_id: m.person_id,
                               amount: r.value, collected_on: on, name: m.name});
      if (s.value) queue.push({uuid: newUuid(), kind: "deposit", person_id: m.person_id,
                               amount: s.value, collected_on: on, name: m.name});
      store("queue", queue);
      if (repay) repay.value = "";
      if (save) save.value = "";
      renderQueue();
    });
    return row;
  }

  function download() {
    const day = $("sheet-day").value;
    const old = load("sheet", null);
    const headers = {Accept: "application/json"};
    if (old && old.on === day) headers["If-None-Match"] = '"' + old.version + '"';
    $("sheet-error").textContent = "";
    fetch(API + "sheet?on=" + encodeURIComponent(day), {credentials: "same-origin", headers})
      .then((res) => {
        if (res.status === 304) { $("sheet-info").textContent += " · ✅ " + T.up_to_date; return; }
        if (!res.ok) throw new Error(String(res.status));
        return res.json().then((sheet) => { store("sheet", sheet); renderSheet(); });
      })
      .catch(() => { $("sheet-error").textContent = T.download_failed; });
  }

  // --- records to send and the server's answers -------------------------------------------
  function kindLabel(kind) { return kind === "repayment" ? "💳 " + T.repayment : "🐖 " + T.deposit; }

  function renderQueue() {
    const queue = load("queue", []);
    $("pending-count").textContent = String(queue.length);
    const list = $("pending");
    list.textContent = "";
    queue.forEach((r) => list.appendChild(el("li", {id: "q-" + r.uuid, class: "pending"},
      "⏳ " + r.name + " · " + kindLabel(r.kind) + " · " + francs(r.amount))));
  }

  const STATUS = {applied: "✅", rejected: "❌", conflict: "⚠️"};

  function renderResults() {
    const list = $("results");
    list.textContent = "";
    load("results", []).forEach((r) => {
      const label = (STATUS[r.status] || "•") + " " + (T["status_" + r.status] || r.status) +
        (r.duplicate ? " (" + T.already_received + ")" : "");
      const text = label + " · " + r.name + " · " + kindLabel(r.kind) + " · " +
        francs(r.amount) + (r.message ? " · " + r.message : "") +
        (r.receipt ? " · 🧾 " + r.receipt : "");
      list.appendChild(el("li", {id: "r-" + r.uuid, class: "st-" + r.status}, text));
    });
  }

  function sync() {
    const queue = load("queue", []);
    $("sync-error").textContent = "";
    if (!queue.length) { $("sync-error").textContent = T.nothing_to_send; return; }
    const items = queue.map((r) => ({uuid: r.uuid, kind: r.kind, person_id: r.person_id,
                                     amount: r.amount, collected_on: r.collected_on}));
    $("sync").disabled = true;
    fetch(API + "sync", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify({device_id: deviceId(), items: items}),
    }).then((res) => {
      if (!res.ok) throw new Error(T.server_refused + " (" + res.status + ")");
      return res.json();
    }).then((body) => {
      const byUuid = {};
      (body.results || []).forEach((r) => { if (r.ack && r.uuid) byUuid[r.uuid] = r; });
      const answers = load("results", []);
      // Read the queue again: records made while sending stay.
      const keep = load("queue", []).filter((rec) => {
        const answer = byUuid[rec.uuid];
        if (!answer) return true;
        answers.unshift({uuid: rec.uuid, name: rec.name, kind: rec.kind, amount: rec.amount,
                         status: answer.status, duplicate: answer.duplicate,
                         message: answer.message || "", receipt: answer.receipt || ""});
        return false;
      });
      store("queue", keep);
      store("results", answers.slice(0, 200));
      renderQueue();
      renderResults();
    }).catch((e) => {
      $("sync-error").textContent = T.not_sent + (e && e.message ? " " + e.message : "");
    }).finally(() => { $("sync").disabled = false; });
  }

  $("download").addEventListener("click", download);
  $("sync").addEventListener("click", sync);
  showNetwork();
  renderSheet();
  renderQueue();
  renderResults();
  root.dataset.started = "1";
})();
