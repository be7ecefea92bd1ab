// The browser side of the chat: one WebSocket, a form to post, an inbox.
"use strict";

(function () {
    const inbox = document.getElementById("inbox");
    const form = document.getElementById("messageform");
    const input = document.getElementById("message");
    const status = document.getElementById("status");
    let socket = null;
    let retryDelay = 500;

    function connect() {
        const scheme = location.protocol === "https:" ? "wss:" : "ws:";
        socket = new WebSocket(scheme + "//" + location.host + "/chatsocket");
        socket.onopen = function () {
            status.textContent = "connected";
            retryDelay = 500;
        };
        socket.onmessage = function (event) {
            show(JSON.parse(event.data));
        };
        socket.onclose = function () {
            // Reconnect with a growing delay, e.g. after a server restart.
            status.textContent = "disconnected; reconnecting…";
            setTimeout(connect, retryDelay);
            retryDelay = Math.min(retryDelay * 2, 10000);
        };
    }

    function show(message) {
        if (document.getElementById("m" + message.id)) {
            return;
        }
        const holder = document.createElement("div");
        holder.innerHTML = message.html;  // rendered and escaped by the server
        const node = holder.firstElementChild;
        node.style.opacity = "0";
        inbox.appendChild(node);
        requestAnimationFrame(function () {
            node.style.opacity = "1";
        });
        inbox.scrollTop = inbox.scrollHeight;
    }

    form.addEventListener("submit", function (event) {
        event.preventDefault();
        const body = input.value.trim();
        if (body && socket && socket.readyState === WebSocket.OPEN) {
            socket.send(JSON.stringify({body: body}));
            input.value = "";
        }
    });

    connect();
})();
