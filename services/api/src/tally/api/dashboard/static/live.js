// tally dashboard: live figures and the session's two buttons. Hand-written, no library.
//
// The page names what it follows in <body data-live="...">. The api's event stream
// (/dashboard/events) sends an event whenever those figures changed in the database; the page
// then fetches itself again and swaps its <main> (the server draws every figure, so the page
// and the API never disagree on rounding). When the stream fails, EventSource reconnects by
// itself; meanwhile a poll every 5 s keeps the figures current.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const status = document.getElementById("live-status");

  function say(text) {
    if (status) status.textContent = text;
  }

  async function refresh() {
    const response = await fetch(window.location.href, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (response.status === 401 || response.redirected) {
      window.location.assign("/login");
      return;
    }
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const main = document.getElementById("main");
    const next = fresh.getElementById("main");
    if (!main || !next) return;
    // Keep the keyboard where it was: remember the focused element's id or link.
    const active = document.activeElement;
    const key = active && (active.id || active.getAttribute("href"));
    main.innerHTML = next.innerHTML;
    if (key) {
      const again = document.getElementById(key) || main.querySelector('[href="' + CSS.escape(key) + '"]');
      if (again) again.focus();
    }
    say("Updated " + new Date().toLocaleTimeString());
  }

  function follow(what) {
    let poll = null;
    const url = "/dashboard/events?follow=" + encodeURIComponent(what);
    const events = new EventSource(url, { withCredentials: true });
    events.addEventListener("changed", function () {
      refresh().catch(function () { say("Update failed; retrying"); });
    });
    events.addEventListener("open", function () {
      if (poll) { clearInterval(poll); poll = null; }
      say("Live");
    });
    events.addEventListener("error", function () {
      say("Reconnecting…");
      if (!poll) poll = setInterval(function () { refresh().catch(function () {}); }, 5000);
    });
  }

  function logout() {
    const button = document.getElementById("logout");
    if (!button || !csrf) return;
    button.addEventListener("click", async function () {
      await fetch("/v1/session", {
        method: "DELETE",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf.content },
      });
      window.location.assign("/login");
    });
  }

  logout();
  const what = document.body.dataset.live;
  if (what) follow(what);
})();
