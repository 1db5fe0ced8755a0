// The training UI's one script: the shortcuts overlay (?) and "g" navigation on every page, the
// labelling queue's keyboard flow with the next item preloaded, and live training progress.
(() => {
  "use strict";

  const dialog = document.getElementById("shortcuts");
  const toggleShortcuts = () => (dialog.open ? dialog.close() : dialog.showModal());
  document.querySelectorAll('[data-action="shortcuts"]').forEach((button) => {
    button.addEventListener("click", toggleShortcuts);
  });

  const typing = (target) => target instanceof Element && target.closest("input, textarea, select");
  let goPending = false;
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (event.key === "?" && !typing(event.target)) {
      event.preventDefault();
      toggleShortcuts();
      return;
    }
    if (dialog.open || typing(event.target)) return;
    if (goPending) {
      // The key after "g" names a page; it must not also act on the page ("s" skips, "k"
      // keeps in the queue), and this listener runs first.
      goPending = false;
      event.preventDefault();
      event.stopImmediatePropagation();
      const link = document.querySelector(`[data-go="${CSS.escape(event.key)}"]`);
      if (link) window.location.assign(link.href);
      return;
    }
    if (event.key === "g") {
      event.stopImmediatePropagation();
      goPending = true;
      window.setTimeout(() => (goPending = false), 1500);
    }
  });

  const queue = document.getElementById("queue");
  if (queue) setUpQueue(queue);
  document.querySelectorAll("[data-progress-url]").forEach(followProgress);

  function setUpQueue(queue) {
    const current = document.getElementById("queue-current");
    const status = document.getElementById("queue-status");
    const undoForm = queue.querySelector("[data-undo-form]");
    const undoButton = undoForm.querySelector("button");
    let nextHtml = document.getElementById("queue-next").innerHTML.trim() || null;
    let nextPromise = null;
    let generation = 0; // a prefetch answered after the page moved on is dropped
    let busy = false;

    const currentKey = () => current.querySelector("[data-key]")?.dataset.key || "";
    const say = (message, isError = false) => {
      status.textContent = message;
      status.classList.toggle("queue__status--error", isError);
    };

    function prefetch() {
      const params = new URLSearchParams();
      if (currentKey()) params.append("exclude", currentKey());
      nextHtml = null;
      const mine = ++generation;
      nextPromise = fetch(`${queue.dataset.nextUrl}?${params}`, { headers: { Accept: "text/html" } })
        .then((response) => (response.ok ? response.text() : Promise.reject(new Error(response.status))))
        .then((html) => {
          if (mine === generation) nextHtml = html;
          return html;
        });
      nextPromise.catch(() => (nextPromise = null));
      return nextPromise;
    }

    function show(html) {
      current.innerHTML = html;
      current.focus({ preventScroll: true });
    }

    async function showNext() {
      const html = nextHtml !== null ? nextHtml : await (nextPromise || prefetch());
      show(html);
      if (currentKey()) prefetch();
    }

    function updateCounts(result) {
      queue.ownerDocument.querySelectorAll("[data-remaining]").forEach((el) => (el.textContent = result.remaining));
      queue.ownerDocument.querySelectorAll("[data-done]").forEach((el) => (el.textContent = result.done_today));
      queue.ownerDocument.querySelectorAll("[data-mislabels]").forEach((el) => (el.textContent = result.mislabels));
      const badge = document.querySelector('[data-count="queue"]');
      if (badge) badge.firstChild.textContent = result.remaining;
      undoButton.disabled = !result.can_undo;
    }

    async function post(form, submitter) {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form, submitter),
        headers: { Accept: "application/json" },
      });
      return response.json();
    }

    current.addEventListener("submit", async (event) => {
      const form = event.target.closest("[data-queue-form]");
      if (!form) return;
      event.preventDefault();
      if (busy) return;
      busy = true;
      try {
        const result = await post(form, event.submitter);
        if (!result.ok) return say(result.message, true);
        updateCounts(result);
        await showNext();
        say(result.message);
      } catch {
        say("That decision was not saved: the server did not answer. Try again.", true);
      } finally {
        busy = false;
      }
    });

    undoForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy) return;
      busy = true;
      try {
        const result = await post(undoForm, null);
        if (!result.ok) return say(result.message, true);
        // The item on screen is still undecided: it comes next, after the restored one.
        if (currentKey()) {
          generation += 1;
          nextHtml = current.innerHTML;
          nextPromise = null;
        }
        show(result.html);
        if (nextHtml === null) prefetch();
        updateCounts(result);
        say(result.message);
      } catch {
        say("Undo failed: the server did not answer. Try again.", true);
      } finally {
        busy = false;
      }
    });

    const press = (selector) => {
      const button = current.querySelector(selector);
      if (button && !button.disabled) button.click();
      return Boolean(button);
    };

    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || dialog.open) return;
      const search = event.target instanceof Element && event.target.closest("[data-search]");
      if (search) {
        if (event.key === "Enter") {
          // Implicit submission would press the form's first button (Accept): label instead.
          event.preventDefault();
          if (search.value.trim()) press('button[value="label:"]');
        } else if (event.key === "Escape") {
          search.blur();
          current.focus({ preventScroll: true });
        }
        return;
      }
      if (typing(event.target)) return;
      if (/^[1-9]$/.test(event.key)) {
        if (press(`[data-shortcut="${event.key}"]`)) event.preventDefault();
      } else if (event.key === "Enter") {
        // On a focused button or link, Enter does what it always does.
        if (event.target instanceof Element && event.target.closest("button, a")) return;
        if (press('[data-shortcut="Enter"]')) event.preventDefault();
      } else if (event.key === "c") {
        if (press("[data-conversation-url]")) event.preventDefault();
      } else if (event.key === "s" || event.key === "k") {
        if (press(`[data-shortcut="${event.key}"]`)) event.preventDefault();
      } else if (event.key === "u") {
        event.preventDefault();
        if (!undoButton.disabled) undoForm.requestSubmit();
      } else if (event.key === "/") {
        const input = current.querySelector("[data-search]");
        if (input) {
          event.preventDefault();
          input.focus();
        }
      }
    });

    // The whole conversation, both ways, from Kustomer: read once an item, when asked for.
    current.addEventListener("click", async (event) => {
      const button = event.target instanceof Element && event.target.closest("[data-conversation-url]");
      if (!button) return;
      const panel = document.getElementById(button.getAttribute("aria-controls"));
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      panel.hidden = !open;
      if (!open || panel.dataset.loaded) return;
      panel.setAttribute("aria-busy", "true");
      panel.textContent = "Reading the conversation from Kustomer…";
      try {
        const response = await fetch(button.dataset.conversationUrl, { headers: { Accept: "text/html" } });
        panel.innerHTML = await response.text();
        if (response.ok) panel.dataset.loaded = "1";
      } catch {
        panel.textContent = "The conversation could not be read: the server did not answer. Try again.";
      } finally {
        panel.removeAttribute("aria-busy");
      }
    });

    if (nextHtml === null && currentKey()) prefetch();
  }

  function followProgress(element) {
    const bar = element.querySelector("progress");
    const text = element.querySelector("[data-progress-text]");
    const tick = async () => {
      try {
        const response = await fetch(element.dataset.progressUrl, { headers: { Accept: "application/json" } });
        const run = await response.json();
        bar.value = Math.round(run.progress * 100);
        text.textContent = `${run.status_display}: ${run.message || "waiting for a worker"} (${bar.value}%)`;
        if (run.finished) {
          window.location.reload();
          return;
        }
      } catch {
        text.textContent = "Progress is unavailable for a moment; retrying.";
      }
      window.setTimeout(tick, 1000);
    };
    window.setTimeout(tick, 1000);
  }
})();
