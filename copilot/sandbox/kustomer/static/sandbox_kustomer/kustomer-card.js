/*
 * Stand-in for Kustomer's Cards SDK (https://cdn.kustomerapp.com/card-js/latest/kustomer-card.min.js),
 * served by the fake Kustomer at /sandbox/kustomer/card-js/kustomer-card.js.
 *
 * Same calls on window.Kustomer as the real SDK; like it, it talks only to the window that framed
 * the card, by postMessage. Messages to the host: {source: "kustomer-card", type, ...}; messages
 * from the host: {source: "kustomer-host", type, ...}. The card cannot know Kustomer's origin in
 * advance (every org has its own host), so it posts with targetOrigin "*" and trusts only messages
 * whose event.source is its parent window.
 */
(function () {
  "use strict";

  var CARD = "kustomer-card";
  var HOST = "kustomer-host";
  var framed = window.parent !== window;

  var initializeCallback = null;
  var initialized = false;
  var contextListeners = [];
  var pendingRequests = {};
  var nextRequestId = 1;

  function post(type, fields) {
    if (!framed) {
      return;
    }
    var message = { source: CARD, type: type };
    Object.keys(fields || {}).forEach(function (name) {
      message[name] = fields[name];
    });
    window.parent.postMessage(message, "*");
  }

  function pixels(value) {
    // resize({height: 240}) and resize({height: "240px"}) are both seen in cards.
    var number = typeof value === "number" ? value : parseFloat(String(value));
    return isFinite(number) && number >= 0 ? Math.ceil(number) : null;
  }

  // A call the host answers with {type: "response", requestId, error, data}.
  function ask(type, callback, fields) {
    var requestId = String(nextRequestId++);
    if (typeof callback === "function") {
      pendingRequests[requestId] = callback;
    }
    fields.requestId = requestId;
    post(type, fields);
  }

  // The height of the page's content. Not documentElement.scrollHeight: it is never less than
  // the frame's current height, so a card whose content got shorter could never shrink its frame.
  // (A card that sets html {height: 100%} is measured as the frame, so it should not.)
  function contentHeight() {
    return Math.ceil(document.documentElement.getBoundingClientRect().height);
  }

  function handleContext(message) {
    if (!initialized) {
      if (!initializeCallback) {
        return;
      }
      initialized = true;
      initializeCallback(message.context, message.config);
      return;
    }
    contextListeners.slice().forEach(function (listener) {
      listener(message.context, message.config);
    });
  }

  function handleResponse(message) {
    var callback = pendingRequests[message.requestId];
    if (!callback) {
      return;
    }
    delete pendingRequests[message.requestId];
    callback(message.error || null, message.error ? null : message.data);
  }

  window.addEventListener("message", function (event) {
    // Only the window that framed the card speaks for Kustomer.
    if (!framed || event.source !== window.parent) {
      return;
    }
    var message = event.data;
    if (!message || typeof message !== "object" || message.source !== HOST) {
      return;
    }
    if (message.type === "context") {
      handleContext(message);
    } else if (message.type === "response") {
      handleResponse(message);
    }
  });

  window.Kustomer = {
    /** Must be called once on load, or Kustomer does not show the card. */
    initialize: function (callback) {
      if (initializeCallback) {
        return;
      }
      initializeCallback = typeof callback === "function" ? callback : function () {};
      if (!framed && window.console) {
        window.console.warn("Kustomer card: not inside Kustomer's Insight Panel, no context will come.");
      }
      post("initialize");
    },

    /** on("context", cb): cb(context, config) on every context after the first. */
    on: function (eventName, callback) {
      if (eventName === "context" && typeof callback === "function") {
        contextListeners.push(callback);
      }
    },

    /** resize() fits the frame to the page; resize({height}) sets it. */
    resize: function (options) {
      var height = options && options.height !== undefined ? pixels(options.height) : null;
      post("resize", { height: height === null ? contentHeight() : height });
    },

    close: function () {
      post("close");
    },

    open: function () {
      post("open");
    },

    /** request({url, method, body}, cb): Kustomer calls its API as the agent; cb(error, data). */
    request: function (options, callback) {
      var request = options || {};
      ask("request", callback, {
        request: { url: request.url, method: request.method || "GET", body: request.body },
      });
    },

    /** command.run(name, {args}, cb): one of the app's commands, run on Kustomer's servers. */
    command: {
      run: function (name, options, callback) {
        ask("command.run", callback, { name: name, args: (options || {}).args });
      },
    },

    modal: {
      init: function (options) {
        post("modal.init", { modal: options || {} });
      },
      show: function (id) {
        post("modal.show", { id: id });
      },
      destroy: function (id) {
        post("modal.destroy", { id: id });
      },
    },
  };
})();
