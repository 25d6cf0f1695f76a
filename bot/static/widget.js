/*
 * shopintent support widget: one dependency-free script a shop embeds with
 *   <script src="https://bot.example/widget.js" data-token="..." defer></script>
 * Options (data-* attributes on the script tag):
 *   data-token           shared webhook token (SHOPINTENT_WEBHOOK_TOKEN), if the bot requires one
 *   data-customer-token  the signed-in shopper's sign-in token (a JWT the shop's backend signs
 *                        with SHOPINTENT_IDENTITY_SECRET); leave it out for guests
 *   data-url             webhook URL (default: this script's origin + /webhooks/rest/webhook)
 *   data-session-url     where conversation ids come from (default: data-url's folder + /session)
 *   data-title           panel title (default "Shop assistant")
 *   data-open            "true" to open the panel on page load
 *   data-consent         "false": the shopper said no to tracking; track() sends nothing and
 *                        the bot deletes what it kept of them (default "true")
 *   data-events-url      where track() sends events (default: the bot's origin + /events)
 * Page API: window.shopintent.identify(token) signs a shopper in later (token refreshes keep
 * the conversation); identify(null) signs out. A conversation never mixes two identities, so
 * a different shopper, or signing out, starts a new one. Also open(), send(text), session(),
 * track({type, product_id?, query?}) for product_view, search, add_to_cart and purchase
 * (batched, sent within a second and when the page is hidden) and consent(true|false).
 * The bot issues the conversation id (POST .../session); it and the last messages are kept
 * in sessionStorage per bot URL, so a reload continues the conversation and closing the tab
 * ends it. A 429 (too many messages) is shown as a note and the typed text stays in the box.
 * Live handoff: when the bot hands the chat to a person (a reply's custom.handoff), the
 * widget opens GET .../stream?sender=ID (Server-Sent Events; Last-Event-ID resumes after a
 * drop) and shows the agent's messages under "Anna from support", with a typing note, until
 * the chat is back with the bot; without EventSource it polls GET .../poll?sender=ID&after=N.
 * Content-Security-Policy: no eval, no inline script or handler; it adds one <style> element
 * and loads product images, so a shop page with a CSP allows the bot's origin in script-src
 * and connect-src, 'unsafe-inline' in style-src and the images' hosts in img-src.
 */
