/*
 * shopintent support widget: one dependency-free script a shop embeds with
 *   <script src="https://bot.example/widget.js" data-token="..." defer></script>
 * Options (data-* attributes on the script tag):
 *   data-token   shared webhook token (SHOPINTENT_WEBHOOK_TOKEN), if the bot requires one
 *   data-url     webhook URL (default: this script's origin + /webhooks/rest/webhook)
 *   data-title   panel title (default "Shop assistant")
 *   data-open    "true" to open the panel on page load
 * The conversation id and the last messages are kept in localStorage, so a reload
 * continues the same conversation.
 */
(function () {
  "use strict";
  if (window.__shopintentWidget) return;
  window.__shopintentWidget = true;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var origin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var cfg = {
    token: (script && script.getAttribute("data-token")) || "",
    url: (script && script.getAttribute("data-url")) || origin + "/webhooks/rest/webhook",
    title: (script && script.getAttribute("data-title")) || "Shop assistant",
    open: script && script.getAttribute("data-open") === "true"
  };
  var SESSION_KEY = "shopintent.session";
  var HISTORY_KEY = "shopintent.history";
  var MAX_HISTORY = 60;

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }
  function sessionId() {
    var s = storage();
    var id = s && s.getItem(SESSION_KEY);
    if (!id) {
      id = newId();
      if (s) s.setItem(SESSION_KEY, id);
    }
    return id;
  }
  function loadHistory() {
    var s = storage();
    try { return JSON.parse((s && s.getItem(HISTORY_KEY)) || "[]"); } catch (e) { return []; }
  }
  function saveHistory(items) {
    var s = storage();
    if (s) s.setItem(HISTORY_KEY, JSON.stringify(items.slice(-MAX_HISTORY)));
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
      log.appendChild(el("div", { "class": "si-msg si-user" }, text));
    }
    function renderNote(text) {
      log.appendChild(el("div", { "class": "si-note", role: "status" }, text));
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
            group.remove();
            submit(b.payload || b.title, b.title || b.payload);
          });
          group.appendChild(btn);
        });
        log.appendChild(group);
      }
    }

    function replay() {
      history.forEach(function (item) {
        if (item.who === "user") renderUser(item.text);
        else renderBot(item.message, false);
      });
      scroll();
    }

    function submit(payload, shown) {
      if (busy || !payload || !payload.trim()) return;
      busy = true;
      send.disabled = true;
      renderUser(shown || payload);
      history.push({ who: "user", text: shown || payload });
      var typing = el("div", { "class": "si-note", "aria-hidden": "true" }, "…");
      log.appendChild(typing);
      scroll();
      var headers = { "Content-Type": "application/json" };
      if (cfg.token) headers.Authorization = "Bearer " + cfg.token;
      fetch(cfg.url, {
        method: "POST",
        headers: headers,
        body: JSON.stringify({ sender: sessionId(), message: payload, metadata: { channel: "widget" } })
      })
        .then(function (r) {
          return r.json().then(function (body) {
            if (!r.ok) throw new Error((body && body.message) || "HTTP " + r.status);
            return body;
          });
        })
        .then(function (messages) {
          typing.remove();
          if (payload.trim() === "/restart") {
            history = [];
            log.textContent = "";
          }
          messages.forEach(function (m) {
            renderBot(m, true);
            history.push({ who: "bot", message: m });
          });
        })
        .catch(function (err) {
          typing.remove();
          renderNote("Sorry, the chat is not available right now (" + err.message + ").");
        })
        .then(function () {
          busy = false;
          send.disabled = false;
          saveHistory(history);
          scroll();
          input.focus();
        });
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
      var text = input.value;
      input.value = "";
      submit(text);
    });

    replay();
    if (!history.length) renderNote("Ask about orders, returns, delivery or products.");
    if (cfg.open) setOpen(true);
    window.shopintent = { open: function () { setOpen(true); }, send: submit, session: sessionId };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
