/*
 * The demo shop page's sign-in (development only; served at /demo.js).
 * A file, not an inline script, so the page runs under the bot's Content-Security-Policy
 * (`script-src 'self'`). Loaded with `defer` before the widget's tag, so a sign-in kept
 * across a reload reaches the widget as its data-customer-token attribute.
 */
// Demo only: a real shop's backend signs the token when the shopper signs in and puts it
// on the script tag (data-customer-token) or passes it to window.shopintent.identify().
(function () {
  "use strict";
  var KEY = "shopintent.demo.signin";
  var form = document.getElementById("demo-signin");
  var input = document.getElementById("demo-customer");
  var signOut = document.getElementById("demo-signout");
  var status = document.getElementById("demo-status");
  var saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { saved = null; }
  // The widget's tag is deferred, so a sign-in kept across a reload reaches it as the attribute.
  if (saved && saved.token) {
    document.getElementById("shopintent-widget").setAttribute("data-customer-token", saved.token);
  }

  function show(customerId) {
    status.textContent = customerId ? "Signed in as demo customer " + customerId + "." : "Browsing as a guest.";
    signOut.hidden = !customerId;
  }
  show(saved && saved.customer_id);

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    fetch("/demo/customer-token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ customer_id: input.value.trim() })
    })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (body) {
          if (r.ok && body && body.token) return body;
          if (body && body.message) throw new Error(body.message);
          if (r.status === 404) throw new Error("demo sign-in is off; set SHOPINTENT_IDENTITY_SECRET on the bot");
          throw new Error("HTTP " + r.status);
        });
      })
      .then(function (body) {
        var who = String(body.customer_id || input.value.trim());
        try { sessionStorage.setItem(KEY, JSON.stringify({ token: body.token, customer_id: who })); } catch (e) { /* not kept */ }
        window.shopintent.identify(body.token);
        show(who);
      })
      .catch(function (err) { status.textContent = "Could not sign in: " + err.message + "."; });
  });

  signOut.addEventListener("click", function () {
    try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
    window.shopintent.identify(null);
    show(null);
    input.focus();
  });

  // Browsing sends real behaviour events, which personalise the recommendations.
  document.querySelectorAll(".product[data-product-id]").forEach(function (card) {
    var id = Number(card.getAttribute("data-product-id"));
    var title = card.querySelector("h3").textContent;
    card.querySelector(".view").addEventListener("click", function () {
      window.shopintent.track({ type: "product_view", product_id: id });
      card.classList.add("viewed");
    });
    card.querySelector(".cart").addEventListener("click", function () {
      window.shopintent.track({ type: "add_to_cart", product_id: id });
    });
    card.querySelector(".similar").addEventListener("click", function () {
      window.shopintent.track({ type: "product_view", product_id: id });
      window.shopintent.open();
      window.shopintent.send("What else would go with the " + title + "?");
    });
  });
})();
