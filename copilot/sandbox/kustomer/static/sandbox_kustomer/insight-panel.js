/*
 * Kustomer's side of the Cards SDK conversation, for the fake Insight Panel
 * (templates/sandbox_kustomer/insight_panel.html). Messages from the card:
 * {source: "kustomer-card", type: initialize | resize | close | open | request | command.run |
 * modal.init | modal.show | modal.destroy}; answers: {source: "kustomer-host", type: context |
 * response}. Tests switch the context with window.kustomerHost.setContext({customer, conversation}).
 */
(function () {
  "use strict";

  var MAX_HEIGHT = 5000;
  var NOT_SUPPORTED =
    " is not supported in the sandbox: the fake Kustomer does not call its API for a card.";

  var data = JSON.parse(document.getElementById("kustomer-host").textContent);
  var frame = document.querySelector("iframe[data-src]");
  var closedNotice = document.querySelector("[data-card-closed]");
  var log = document.querySelector("[data-message-log]");
  var modalDialog = document.querySelector("[data-card-modal]");
  var modals = {};

  var host = {
    context: data.context,
    config: data.config,
    /** Every message the card sent, oldest first. */
    messages: [],
    /** setContext({customer, conversation}): what Kustomer does when the agent opens another
     * conversation in the same panel. Returns the context sent. */
    setContext: function (context) {
      host.context = context || {};
      showContext(host.context);
      sendContext();
      return host.context;
    },
  };
  window.kustomerHost = host;

  function send(message) {
    message.source = "kustomer-host";
    // Only the card's origin may read what Kustomer says about the customer.
    frame.contentWindow.postMessage(message, data.cardOrigin);
  }

  function sendContext() {
    send({ type: "context", context: host.context, config: host.config });
  }

  function showContext(context) {
    var customer = context.customer || null;
    var conversation = context.conversation || null;
    var customerName = document.querySelector("[data-customer-name]");
    var conversationName = document.querySelector("[data-conversation-name]");
    // Pages other than the bare panel (the demo workspace) show the context their own way.
    if (customerName) {
      customerName.textContent =
        (customer && customer.attributes && customer.attributes.displayName) || "No customer";
    }
    if (conversationName) {
      conversationName.textContent = conversation
        ? ((conversation.attributes && conversation.attributes.name) || "Conversation") +
          " (" + conversation.id + ")"
        : "Not on a conversation";
    }
  }

  function record(message) {
    host.messages.push(message);
    var item = document.createElement("li");
    item.textContent = message.type + (message.type === "resize" ? " " + message.height + " px" : "");
    log.appendChild(item);
  }

  function answerNotSupported(message, what) {
    send({ type: "response", requestId: message.requestId, error: { message: what + NOT_SUPPORTED } });
  }

  function showCard(visible) {
    frame.hidden = !visible;
    closedNotice.hidden = visible;
  }

  function showModal(id) {
    var modal = modals[id];
    if (!modal) {
      return;
    }
    document.querySelector("[data-card-modal-title]").textContent = modal.title || "Card";
    document.querySelector("[data-card-modal-frame]").src = modal.url || "about:blank";
    modalDialog.showModal();
  }

  var handlers = {
    initialize: sendContext,
    resize: function (message) {
      var height = Math.min(Math.max(Number(message.height) || 0, 0), MAX_HEIGHT);
      frame.style.height = height + "px";
    },
    close: function () {
      showCard(false);
    },
    open: function () {
      showCard(true);
    },
    request: function (message) {
      answerNotSupported(message, "Kustomer.request");
    },
    "command.run": function (message) {
      answerNotSupported(message, "Kustomer.command.run");
    },
    "modal.init": function (message) {
      var modal = message.modal || {};
      modals[modal.id] = modal;
    },
    "modal.show": function (message) {
      showModal(message.id);
    },
    "modal.destroy": function (message) {
      delete modals[message.id];
      if (modalDialog.open) {
        modalDialog.close();
      }
    },
  };

  window.addEventListener("message", function (event) {
    // Only the framed card may talk to Kustomer, and only while it is on its own origin.
    if (event.source !== frame.contentWindow || event.origin !== data.cardOrigin) {
      return;
    }
    var message = event.data;
    if (!message || typeof message !== "object" || message.source !== "kustomer-card") {
      return;
    }
    if (!Object.prototype.hasOwnProperty.call(handlers, message.type)) {
      return;
    }
    record(message);
    handlers[message.type](message);
  });

  document.querySelector("[data-card-open]").addEventListener("click", function () {
    showCard(true);
  });

  // The frame loads only now that the listener is in place, so no initialize goes unanswered.
  frame.src = frame.dataset.src;
})();
