/* paperboy: the upvote, save, "not interested" and read-mark forms (form.vote, form.save, form.hide,
   form.read-mark) update
   in place instead of reloading the page, and the search form's menus search as they change. Without this script
   the forms post or submit normally (the server redirects back), so it only adds. */
(() => {
  "use strict";

  const token = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  const MESSAGE_MS = 6000;

  // What each kind of in-place form does with the server's answer.
  const KINDS = {
    vote: {
      ok: (data) => typeof data.upvotes === "number",
      apply: (form, data) => sameForms(form).forEach((each) => show(each, data.upvotes, data.voted)),
      failed: "The vote failed",
    },
    save: {
      ok: (data) => typeof data.saved === "boolean",
      apply: (form, data) => sameForms(form).forEach((each) => showSaved(each, data.saved)),
      failed: "Saving failed",
    },
    hide: {
      ok: (data) => typeof data.not_interested === "boolean",
      apply: (form, data) => showHidden(form, data.not_interested),
      failed: "Hiding failed",
    },
    "read-mark": {
      ok: (data) => typeof data.read === "boolean",
      apply: (form, data) => showRead(form, data.read),
      failed: "Marking failed",
    },
  };

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const kind = Object.keys(KINDS).find((name) => form.classList.contains(name));
    if (!kind) return;
    if (!window.fetch || !token()) return; // let the browser post the form
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return; // a double click sends one request
    send(form, KINDS[kind]);
  });

  async function send(form, kind) {
    form.setAttribute("aria-busy", "true");
    let response;
    try {
      // getAttribute: `form.action` is the hidden input named "action", not the URL
      response = await fetch(form.getAttribute("action"), {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json", "X-CSRF-Token": token() },
        credentials: "same-origin",
      });
    } catch (error) {
      form.submit(); // the network failed: try the plain form, which reports its own errors
      return;
    } finally {
      form.removeAttribute("aria-busy");
    }
    const data = await response.json().catch(() => null);
    if (response.ok && data && kind.ok(data)) {
      kind.apply(form, data);
      clearMessage(form);
    } else {
      say(form, (data && data.error && data.error.message) || `${kind.failed} (HTTP ${response.status}).`);
    }
  }

  // A paper can have more than one button on a page: keep them all in step.
  function sameForms(form) {
    const action = form.getAttribute("action");
    const kind = form.classList.contains("save") ? "form.save" : "form.vote";
    return [...document.querySelectorAll(kind)].filter((each) => each.getAttribute("action") === action);
  }

  function showSaved(form, saved) {
    const button = form.querySelector("button");
    const next = form.querySelector('input[name="action"]');
    if (next) next.value = saved ? "remove" : "save";
    if (button) {
      button.classList.toggle("saved", saved);
      button.setAttribute("aria-pressed", saved ? "true" : "false");
      button.title = saved ? "Remove from your library" : "Save to your library";
      const star = document.createElement("span");
      star.setAttribute("aria-hidden", "true");
      star.textContent = saved ? "★" : "☆";
      button.replaceChildren(star, document.createTextNode(saved ? " Saved" : " Save"));
    }
  }

  // Marking read saves the paper too: the page's save buttons for it follow.
  function showRead(form, read) {
    const button = form.querySelector("button");
    const next = form.querySelector('input[name="action"]');
    if (next) next.value = read ? "unread" : "read";
    if (button) {
      button.classList.toggle("is-read", read);
      button.setAttribute("aria-pressed", read ? "true" : "false");
      button.textContent = read ? "✓ Read" : "Mark as read";
    }
    if (read) {
      const save = form.getAttribute("action").replace(/\/read$/, "/save");
      document.querySelectorAll("form.save").forEach((each) => {
        if (each.getAttribute("action") === save) showSaved(each, true);
      });
    }
  }

    function show(form, upvotes, voted) {
    const button = form.querySelector("button");
    const count = form.querySelector(".vote-count");
    const next = form.querySelector('input[name="action"]');
    if (count) count.textContent = String(upvotes);
    if (next) next.value = voted ? "remove" : "up";
    if (button) {
      button.classList.toggle("voted", voted);
      button.setAttribute("aria-pressed", voted ? "true" : "false");
      button.title = voted ? "Remove your upvote" : "Upvote";
    }
  }

  // "Not interested" on a feed card folds the card into one line with an undo; undo unfolds it.
  // On the library page's list (no card) the hidden paper's line goes once it is shown again.
  function showHidden(form, hidden) {
    const next = form.querySelector('input[name="action"]');
    if (next) next.value = hidden ? "undo" : "hide";
    const card = form.closest("article.card");
    if (!card) {
      if (!hidden) form.closest("li")?.remove();
      return;
    }
    const button = form.querySelector("button");
    if (hidden) {
      const note = document.createElement("p");
      note.className = "hidden-note";
      note.setAttribute("role", "status");
      note.textContent = "Hidden from your feeds.";
      [...card.children].forEach((child) => (child.hidden = true));
      card.classList.add("card-hidden");
      card.prepend(note);
      note.after(form);
      if (button) {
        button.replaceChildren(document.createTextNode("Undo"));
        button.title = "Show it in your feeds again";
        button.focus();
      }
    } else {
      card.querySelector(".hidden-note")?.remove();
      card.classList.remove("card-hidden");
      [...card.children].forEach((child) => (child.hidden = false));
      card.querySelector(".card-actions")?.append(form);
      if (button) {
        const mark = document.createElement("span");
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = "✕";
        const label = document.createElement("span");
        label.className = "visually-hidden";
        label.textContent = "Not interested";
        button.replaceChildren(mark, label);
        button.title = "Not interested: hide it from your feeds";
      }
    }
  }

  // One small message beside the button, replaced by the next and gone after a while.
  function say(form, text) {
    clearMessage(form);
    const message = document.createElement("span");
    message.className = "vote-message";
    message.setAttribute("role", "status");
    message.textContent = text;
    form.after(message);
    form.voteMessageTimer = setTimeout(() => message.remove(), MESSAGE_MS);
  }

  function clearMessage(form) {
    clearTimeout(form.voteMessageTimer);
    const old = form.nextElementSibling;
    if (old && old.classList.contains("vote-message")) old.remove();
  }

  // The search form's "Sort by" and "Match" menus search again as soon as they change
  // (without this script, the Search button does).
  document.addEventListener("change", (event) => {
    const menu = event.target;
    if (!(menu instanceof HTMLSelectElement) || !menu.hasAttribute("data-submit-on-change") || !menu.form) return;
    if (menu.form.requestSubmit) menu.form.requestSubmit();
    else menu.form.submit();
  });

  // A search's address leaves out empty controls and default choices, so that it reads
  // /search?q=graph&cat=cs.LG (the server reads the longer form just the same).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("search-form")) return;
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      const control = form.elements.namedItem(name);
      const fallback = control instanceof HTMLSelectElement ? control.dataset.default : undefined;
      if (typeof value === "string" && value.trim() !== "" && value !== fallback) params.append(name, value);
    }
    event.preventDefault();
    const query = params.toString();
    window.location.assign(form.getAttribute("action") + (query ? "?" + query : ""));
  });
})();
