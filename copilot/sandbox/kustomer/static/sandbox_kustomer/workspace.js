/*
 * The demo workspace (templates/sandbox_kustomer/workspace.html): sends the customer's message
 * and the agent's reply without reloading the page (the framed card keeps its state), fills the
 * customer's box with a scripted example, and polls the timeline (messages, the copilot's notes
 * and KObjects) and the reply box's draft (what "Use" in the card puts there). The Insight Panel
 * itself is insight-panel.js.
 */
(function () {
  "use strict";

  var main = document.getElementById("conversation");
  var timeline = document.querySelector("[data-timeline]");
  var replyBox = document.querySelector("[data-reply-box]");
  var customerBox = document.getElementById("customer-message");
  var timelineUrl = main.dataset.timelineUrl || "";
  var pollMs = Number(main.dataset.pollMs) || 1500;
  var version = main.dataset.version || "";
  // The draft last put in the reply box: a new one replaces what the box holds, as in Kustomer.
  var draftSeen = (main.dataset.draftId || "") + "\u0000" + (replyBox ? replyBox.value : "");
  var pollTimer = null;

  function scrollToEnd() {
    timeline.scrollTop = timeline.scrollHeight;
  }

  function setStatus(form, text) {
    var status = form.querySelector("[data-status]");
    if (status) {
      status.textContent = text;
    }
  }

  function applyState(state) {
    if (state.version !== version) {
      version = state.version;
      timeline.innerHTML = state.html;
      scrollToEnd();
    }
    var draft = state.draft || { id: "", body: "" };
    var draftKey = draft.id + "\u0000" + draft.body;
    if (replyBox && draft.id && draftKey !== draftSeen) {
      replyBox.value = draft.body;
      setStatus(replyBox.form, "A draft from the card is in the reply box.");
    }
    draftSeen = draftKey;
  }

  function poll() {
    window.clearTimeout(pollTimer);
    if (!timelineUrl) {
      return;
    }
    if (document.hidden) {
      pollTimer = window.setTimeout(poll, pollMs);
      return;
    }
    fetch(timelineUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (state) {
          applyState(state);
        }
      })
      .catch(function () {
        /* The server restarting: the next poll tries again. */
      })
      .then(function () {
        pollTimer = window.setTimeout(poll, pollMs);
      });
  }

  function submit(form, sentText) {
    var button = form.querySelector("button[type=submit]");
    var textarea = form.querySelector("textarea");
    if (!textarea.value.trim()) {
      setStatus(form, "Write something first.");
      textarea.focus();
      return;
    }
    button.disabled = true;
    setStatus(form, "Sending…");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          return { ok: response.ok, answer: answer };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          setStatus(form, result.answer.error || "That did not work; try again.");
          return;
        }
        if (!timelineUrl) {
          // A first message started a conversation: open it.
          window.location.assign(result.answer.url);
          return;
        }
        textarea.value = "";
        if (textarea === replyBox) {
          draftSeen = "\u0000";
        }
        setStatus(form, sentText);
        poll();
      })
      .catch(function () {
        setStatus(form, "The workspace cannot reach the server. Is `make run` still running?");
      })
      .then(function () {
        button.disabled = false;
      });
  }

  document.querySelectorAll("form[data-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit(
        form,
        form.dataset.form === "customer"
          ? "Sent. The copilot is reading it; its note appears in the timeline."
          : "Reply sent."
      );
    });
  });

  document.querySelectorAll("[data-example]").forEach(function (button) {
    button.addEventListener("click", function () {
      customerBox.value = button.dataset.example;
      customerBox.focus();
    });
  });

  scrollToEnd();
  pollTimer = window.setTimeout(poll, pollMs);
})();
