// The Context Card's one script. It waits for Kustomer's context (Cards SDK), checks the
// agent's session, then fills the sections with server-rendered fragments and keeps them
// fresh: one conditional request every few seconds (304 while nothing changed), paused while
// the card is hidden. Forms and buttons in fragments declare what they swap (data-card-*).
(function () {
  "use strict";

  var card = document.getElementById("card");
  var content = document.getElementById("card-content");
  var signIn = document.getElementById("card-sign-in");
  var signInError = document.getElementById("sign-in-error");
  var status = document.getElementById("card-status");
  var urls = {
    session: card.dataset.sessionUrl,
    signIn: card.dataset.signInUrl,
    signOut: card.dataset.signOutUrl,
    insight: card.dataset.insightUrl,
    orders: card.dataset.ordersUrl
  };
  var pollMs = Number(card.dataset.pollMs) || 3000;
  var FOLDED_KEY = "copilot-card-folded";

  var state = { csrf: "", agent: null, customer: "", conversation: "", etag: "", timer: 0, popup: null };

  // --- Kustomer -----------------------------------------------------------------------------

  function kustomer() { return window.Kustomer; }

  var resizeQueued = false;
  function resize() {
    if (resizeQueued || !kustomer()) return;
    resizeQueued = true;
    window.requestAnimationFrame(function () {
      resizeQueued = false;
      try { kustomer().resize(); } catch (error) { /* outside Kustomer */ }
    });
  }

  function contextIds(context) {
    context = context || {};
    return {
      customer: (context.customer && context.customer.id) || "",
      conversation: (context.conversation && context.conversation.id) || ""
    };
  }

  function contextChanged(context) {
    var ids = contextIds(context);
    var customerChanged = ids.customer !== state.customer;
    var conversationChanged = ids.conversation !== state.conversation;
    state.customer = ids.customer;
    state.conversation = ids.conversation;
    if (!state.agent) return;
    if (conversationChanged || customerChanged) {
      state.etag = "";
      loadInsight();
    }
    if (customerChanged) loadOrders();
  }

  function start() {
    var waited = window.setTimeout(function () {
      if (!state.started) {
        showSignIn("Open this card from a conversation in Kustomer.");
        signIn.querySelector("[data-action=sign-in]").hidden = true;
      }
    }, 5000);
    checkSession();  // needs no context: asked while Kustomer sends it
    if (!kustomer()) return;
    kustomer().initialize(function (context) {
      window.clearTimeout(waited);
      state.started = true;
      var ids = contextIds(context);
      state.customer = ids.customer;
      state.conversation = ids.conversation;
      if (state.agent) { loadInsight(); loadOrders(); }
    });
    kustomer().on("context", contextChanged);
  }

  // --- requests -----------------------------------------------------------------------------

  function request(url, options) {
    options = options || {};
    var headers = Object.assign({ "X-Card-CSRF": state.csrf }, options.headers || {});
    return fetch(url, Object.assign({ credentials: "include" }, options, { headers: headers }))
      .then(function (response) {
        if (response.status === 401) {
          signedOut("Your sign-in ended. Sign in again to go on.");
          throw new Error("signed out");
        }
        return response;
      });
  }

  function withContext(url, extra) {
    var query = new URLSearchParams(Object.assign({
      customer: state.customer, conversation: state.conversation
    }, extra || {}));
    return url + "?" + query.toString();
  }

  function failed(target, sentence) {
    if (!target) return;
    target.innerHTML = "";
    var p = document.createElement("p");
    p.className = "notice notice--error";
    p.setAttribute("role", "alert");
    p.textContent = sentence;
    target.appendChild(p);
    resize();
  }

  var OFFLINE = "The copilot cannot be reached. The card tries again in a moment.";

  // --- swapping fragments -------------------------------------------------------------------

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  // Elements with an id replace the element of that id in the card; anything else goes inside
  // `target`. Unchanged elements are left alone, so focus and open pickers survive a poll.
  function swap(html, target) {
    var fragment = typeof html === "string" ? parse(html) : html;
    var placed = [];
    Array.prototype.slice.call(fragment.children).forEach(function (node) {
      var old = node.id && document.getElementById(node.id);
      if (old) {
        if (old.isEqualNode(node)) node.remove();
        else { old.replaceWith(node); placed.push(node); }
      }
    });
    if (target && fragment.children.length) {
      target.replaceChildren(fragment);
      placed.push(target);
    }
    placed.forEach(settle);
    resize();
  }

  function settle(root) {
    applyFolds();
    var focus = root.querySelector && root.querySelector("[data-card-autofocus]");
    if (focus) focus.focus();
  }

  function refreshFrom(response) {
    var refresh = (response.headers.get("X-Card-Refresh") || "").split(",");
    if (refresh.indexOf("orders") !== -1) loadOrders();
    if (refresh.indexOf("insight") !== -1) { state.etag = ""; loadInsight(); }
  }

  // --- sections -----------------------------------------------------------------------------

  function loadInsight() {
    window.clearTimeout(state.timer);
    if (!state.agent) return;
    var headers = state.etag ? { "If-None-Match": state.etag } : {};
    request(withContext(urls.insight), { headers: headers })
      .then(function (response) {
        if (response.status === 304) return null;
        state.etag = response.headers.get("ETag") || "";
        return response.text();
      })
      .then(function (html) { if (html !== null) swap(html); content.setAttribute("aria-busy", "false"); })
      .catch(function (error) {
        if (error.message !== "signed out") failed(document.getElementById("intent-body"), OFFLINE);
      })
      .then(schedulePoll);
  }

  function schedulePoll() {
    window.clearTimeout(state.timer);
    if (!state.agent || document.hidden) return;
    state.timer = window.setTimeout(loadInsight, pollMs);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && state.agent) loadInsight();
  });

  // A reload of the orders (after an action on one of them) must not take away what the agent
  // is doing on another: a form being filled in keeps its place and what it holds, and an
  // order the agent opened stays open.
  function keepAgentsWork(html, customer) {
    var fresh = parse(html);
    if (customer !== state.shownCustomer) return fresh;
    document.querySelectorAll("#orders-body details.order[open]").forEach(function (order) {
      var twin = order.id && fresh.getElementById(order.id);
      if (twin) twin.open = true;
    });
    document.querySelectorAll("#orders-body .order__actions").forEach(function (panel) {
      var slot = panel.id && panel.querySelector("form") && fresh.getElementById(panel.id);
      if (!slot) return;
      panel.querySelectorAll("[data-card-autofocus]").forEach(function (element) {
        element.removeAttribute("data-card-autofocus");  // it had its focus when it opened
      });
      slot.replaceWith(panel);
    });
    return fresh;
  }

  function loadOrders() {
    var body = document.getElementById("orders-body");
    if (!state.agent || !body) return;
    if (!state.customer) {
      body.innerHTML = '<p class="muted">Open a customer to see their orders.</p>';
      state.shownCustomer = "";
      return;
    }
    var customer = state.customer;
    var ticket = state.ordersTicket = (state.ordersTicket || 0) + 1;
    body.setAttribute("aria-busy", "true");
    request(withContext(urls.orders))
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (ticket !== state.ordersTicket) return;  // a newer reload is on its way
        var focused = document.activeElement;
        var fresh = keepAgentsWork(html, customer);
        state.shownCustomer = customer;
        swap(fresh, document.getElementById("orders-body"));
        if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();
      })
      .catch(function (error) {
        if (ticket !== state.ordersTicket) return;
        if (error.message !== "signed out") failed(document.getElementById("orders-body"), OFFLINE);
      })
      .then(function () {
        var current = document.getElementById("orders-body");
        if (current && ticket === state.ordersTicket) current.removeAttribute("aria-busy");
      });
  }

  // --- session ------------------------------------------------------------------------------

  function checkSession() {
    fetch(urls.session, { credentials: "include" })
      .then(function (response) {
        if (response.status === 401) { showSignIn(""); return null; }
        if (!response.ok) throw new Error("session");
        return response.json();
      })
      .then(function (who) { if (who) signedIn(who); })
      .catch(function () { showSignIn(OFFLINE); });
  }

  function signedIn(who) {
    state.csrf = who.csrf;
    state.agent = who.agent;
    signIn.hidden = true;
    content.hidden = false;
    document.getElementById("card-agent").textContent = "Signed in as " + who.agent.name;
    card.querySelector("[data-action=sign-out]").hidden = false;
    state.etag = "";
    if (state.started) { loadInsight(); loadOrders(); }
    resize();
  }

  function showSignIn(sentence) {
    window.clearTimeout(state.timer);
    state.agent = null;
    state.csrf = "";
    content.hidden = true;
    signIn.hidden = false;
    signInError.textContent = sentence;
    signInError.hidden = !sentence;
    resize();
  }

  function signedOut(sentence) {
    ["intent", "drafts", "orders"].forEach(function (name) {
      var body = document.getElementById(name + "-body");
      if (body) body.replaceChildren();  // no customer data stays on screen
    });
    showSignIn(sentence);
  }

  function startSignIn() {
    var query = new URLSearchParams(window.location.search);
    var params = new URLSearchParams();
    ["parentUrl", "id"].forEach(function (name) { if (query.get(name)) params.set(name, query.get(name)); });
    var url = urls.signIn + (params.toString() ? "?" + params.toString() : "");
    state.popup = window.open(url, "copilot-sign-in", "popup,width=480,height=680");
    if (!state.popup) {
      showSignIn("Your browser blocked the sign-in window. Allow pop-ups for Kustomer, then try again.");
    }
  }

  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (event.origin !== window.location.origin || data.type !== "copilot:signed-in") return;
    if (state.popup && event.source !== state.popup) return;
    state.popup = null;
    fetch(urls.session, {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ handoff: String(data.handoff || "") })
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (result.ok) { signedIn(result.body); status.textContent = "Signed in."; }
        else showSignIn(result.body.error || "The sign-in did not work. Please try again.");
      })
      .catch(function () { showSignIn(OFFLINE); });
  });

  function signOut() {
    request(urls.signOut, { method: "POST" })
      .then(function () { signedOut(""); status.textContent = "Signed out."; })
      .catch(function () { signedOut(""); });
  }

  // --- folding ------------------------------------------------------------------------------

  function folded() {
    try { return JSON.parse(window.localStorage.getItem(FOLDED_KEY) || "[]"); } catch (error) { return []; }
  }

  function applyFolds() {
    var names = folded();
    card.querySelectorAll("[data-action=fold]").forEach(function (button) {
      var body = document.getElementById(button.getAttribute("aria-controls"));
      var isFolded = names.indexOf(button.getAttribute("aria-controls")) !== -1;
      button.setAttribute("aria-expanded", String(!isFolded));
      if (body) body.hidden = isFolded;
    });
  }

  function toggleFold(button) {
    var id = button.getAttribute("aria-controls");
    var names = folded().filter(function (name) { return name !== id; });
    if (button.getAttribute("aria-expanded") === "true") names.push(id);
    try { window.localStorage.setItem(FOLDED_KEY, JSON.stringify(names)); } catch (error) { /* private mode */ }
    applyFolds();
    resize();
  }

  // --- controls in fragments ----------------------------------------------------------------

  function copy(button) {
    var source = document.querySelector(button.dataset.copy);
    if (!source) return;
    var text = source.innerText;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      status.textContent = "Draft copied.";
      window.setTimeout(function () { button.textContent = label; }, 1500);
    };
    var fallback = function () {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "sr-only";
      document.body.appendChild(area);
      area.select();
      var copied = document.execCommand("copy");
      area.remove();
      button.focus();
      if (copied) done();
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  card.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !card.contains(button)) return;
    var action = button.dataset.action;
    if (action === "fold") toggleFold(button);
    else if (action === "sign-in") startSignIn();
    else if (action === "sign-out") signOut();
    else if (button.dataset.copy) copy(button);
    else if (button.dataset.cardGet) {
      var target = document.querySelector(button.dataset.cardTarget) || button.closest("[data-card-swap-root]");
      button.disabled = true;
      request(button.dataset.cardGet)
        .then(function (response) { return response.text().then(function (html) { swap(html, target); refreshFrom(response); }); })
        .catch(function (error) { if (error.message !== "signed out") failed(target, OFFLINE); })
        .then(function () { button.disabled = false; });
    }
  });

  card.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-card-swap")) return;
    event.preventDefault();
    if (form.dataset.inFlight) return;  // a second click sends nothing
    var selector = form.getAttribute("data-card-swap");
    var target = (selector && document.querySelector(selector)) || form.closest("[data-card-swap-root]");
    var body = new URLSearchParams(new FormData(form, event.submitter || null));
    var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    form.dataset.inFlight = "1";
    buttons.forEach(function (b) { b.disabled = true; });
    if (target) target.setAttribute("aria-busy", "true");
    request(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    })
      .then(function (response) {
        return response.text().then(function (html) { swap(html, target); refreshFrom(response); });
      })
      .catch(function (error) { if (error.message !== "signed out") failed(target, OFFLINE); })
      .then(function () {
        delete form.dataset.inFlight;
        buttons.forEach(function (b) { b.disabled = false; });
        if (target) target.removeAttribute("aria-busy");
      });
  });

  card.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.dataset || !input.dataset.filterList) return;
    var list = document.querySelector(input.dataset.filterList);
    var words = input.value.toLowerCase().trim().split(/\s+/);
    list.querySelectorAll("[data-filter-item]").forEach(function (item) {
      var haystack = item.dataset.filterItem;
      item.hidden = !words.every(function (word) { return haystack.indexOf(word) !== -1; });
    });
    resize();
  });

  if (window.ResizeObserver) new ResizeObserver(resize).observe(document.body);
  applyFolds();
  start();
})();
