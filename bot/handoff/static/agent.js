/*
 * shopintent agent console (/agent): the queue of handed-over conversations, one
 * conversation's redacted transcript with the model's intents, a reply box, claim /
 * release / close, canned replies, and everything live over Server-Sent Events
 * (GET /api/agent/stream). No inline script: the page runs under the bot's CSP.
 * The session's CSRF token comes from the page (data-csrf) and goes with every POST.
 */
(function () {
  "use strict";
  var root = document.getElementById("agent-app");
  if (!root) return;
  var csrf = root.getAttribute("data-csrf") || "";
  var NAME_KEY = "shopintent.agent.name";
  var $ = function (id) { return document.getElementById(id); };
  var els = {
    status: $("live-status"), count: $("queue-count"), name: $("agent-name"),
    waiting: $("queue-waiting"), claimed: $("queue-claimed"),
    title: $("chat-title"), meta: $("chat-meta"), transcript: $("transcript"), error: $("chat-error"),
    claim: $("claim"), release: $("release"), close: $("close"),
    form: $("reply"), text: $("reply-text"), send: $("send"),
    cannedFilter: $("canned-filter"), cannedList: $("canned-list")
  };
  var state = { items: [], current: null, last: 0, seen: {}, source: null, typingAt: 0, canned: [] };

  try { els.name.value = localStorage.getItem(NAME_KEY) || ""; } catch (e) { /* private mode */ }
  els.name.addEventListener("change", function () {
    try { localStorage.setItem(NAME_KEY, els.name.value.trim()); } catch (e) { /* ignore */ }
  });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function api(method, path, body) {
    var headers = { "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return null; }).then(function (data) {
        if (r.ok) return data;
        var err = new Error((data && data.message) || "HTTP " + r.status);
        err.status = r.status;
        throw err;
      });
    });
  }

  function showError(err) {
    els.error.hidden = !err;
    els.error.textContent = err ? (err.message || String(err)) : "";
  }

  function ago(iso) {
    var s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return Math.round(s) + " s";
    if (s < 3600) return Math.round(s / 60) + " min";
    return Math.round(s / 3600) + " h";
  }

  // -- the queue -----------------------------------------------------------------
  function queueItem(item) {
    var li = el("li");
    var btn = el("button");
    btn.type = "button";
    btn.setAttribute("data-handoff", String(item.id));
    if (state.current && state.current.id === item.id) btn.setAttribute("aria-current", "true");
    btn.appendChild(el("span", "reason", item.reason_label));
    var bits = [];
    if (item.ticket) bits.push(item.ticket);
    if (item.state === "waiting") bits.push("#" + item.position + " · waiting " + ago(item.created_at));
    else bits.push(item.agent + " · since " + ago(item.claimed_at || item.created_at));
    if (item.email === "given") bits.push("left an e-mail");
    btn.appendChild(el("span", "when", bits.join(" · ")));
    btn.addEventListener("click", function () { select(item.id); });
    li.appendChild(btn);
    return li;
  }
  function renderQueue() {
    var waiting = state.items.filter(function (i) { return i.state === "waiting"; });
    var claimed = state.items.filter(function (i) { return i.state === "with_agent"; });
    els.count.textContent = waiting.length + " waiting";
    [[els.waiting, waiting, "Nobody is waiting."], [els.claimed, claimed, "None."]].forEach(function (g) {
      g[0].textContent = "";
      if (!g[1].length) g[0].appendChild(el("li", "empty", g[2]));
      g[1].forEach(function (item) { g[0].appendChild(queueItem(item)); });
    });
  }
  setInterval(renderQueue, 15000);

  // -- one conversation -------------------------------------------------------------
  function intentLabel(m) {
    if (m.from !== "shopper" || !m.intent) return null;
    var label = m.intent + (m.confidence != null ? " " + Math.round(m.confidence * 100) + "%" : "");
    return el("span", "intent" + (m.intent === "nlu_fallback" || m.intent === "out_of_scope" ? " fallback" : ""), label);
  }
  function line(m, earlier) {
    var li = el("li", m.from + (earlier ? " earlier" : ""));
    var who = m.from === "shopper" ? "Shopper" : m.from === "agent" ? (m.agent || "Agent") : "Bot";
    var head = el("div", "who", who + " · " + new Date(m.at).toLocaleTimeString());
    var intent = intentLabel(m);
    if (intent) head.appendChild(intent);
    li.appendChild(head);
    li.appendChild(el("div", "bubble", m.text));
    if (m.buttons && m.buttons.length) {
      li.appendChild(el("div", "who", "buttons: " + m.buttons.map(function (b) { return b.title; }).join(", ")));
    }
    return li;
  }
  function append(m) {
    if (m.seq != null) {
      if (state.seen[m.seq]) return;
      state.seen[m.seq] = true;
      state.last = Math.max(state.last, m.seq);
    }
    var nearBottom = els.transcript.scrollHeight - els.transcript.scrollTop - els.transcript.clientHeight < 80;
    els.transcript.appendChild(line(m, false));
    if (nearBottom || m.from === "agent") els.transcript.scrollTop = els.transcript.scrollHeight;
  }

  function updateControls() {
    var h = state.current;
    var open = h && (h.state === "waiting" || h.state === "with_agent");
    els.claim.disabled = !(h && h.state === "waiting");
    els.release.disabled = !open;
    els.close.disabled = !open;
    var canWrite = !!(h && h.state === "with_agent");
    els.text.disabled = !canWrite;
    els.send.disabled = !canWrite;
    els.text.placeholder = canWrite ? "Write to the shopper (Enter sends, Shift+Enter: new line)"
      : h && h.state === "waiting" ? "Claim the conversation to reply" : "This conversation is back with the bot";
    if (!h) return;
    els.title.textContent = h.reason_label + (h.ticket ? " · " + h.ticket : "");
    var meta = ["state: " + h.state.replace("_", " ")];
    if (h.agent) meta.push("agent: " + h.agent);
    if (h.intent) meta.push("handed over on: " + h.intent);
    if (h.email === "given" && h.contact_email) meta.push("reply by e-mail: " + h.contact_email);
    else if (h.email !== "none") meta.push("e-mail fallback: " + h.email);
    els.meta.textContent = meta.join(" · ");
  }

  function select(id) {
    showError(null);
    return api("GET", "/api/agent/handoffs/" + id).then(function (detail) {
      state.current = detail.handoff;
      state.last = 0;
      state.seen = {};
      els.transcript.textContent = "";
      detail.history.forEach(function (m) { els.transcript.appendChild(line(m, true)); });
      els.transcript.appendChild(el("li", "divider", "handed over: " + detail.handoff.reason_label));
      detail.messages.forEach(append);
      state.last = Math.max(state.last, detail.last);
      els.transcript.scrollTop = els.transcript.scrollHeight;
      updateControls();
      renderQueue();
      history.replaceState(null, "", "/agent?handoff=" + id);
      connect();
    }, function (err) {
      showError(err);
      if (!state.source) connect();
    });
  }

  // -- live ------------------------------------------------------------------------
  function connect() {
    if (state.source) state.source.close();
    var url = "/api/agent/stream";
    if (state.current) url += "?handoff=" + state.current.id + "&after=" + state.last;
    var source = state.source = new EventSource(url);
    source.onopen = function () {
      els.status.textContent = "live";
      els.status.className = "live-status ok";
    };
    source.onerror = function () {
      els.status.textContent = "reconnecting…";
      els.status.className = "live-status";
    };
    source.addEventListener("queue", function (e) {
      state.items = JSON.parse(e.data).items;
      renderQueue();
    });
    source.addEventListener("handoff", function (e) {
      var h = JSON.parse(e.data);
      if (state.current && h.id === state.current.id) {
        state.current = Object.assign({}, state.current, h);
        updateControls();
      }
    });
    source.addEventListener("message", function (e) { append(JSON.parse(e.data)); });
  }

  // -- acting ----------------------------------------------------------------------
  function act(what, body) {
    if (!state.current) return Promise.resolve();
    showError(null);
    return api("POST", "/api/agent/handoffs/" + state.current.id + "/" + what, body).then(function (h) {
      if (h && h.id) {
        state.current = Object.assign({}, state.current, h);
        updateControls();
      }
      return h;
    }, showError);
  }
  els.claim.addEventListener("click", function () {
    act("claim", { agent: els.name.value.trim() || "Support" }).then(function () { els.text.focus(); });
  });
  els.release.addEventListener("click", function () { act("release"); });
  els.close.addEventListener("click", function () { act("close"); });

  function sendReply() {
    var text = els.text.value.trim();
    if (!text || !state.current) return;
    els.send.disabled = true;
    api("POST", "/api/agent/handoffs/" + state.current.id + "/messages", { text: text }).then(function (out) {
      els.text.value = "";
      append(out.message);
      if (out.redacted) showError(new Error("Personal data in your reply was replaced before it was sent."));
    }, showError).then(function () { updateControls(); els.text.focus(); });
  }
  els.form.addEventListener("submit", function (e) { e.preventDefault(); sendReply(); });
  els.text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendReply(); }
  });
  els.text.addEventListener("input", function () {
    if (!state.current || state.current.state !== "with_agent") return;
    var now = Date.now();
    if (now - state.typingAt < 3000) return;
    state.typingAt = now;
    api("POST", "/api/agent/handoffs/" + state.current.id + "/typing").then(null, function () { /* best effort */ });
  });

  // -- canned replies --------------------------------------------------------------
  function renderCanned() {
    var q = els.cannedFilter.value.trim().toLowerCase();
    els.cannedList.textContent = "";
    state.canned.filter(function (c) {
      return !q || c.text.toLowerCase().indexOf(q) >= 0 || c.name.indexOf(q) >= 0;
    }).forEach(function (c) {
      var li = el("li");
      var btn = el("button");
      btn.type = "button";
      btn.appendChild(el("code", null, c.name + " "));
      btn.appendChild(document.createTextNode(c.text));
      btn.addEventListener("click", function () {
        if (els.text.disabled) { showError(new Error("Claim the conversation first.")); return; }
        els.text.value = c.text;
        els.text.focus();
      });
      li.appendChild(btn);
      els.cannedList.appendChild(li);
    });
  }
  els.cannedFilter.addEventListener("input", renderCanned);
  api("GET", "/api/agent/canned").then(function (list) { state.canned = list; renderCanned(); }, function () {});

  var wanted = Number(new URLSearchParams(location.search).get("handoff"));
  if (wanted > 0) select(wanted);
  else connect();
  window.shopintentAgent = { select: select, state: state };
})();
