// tally dashboard: the login form, sent as JSON to POST /v1/session; on success the browser
// holds the session cookie (HttpOnly: no script ever reads it) and goes to the dashboard.
"use strict";

(function () {
  const form = document.getElementById("login");
  const error = document.getElementById("login-error");
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    error.textContent = "";
    const fields = new FormData(form);
    const body = JSON.stringify({
      tenant: fields.get("tenant"),
      email: fields.get("email"),
      password: fields.get("password"),
    });
    let response;
    try {
      response = await fetch("/v1/session", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: body,
      });
    } catch (e) {
      error.textContent = "The server cannot be reached; try again.";
      return;
    }
    if (response.ok) {
      const next = new URLSearchParams(window.location.search).get("next") || "/dashboard";
      // Only paths of this site: a crafted link must not send the user elsewhere.
      window.location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/dashboard");
      return;
    }
    let detail = "Login failed.";
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    error.textContent = detail;
    document.getElementById("password").focus();
  });
})();
