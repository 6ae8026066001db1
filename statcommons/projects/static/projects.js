// The projects page: every action is a call to the projects REST API, then the page is reloaded.
"use strict";

(function () {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const api = meta("projects-api");

  function show(message) {
    const box = document.getElementById("message");
    box.textContent = message;
    box.classList.remove("d-none");
    box.scrollIntoView({ block: "center" });
  }

  async function call(method, path, body) {
    const response = await fetch(api + path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-XSRFToken": meta("xsrf-token") },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      throw new Error((data && data.message) || `${response.status} ${response.statusText}`);
    }
    return data;
  }

  const enc = encodeURIComponent;

  async function act(element, event) {
    const action = element.dataset.action;
    const card = element.closest("[data-project]");
    const project = card ? card.dataset.project : null;
    const base = project ? `projects/${enc(project)}` : "";
    if (action === "create") {
      event.preventDefault();
      const form = new FormData(element);
      const body = { name: form.get("name") };
      for (const key of ["title", "description"]) {
        if (form.get(key)) body[key] = form.get(key);
      }
      await call("POST", "projects", body);
    } else if (action === "add-member") {
      event.preventDefault();
      const form = new FormData(element);
      await call("PUT", `${base}/members/${enc(form.get("user"))}`, { role: form.get("role") });
    } else if (action === "remove-member") {
      const user = element.closest("[data-user]").dataset.user;
      const question = `Remove ${user} from ${project}? Their server and the project server restart at once, without their access.`;
      if (!window.confirm(question)) return;
      await call("DELETE", `${base}/members/${enc(user)}`);
    } else if (action === "delete") {
      if (!window.confirm(`Delete ${project}? Its files are archived, then removed from every member.`)) return;
      await call("DELETE", base);
    } else if (action === "open-server") {
      element.disabled = true;
      element.textContent = "Starting the project server…";
      const server = await call("POST", `${base}/server`);
      window.location.assign(server.url);
      return;
    } else if (action === "stop-server") {
      await call("DELETE", `${base}/server`);
    } else if (action === "dismiss") {
      await call("DELETE", `notices/${enc(element.closest("[data-notice]").dataset.notice)}`);
    } else {
      return;
    }
    window.location.reload();
  }

  function handle(event) {
    const element = event.target.closest("[data-action]");
    if (!element) return;
    if (event.type === "click" && element.tagName === "FORM") return;
    const button = element.tagName === "BUTTON" ? element : null;
    const label = button && button.textContent;
    act(element, event).catch((error) => {
      show(error.message);
      if (button) {
        button.disabled = false;
        button.textContent = label;
      }
    });
  }

  document.addEventListener("click", handle);
  document.addEventListener("submit", handle);

  // Plain forms that take a while (open/<name>: starting a project server) say so while they do.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset || !form.dataset.pending) return;
    const button = form.querySelector('button[type="submit"]');
    if (button) {
      button.disabled = true;
      button.textContent = form.dataset.pending;
    }
  });
})();
