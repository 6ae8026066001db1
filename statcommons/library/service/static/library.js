// Rating and commenting on a library item page, through the library's REST API.
// The page's XSRF token goes in the X-XSRFToken header: the API streams request bodies,
// so a form field would not be read, and the hub's OAuth cookie alone is not accepted for writes.
"use strict";

(function () {
  const tokenMeta = document.querySelector('meta[name="xsrf-token"]');
  const xsrfToken = tokenMeta ? tokenMeta.content : "";

  function problem(data, response) {
    if (data && Array.isArray(data.errors) && data.errors.length) {
      return data.errors.map((e) => e.message).join("; ");
    }
    if (data && data.message) {
      return data.message;
    }
    return "the library answered " + response.status + " " + response.statusText;
  }

  async function send(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-XSRFToken": xsrfToken,
      },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      throw new Error(problem(data, response));
    }
    return data;
  }

  function say(form, text, failed) {
    const status = form.querySelector(".form-status");
    status.textContent = text;
    status.classList.toggle("failed", Boolean(failed));
  }

  function ratingText(rating) {
    if (!rating.count) {
      return "Not rated yet";
    }
    const plural = rating.count === 1 ? "" : "s";
    return rating.average + " out of 5 from " + rating.count + " rating" + plural;
  }

  function setUpRating(form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = form.querySelector('input[name="stars"]:checked');
      if (!chosen) {
        say(form, "Choose from 1 to 5 stars first.", true);
        return;
      }
      const stars = Number(chosen.value);
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const rating = await send("PUT", form.dataset.url, { stars: stars });
        document.getElementById("rating-summary").textContent = ratingText(rating);
        say(form, "Saved: you gave " + stars + " star" + (stars === 1 ? "" : "s") + ".", false);
      } catch (error) {
        say(form, "Your rating was not saved: " + error.message, true);
      } finally {
        button.disabled = false;
      }
    });
  }

  function commentElement(comment) {
    const item = document.createElement("li");
    item.className = "comment";
    const meta = document.createElement("p");
    meta.className = "comment-meta";
    const author = document.createElement("strong");
    author.textContent = comment.author;
    const time = document.createElement("time");
    time.dateTime = comment.created;
    time.textContent = "just now";
    meta.append(author, " · ", time);
    const body = document.createElement("div");
    body.className = "comment-body";
    // Rendered from Markdown and sanitised by the service, as on the page itself.
    body.innerHTML = comment.html;
    item.append(meta, body);
    return item;
  }

  function setUpComments(form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const textarea = form.querySelector("textarea");
      const text = textarea.value.trim();
      if (!text) {
        say(form, "Write something first.", true);
        textarea.focus();
        return;
      }
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const comment = await send("POST", form.dataset.url, { text: text });
        document.getElementById("comment-list").append(commentElement(comment));
        document.getElementById("no-comments").hidden = true;
        textarea.value = "";
        say(form, "Your comment is posted.", false);
      } catch (error) {
        say(form, "Your comment was not posted: " + error.message, true);
      } finally {
        button.disabled = false;
      }
    });
  }

  function start() {
    for (const form of document.querySelectorAll("form.js-only")) {
      form.hidden = false;
    }
    const rating = document.getElementById("rating-form");
    if (rating) {
      setUpRating(rating);
    }
    const comments = document.getElementById("comment-form");
    if (comments) {
      setUpComments(comments);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
