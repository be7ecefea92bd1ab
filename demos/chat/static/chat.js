// The chat page: posts messages without reloading, and keeps one long-polling
// request open so that other people's messages appear as soon as they are sent.
"use strict";

(() => {
  const inbox = document.getElementById("inbox");
  const form = document.getElementById("compose");
  const input = form.elements.body;
  const status = document.getElementById("status");
  const xsrf = form.elements._xsrf.value;
  // Number of the last message shown; the server answers with newer ones.
  let cursor = Number(inbox.dataset.cursor);

  async function post(url, fields) {
    const body = new URLSearchParams({ ...fields, _xsrf: xsrf });
    const response = await fetch(url, { method: "POST", body });
    if (!response.ok) {
      throw new Error(`${url} answered ${response.status}`);
    }
    return response.json();
  }

  function show(message) {
    if (document.getElementById(`m${message.id}`)) {
      return; // our own message, already shown when it was posted
    }
    const atBottom =
      inbox.scrollTop + inbox.clientHeight >= inbox.scrollHeight - 5;
    inbox.insertAdjacentHTML("beforeend", message.html);
    if (atBottom) {
      inbox.scrollTop = inbox.scrollHeight;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      return;
    }
    input.disabled = true;
    try {
      show(await post(form.action, { body: text }));
      input.value = "";
      status.textContent = "";
    } catch (error) {
      status.textContent = "Not sent; please try again.";
    } finally {
      input.disabled = false;
      input.focus();
    }
  });

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function pollForever() {
    let backoff = 0; // grows while the server is unreachable
    for (;;) {
      try {
        const { messages } = await post("/a/message/updates", { cursor });
        messages.forEach(show);
        // Only updates move the cursor: a message we posted ourselves may
        // have overtaken others that are still to come.
        if (messages.length) {
          cursor = messages[messages.length - 1].id;
        }
        backoff = 0;
        status.textContent = "";
      } catch (error) {
        backoff = Math.min(backoff * 2 || 500, 30000);
        status.textContent = "Connection lost; retrying.";
        await sleep(backoff);
      }
    }
  }

  inbox.scrollTop = inbox.scrollHeight;
  pollForever();
})();
