/*
 * The smallest Context Card: shows who the context is about and fits the frame to itself.
 * An example of the Cards SDK (window.Kustomer), and the page the browser tests frame.
 */
(function () {
  "use strict";

  var updates = 0;

  function text(selector, value) {
    document.querySelector(selector).textContent = value;
  }

  function render(context, config) {
    var customer = (context && context.customer) || null;
    var attributes = (customer && customer.attributes) || {};
    var emails = attributes.emails || [];
    var conversation = (context && context.conversation) || null;
    text("[data-customer]", attributes.displayName || (customer ? "Customer " + customer.id : "No customer"));
    text("[data-email]", emails.length ? emails[0].email : "No email");
    text("[data-conversation]", conversation ? "Conversation " + conversation.id : "Not on a conversation");
    text("[data-roles]", "Roles: " + (((config && config.userRoles) || []).join(", ") || "none"));
    text("[data-updates]", "Context updates: " + updates);
    // Fit the frame once the content has its final size.
    window.Kustomer.resize();
  }

  window.Kustomer.initialize(render);
  window.Kustomer.on("context", function (context, config) {
    updates += 1;
    render(context, config);
  });
})();