(function () {
  "use strict";
  if (window.__shopintentWidget) return;
  window.__shopintentWidget = true;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var origin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  function attr(name) {
    return (script && script.getAttribute(name)) || "";
  }
  var cfg = {
    token: attr("data-token"),
    url: attr("data-url") || origin + "/webhooks/rest/webhook",
    title: attr("data-title") || "Shop assistant",
    open: attr("data-open") === "true",
    consent: attr("data-consent") !== "false"
  };
  cfg.eventsUrl = attr("data-events-url") || new URL(cfg.url, location.href).origin + "/events";
  cfg.sessionUrl = attr("data-session-url") || sessionUrlFor(cfg.url);
  cfg.streamUrl = siblingUrl(cfg.url, "stream");
  cfg.pollUrl = siblingUrl(cfg.url, "poll");
  var SESSION_KEY = "shopintent.session:" + cfg.url;
  var HISTORY_KEY = "shopintent.history:" + cfg.url;
  var LIVE_KEY = "shopintent.live:" + cfg.url;
  var MAX_HISTORY = 60;
  var INTRO = "Ask about orders, returns, delivery or products.";
  var EXPIRED = "Your sign-in has expired; please refresh the page or sign in again.";
  var TOO_FAST = "You're sending messages very fast; please wait a moment.";

  function sessionUrlFor(url) {
    return siblingUrl(url, "session");
  }
  function siblingUrl(url, name) {
    var u = new URL(url, location.href);
    u.pathname = u.pathname.replace(/\/webhook\/?$/, "") + "/" + name;
    return u.toString();
  }

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }
  function read(key) {
    var s = storage();
    try { return s ? s.getItem(key) : null; } catch (e) { return null; }
  }
  function write(key, value) {
    var s = storage();
    try {
      if (!s) return;
      if (value == null) s.removeItem(key);
      else s.setItem(key, value);
    } catch (e) { /* full or blocked: the conversation still works, it just won't survive a reload */ }
  }

  // Who a token speaks for, to tell a token refresh (same shopper) from a different shopper.
  // Not a check: the bot verifies the token; a token that does not decode is its own identity.
  function identityOf(token) {
    if (!token) return "";
    try {
      var sub = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub;
      return sub == null ? "token:" + token : "sub:" + sub;
    } catch (e) {
      return "token:" + token;
    }
  }

  var customerToken = attr("data-customer-token") || null;
  var conversation = loadConversation(); // {id, who} as issued by the bot, or null
  var pending = null; // the session request in flight
  var generation = 0; // bumped when the conversation is replaced; answers for an older one are dropped
  var view = null; // the mounted panel

  function loadConversation() {
    try {
      var saved = JSON.parse(read(SESSION_KEY) || "null");
      if (saved && typeof saved.id === "string" && saved.who === identityOf(customerToken)) return saved;
    } catch (e) { /* unreadable: start over */ }
    write(SESSION_KEY, null);
    write(HISTORY_KEY, null);
    write(LIVE_KEY, null);
    return null;
  }
  function loadHistory() {
    try { return JSON.parse(read(HISTORY_KEY) || "[]"); } catch (e) { return []; }
  }
  function saveHistory(items) {
    write(HISTORY_KEY, JSON.stringify(items.slice(-MAX_HISTORY)));
  }

  function post(url, body) {
    var headers = { "Content-Type": "application/json" };
    if (cfg.token) headers.Authorization = "Bearer " + cfg.token;
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body) }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) {
        if (r.ok && data != null) return data;
        var err = new Error((data && data.message) || "HTTP " + r.status);
        err.status = r.status;
        err.code = (data && data.error) || (r.status === 429 ? "rate_limited" : "");
        throw err;
      });
    });
  }
  function withIdentity(metadata) {
    if (customerToken) metadata.customer_token = customerToken;
    return metadata;
  }

  function dropSession() {
    conversation = null;
    pending = null;
    write(SESSION_KEY, null);
  }
  function sessionId() {
    if (conversation) return Promise.resolve(conversation.id);
    if (!pending) {
      var gen = generation;
      var who = identityOf(customerToken);
      var request = pending = post(cfg.sessionUrl, customerToken ? { metadata: withIdentity({}) } : {})
        .then(function (data) {
          if (typeof data.sender !== "string" || !data.sender) throw new Error("the bot sent no conversation id");
          if (gen === generation) {
            conversation = { id: data.sender, who: who };
            write(SESSION_KEY, JSON.stringify(conversation));
          }
          return data.sender;
        });
      request.then(null, function () { /* a later message asks again */ }).then(function () {
        if (pending === request) pending = null;
      });
    }
    return pending;
  }

  // Send one message; a conversation id the bot no longer recognises (its secret changed)
  // is replaced once, silently, and the same message sent again.
  function deliver(payload, retry) {
    var gen = generation;
    return sessionId()
      .then(function (sender) {
        if (gen !== generation) throw new Error("the conversation was replaced");
        return post(cfg.url, { sender: sender, message: payload, metadata: withIdentity({ channel: "widget" }) });
      })
      .catch(function (err) {
        if (!retry || err.code !== "invalid_sender" || gen !== generation) throw err;
        dropSession();
        return deliver(payload, false);
      });
  }

  function startOver() {
    generation += 1;
    dropSession();
    write(HISTORY_KEY, null);
    write(LIVE_KEY, null);
    if (view) view.reset();
  }

  function identify(token) {
    if (token != null && typeof token !== "string") {
      throw new TypeError("shopintent.identify expects the sign-in token (a string) or null, found " + typeof token);
    }
    token = token || null;
    var changed = identityOf(token) !== identityOf(customerToken);
    customerToken = token;
    if (changed) startOver();
  }

  var css = [
    ".si-launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;",
    "padding:14px 20px;background:#1f5f8b;color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;",
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".si-launch:focus-visible,.si-panel button:focus-visible,.si-panel input:focus-visible{outline:3px solid #f5a623;outline-offset:2px}",
    ".si-panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:360px;max-width:calc(100vw - 40px);",
    "height:520px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;color:#1b1b1b;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);font:14px/1.4 system-ui,sans-serif;overflow:hidden}",
    ".si-panel[hidden]{display:none}",
    ".si-head{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;background:#1f5f8b;color:#fff}",
    ".si-head h2{margin:0;font-size:16px}",
    ".si-head button{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer;padding:2px 8px}",
    ".si-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}",
    ".si-log>*{flex-shrink:0}",
    ".si-msg{max-width:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word}",
    ".si-bot{align-self:flex-start;background:#fff;border:1px solid #dde1e6}",
    ".si-user{align-self:flex-end;background:#1f5f8b;color:#fff}",
    ".si-note{align-self:center;color:#6b7280;font-size:12px}",
    ".si-agent-wrap{align-self:flex-start;max-width:85%;display:flex;flex-direction:column;gap:2px}",
    ".si-agent-name{font-size:12px;font-weight:600;color:#2e6b3a}",
    ".si-agent{align-self:flex-start;background:#e7f6ea;border:1px solid #b9e0c1;max-width:100%}",
    ".si-typing{align-self:flex-start;color:#6b7280;font-size:12px;font-style:italic}",
    ".si-warn{color:#8a1c1c;background:#fdecea;border:1px solid #f1b8b4;border-radius:8px;padding:6px 10px;font-size:13px;text-align:center}",
    ".si-buttons{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start}",
    ".si-buttons button{border:1px solid #1f5f8b;background:#fff;color:#1f5f8b;border-radius:16px;padding:5px 12px;cursor:pointer;font:inherit}",
    ".si-buttons button:hover{background:#e8f1f8}",
    ".si-cards{display:flex;gap:8px;overflow-x:auto;align-self:stretch;padding:0 0 4px;margin:0;list-style:none}",
    ".si-card{flex:0 0 140px;background:#fff;border:1px solid #dde1e6;border-radius:10px;padding:8px;display:flex;flex-direction:column;gap:4px}",
    ".si-card img{width:100%;height:90px;object-fit:cover;border-radius:6px;background:#eef0f3}",
    ".si-card strong{font-size:13px}",
    ".si-card span{color:#1f5f8b;font-weight:600}",
    ".si-form{display:flex;gap:6px;padding:10px;border-top:1px solid #dde1e6;background:#fff}",
    ".si-form input{flex:1;border:1px solid #b8c0ca;border-radius:18px;padding:8px 12px;font:inherit}",
    ".si-form button{border:0;border-radius:18px;padding:8px 14px;background:#1f5f8b;color:#fff;font:600 14px system-ui,sans-serif;cursor:pointer}",
    ".si-form button:disabled{opacity:.6;cursor:wait}",
    ".si-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
  ].join("");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }

  function mount() {
    var style = el("style");
    style.textContent = css;
    document.head.appendChild(style);

    var launch = el("button", {
      type: "button", "class": "si-launch", "aria-controls": "si-panel", "aria-expanded": "false"
    }, "Chat with us");
    var panel = el("section", {
      id: "si-panel", "class": "si-panel", role: "dialog", "aria-label": cfg.title, hidden: ""
    });
    var head = el("div", { "class": "si-head" });
    head.appendChild(el("h2", {}, cfg.title));
    var close = el("button", { type: "button", "aria-label": "Close chat" }, "×");
    head.appendChild(close);
    var log = el("div", {
      "class": "si-log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0"
    });
    var form = el("form", { "class": "si-form" });
    var label = el("label", { "for": "si-input", "class": "si-sr" }, "Your message");
    var input = el("input", {
      id: "si-input", type: "text", autocomplete: "off", maxlength: "1000", placeholder: "Type your question…"
    });
    var send = el("button", { type: "submit" }, "Send");
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    panel.appendChild(head);
    panel.appendChild(log);
    panel.appendChild(form);
    document.body.appendChild(panel);
    document.body.appendChild(launch);

    var history = loadHistory();
    var busy = false;

    function scroll() { log.scrollTop = log.scrollHeight; }

    function renderUser(text) {
      return log.appendChild(el("div", { "class": "si-msg si-user" }, text));
    }
    function renderNote(text) {
      log.appendChild(el("div", { "class": "si-note", role: "status" }, text));
    }
    function renderWarning(text) {
      log.appendChild(el("div", { "class": "si-note si-warn", role: "alert" }, text));
    }
    function renderBot(m, live) {
      if (m.text) log.appendChild(el("div", { "class": "si-msg si-bot" }, m.text));
      if (m.image) {
        log.appendChild(el("img", { "class": "si-msg si-bot", src: m.image, alt: m.text || "image from the shop" }));
      }
      var products = m.custom && Array.isArray(m.custom.products) ? m.custom.products : [];
      if (products.length) {
        var cards = el("ul", { "class": "si-cards", "aria-label": "Products" });
        products.slice(0, 10).forEach(function (p) {
          var card = el("li", { "class": "si-card" });
          var img = p.thumbnail || p.image || (p.images && p.images[0]);
          if (img) {
            var pic = el("img", { src: img, alt: p.title || "product", loading: "lazy" });
            pic.onerror = function () { pic.remove(); };
            card.appendChild(pic);
          }
          card.appendChild(el("strong", {}, p.title || p.name || "Product"));
          if (p.price != null) card.appendChild(el("span", {}, "$" + Number(p.price).toFixed(2)));
          if (p.rating != null) card.appendChild(el("small", {}, "★ " + p.rating));
          cards.appendChild(card);
        });
        log.appendChild(cards);
      }
      if (live && Array.isArray(m.buttons) && m.buttons.length) {
        var group = el("div", { "class": "si-buttons", role: "group", "aria-label": "Suggestions" });
        m.buttons.forEach(function (b) {
          var btn = el("button", { type: "button" }, b.title || b.payload);
          btn.addEventListener("click", function () {
            // The suggestions stay until the bot took the answer (a 429 leaves them to retry).
            submit(b.payload || b.title, b.title || b.payload, false, function () { group.remove(); });
          });
          group.appendChild(btn);
        });
        log.appendChild(group);
      }
    }

    function renderAgent(name, text) {
      var wrap = el("div", { "class": "si-agent-wrap" });
      wrap.appendChild(el("div", { "class": "si-agent-name" }, (name || "Someone") + " from support"));
      wrap.appendChild(el("div", { "class": "si-msg si-agent" }, text));
      log.appendChild(wrap);
    }

    function replay() {
      history.forEach(function (item) {
        if (item.who === "user") renderUser(item.text);
        else if (item.who === "agent") renderAgent(item.name, item.text);
        else renderBot(item.message, false);
      });
      scroll();
    }

    // -- live handoff: a person answers in this log ------------------------------------
    var live = loadLive(); // {state: "waiting"|"with_agent"|"bot", last: seq, agent}
    var seen = {}; // seqs already shown (the webhook's answer and the stream can both carry one)
    var stream = null;
    var pollTimer = null;
    var typingNote = null;
    var typingTimer = null;

    function loadLive() {
      try {
        var saved = JSON.parse(read(LIVE_KEY) || "null");
        if (saved && typeof saved.last === "number") return saved;
      } catch (e) { /* start from scratch */ }
      return { state: "bot", last: 0, agent: null };
    }
    function saveLive() { write(LIVE_KEY, JSON.stringify(live)); }
    function withAgent() { return live.state === "waiting" || live.state === "with_agent"; }

    function liveUrl(base, after) {
      var u = new URL(base);
      u.searchParams.set("sender", conversation ? conversation.id : "");
      if (after != null) u.searchParams.set("after", String(after));
      if (cfg.token) u.searchParams.set("token", cfg.token);
      return u.toString();
    }

    function hideTyping() {
      if (typingTimer) clearTimeout(typingTimer);
      typingTimer = null;
      if (typingNote) typingNote.remove();
      typingNote = null;
    }
    function showTyping(name) {
      hideTyping();
      typingNote = log.appendChild(el("div", { "class": "si-typing", role: "status" }, (name || "Support") + " is typing…"));
      typingTimer = setTimeout(hideTyping, 6000);
      scroll();
    }

    // One pushed message (from the stream or the poll route), shown once.
    function pushed(m) {
      if (typeof m.seq !== "number" || seen[m.seq]) return;
      seen[m.seq] = true;
      live.last = Math.max(live.last, m.seq);
      hideTyping();
      if (m.from === "agent") {
        renderAgent(m.agent, m.text);
        history.push({ who: "agent", name: m.agent, text: m.text });
      } else {
        var message = { text: m.text, buttons: m.buttons };
        renderBot(message, true);
        history.push({ who: "bot", message: message });
      }
      saveHistory(history);
      saveLive();
      scroll();
    }

    function setState(next, agent) {
      live.state = next;
      live.agent = agent || null;
      saveLive();
      if (withAgent()) connectLive();
      else disconnectLive();
    }

    function disconnectLive() {
      if (stream) stream.close();
      stream = null;
      if (pollTimer) clearTimeout(pollTimer);
      pollTimer = null;
      hideTyping();
    }

    function connectLive() {
      if (stream || pollTimer || !conversation) return;
      if (!window.EventSource) { poll(); return; }
      var gen = generation;
      // Reconnects (a dropped connection, the server's periodic end) send Last-Event-ID.
      stream = new EventSource(liveUrl(cfg.streamUrl, live.last));
      stream.addEventListener("message", function (e) {
        if (gen === generation) pushed(JSON.parse(e.data));
      });
      stream.addEventListener("state", function (e) {
        if (gen !== generation) return;
        var data = JSON.parse(e.data);
        setState(data.state, data.agent);
      });
      stream.addEventListener("typing", function (e) {
        if (gen === generation) showTyping(JSON.parse(e.data).agent);
      });
      stream.onerror = function () {
        // EventSource retries by itself; one it gave up on (e.g. a 401) falls back to polling.
        if (stream && stream.readyState === 2) {
          stream = null;
          if (gen === generation && withAgent()) poll();
        }
      };
    }

    function poll() {
      pollTimer = null;
      if (!conversation || !withAgent()) return;
      var gen = generation;
      var headers = cfg.token ? { Authorization: "Bearer " + cfg.token } : {};
      fetch(liveUrl(cfg.pollUrl, live.last), { headers: headers })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (gen !== generation || !data) return;
          data.messages.forEach(pushed);
          live.last = Math.max(live.last, data.last || 0);
          live.state = data.state;
          saveLive();
        }, function () { /* offline: try again */ })
        .then(function () {
          if (gen === generation && withAgent()) pollTimer = setTimeout(poll, 2000);
          else if (!withAgent()) disconnectLive();
        });
    }

    // A reply of the webhook that belongs to a handoff (custom.handoff: id, state, seq).
    function handoffOf(m) {
      return m && m.custom && m.custom.handoff && typeof m.custom.handoff.seq === "number" ? m.custom.handoff : null;
    }

    function idle() {
      busy = false;
      send.disabled = false;
    }

    // Returns whether the message was sent; `typed` messages go back into the input box
    // when the bot did not take them (an expired sign-in, or too many messages too fast),
    // so nothing typed is lost. `taken` runs once the bot answered.
    function submit(payload, shown, typed, taken) {
      if (busy || !payload || !payload.trim()) return false;
      busy = true;
      send.disabled = true;
      var gen = generation;
      var entry = { who: "user", text: shown || payload };
      var bubble = renderUser(entry.text);
      history.push(entry);
      var typing = el("div", { "class": "si-note", "aria-hidden": "true" }, "…");
      log.appendChild(typing);
      scroll();
      deliver(payload, true)
        .then(function (messages) {
          if (gen !== generation) return;
          typing.remove();
          if (payload.trim() === "/restart") {
            history = [];
            log.textContent = "";
          }
          if (taken) taken();
          var handoff = null;
          messages.forEach(function (m) {
            var h = handoffOf(m);
            if (h) {
              handoff = h;
              if (seen[h.seq]) return; // the stream showed it already
              seen[h.seq] = true;
              live.last = Math.max(live.last, h.seq);
            }
            renderBot(m, true);
            history.push({ who: "bot", message: m });
          });
          if (handoff) setState(handoff.state, live.agent);
          else if (payload.trim() === "/restart" && withAgent()) setState("bot", null);
        })
        .catch(function (err) {
          if (gen !== generation) return;
          typing.remove();
          if (err.code === "invalid_customer_token" || err.code === "rate_limited") {
            // Not taken: not shown as sent, and the typed text goes back into the box.
            bubble.remove();
            var at = history.indexOf(entry);
            if (at >= 0) history.splice(at, 1);
            if (typed && !input.value) input.value = payload;
            renderWarning(err.code === "rate_limited" ? TOO_FAST : EXPIRED);
          } else {
            renderNote("Sorry, the chat is not available right now (" + err.message + ").");
          }
        })
        .then(function () {
          if (gen !== generation) return;
          idle();
          saveHistory(history);
          scroll();
          input.focus();
        });
      return true;
    }

    function setOpen(open) {
      panel.hidden = !open;
      launch.setAttribute("aria-expanded", String(open));
      launch.textContent = open ? "Close chat" : "Chat with us";
      if (open) {
        input.focus();
        scroll();
      } else {
        launch.focus();
      }
    }

    launch.addEventListener("click", function () { setOpen(panel.hidden); });
    close.addEventListener("click", function () { setOpen(false); });
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") setOpen(false);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (submit(input.value, null, true)) input.value = "";
    });

    view = {
      open: function () { setOpen(true); },
      submit: function (text) { return submit(text, null, false); },
      reset: function () {
        disconnectLive();
        live = { state: "bot", last: 0, agent: null };
        seen = {};
        history = [];
        log.textContent = "";
        idle();
        renderNote(INTRO);
      },
      live: function () { return { state: live.state, last: live.last, agent: live.agent, streaming: !!stream }; }
    };
    replay();
    if (!history.length) renderNote(INTRO);
    if (cfg.open) setOpen(true);
    if (withAgent()) connectLive(); // a reload while a person has the chat
  }

  // Behaviour events: batched, sent with the conversation's identity, never without consent.
  var EVENT_TYPES = { product_view: 1, search: 1, add_to_cart: 1, purchase: 1 };
  var queue = [];
  var flushTimer = null;
  function flush() {
    flushTimer = null;
    if (!queue.length || !cfg.consent) { queue = []; return Promise.resolve(null); }
    var batch = queue.splice(0, 50);
    return sessionId().then(function (sender) {
      return post(cfg.eventsUrl, { sender: sender, events: batch, metadata: withIdentity({}) });
    }).then(function () {
      if (queue.length) return flush();
      return null;
    }, function () { return null; /* best effort: a lost view is not a lost message */ });
  }
  function track(event) {
    if (!cfg.consent) return false;
    if (!event || !EVENT_TYPES[event.type]) {
      throw new TypeError("shopintent.track expects {type: product_view|search|add_to_cart|purchase, product_id?, query?}");
    }
    var item = { type: event.type };
    if (event.product_id != null) item.product_id = Number(event.product_id);
    if (event.query != null) item.query = String(event.query).slice(0, 200);
    queue.push(item);
    if (!flushTimer) flushTimer = setTimeout(flush, 800);
    return true;
  }
  function consent(allowed) {
    cfg.consent = !!allowed;
    if (!cfg.consent) queue = [];
    return sessionId().then(function (sender) {
      return post(cfg.eventsUrl, { sender: sender, consent: cfg.consent, events: [], metadata: withIdentity({}) });
    }).then(null, function () { return null; });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });

  window.shopintent = {
    track: track,
    consent: consent,
    flush: flush,
    open: function () { if (view) view.open(); },
    send: function (text) { return view ? view.submit(text) : false; },
    session: function () { return conversation ? conversation.id : null; },
    live: function () { return view ? view.live() : null; },
    identify: identify
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
