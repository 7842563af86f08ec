/*
 * Spine procedure assistant: chat widget for Rasa's socketio channel.
 *
 * Embed with one tag (widget.css and socket.io.min.js are loaded from the same
 * folder as this file):
 *
 *   <script src="https://clinic.example/chat/widget.js"
 *           data-server-url="https://assistant.clinic.example"
 *           data-title="Questions about your procedure?"></script>
 *
 * Options (data-* attributes of that tag):
 *   data-server-url   the Rasa server (default: this file's host, port 5005)
 *   data-title        the chat window's title
 *   data-greeting     the first message shown in a new conversation
 *   data-open         "true": the chat window starts open
 *   data-socket-path  the Socket.IO path of the Rasa server (default /socket.io/)
 *
 * Safety: message content only ever reaches the page as text (textContent,
 * createTextNode); links are made clickable only when they are http(s) URLs.
 * The widget lives in a shadow root, so the page's CSS and the widget's CSS
 * do not affect each other.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) {
    return; // needs a classic <script src=...> tag, not a module or inline script
  }
  if (document.getElementById("spine-chat")) {
    return; // already on the page
  }

  var scriptUrl = new URL(script.src, document.baseURI);
  var data = script.dataset;
  var options = {
    serverUrl: data.serverUrl || scriptUrl.protocol + "//" + scriptUrl.hostname + ":5005",
    title: data.title || "Questions about your procedure?",
    greeting:
      data.greeting ||
      "Hello! I answer questions about the spine procedure you are going to have: " +
        "how to prepare, what happens, the risks, the recovery and more. " +
        "For example: \u201cWhat are the risks of a discogram?\u201d",
    open: data.open === "true",
    socketPath: data.socketPath || "/socket.io/",
  };

  var USER = "user";
  var BOT = "bot";
  var MAX_STORED = 200;
  var REPLY_TIMEOUT_MS = 30000;
  var STORAGE_KEY = "spine-chat:" + options.serverUrl;

  // ---------- conversation state, kept for the browser session (tab) ----------

  var state = loadState();

  function loadState() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
      if (saved && Array.isArray(saved.messages)) {
        return {
          sessionId: typeof saved.sessionId === "string" ? saved.sessionId : null,
          messages: saved.messages.filter(isStoredMessage),
          open: saved.open === true,
        };
      }
    } catch (error) {
      // unreadable or no sessionStorage: start afresh
    }
    return { sessionId: null, messages: [], open: false };
  }

  function isStoredMessage(message) {
    return message && (message.from === USER || message.from === BOT) && typeof message.text === "string";
  }

  function saveState() {
    state.messages = state.messages.slice(-MAX_STORED);
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (error) {
      // storage full or disabled: the conversation just won't survive a reload
    }
  }

  // ---------- DOM helpers: text only, never HTML ----------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function safeHttpUrl(candidate) {
    try {
      var url = new URL(candidate);
      return url.protocol === "http:" || url.protocol === "https:" ? url : null;
    } catch (error) {
      return null;
    }
  }

  // Markdown links [label](url) and bare http(s) URLs.
  var LINK = /\[([^\]\n]+)\]\(([^)\s]+)\)|\bhttps?:\/\/[^\s<>"']+/gi;

  function appendInline(parent, text) {
    var last = 0;
    var match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(text)) !== null) {
      var whole = match[0];
      var label = match[1];
      var href = match[2];
      var trailing = "";
      if (label === undefined) {
        // a bare URL: leave trailing punctuation out of the link
        var cut = whole.match(/[.,;:!?)\]]+$/);
        if (cut) {
          trailing = cut[0];
          whole = whole.slice(0, -trailing.length);
        }
        href = label = whole;
      }
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var url = safeHttpUrl(href);
      if (url) {
        var link = el("a", "spc-link", label);
        link.href = url.href;
        link.target = "_blank";
        link.rel = "noopener noreferrer nofollow";
        parent.appendChild(link);
      } else {
        parent.appendChild(document.createTextNode(match[0].slice(0, whole.length)));
      }
      if (trailing) parent.appendChild(document.createTextNode(trailing));
      last = match.index + match[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // The bot's text uses "\n" line breaks and "• " / "1. " lines: one block per line.
  // A list line's marker ("• ", "1. ") is kept, in a column of its own so that
  // the item's wrapped lines align.
  var LIST_MARKER = /^\s*(?:[\u2022\-*]|\d+[.)])\s+/;

  function appendText(parent, text) {
    text.split("\n").forEach(function (line) {
      var block = el("p", "spc-line");
      var marker = line.match(LIST_MARKER);
      if (!line.trim()) {
        block.className += " spc-blank";
      } else if (marker) {
        block.className += /\d/.test(marker[0]) ? " spc-list-item spc-numbered" : " spc-list-item";
        block.appendChild(el("span", "spc-marker", marker[0].trim() + " "));
        var item = el("span", "spc-item");
        appendInline(item, line.slice(marker[0].length));
        block.appendChild(item);
      } else {
        appendInline(block, line);
      }
      parent.appendChild(block);
    });
  }

  // ---------- the widget ----------

  var host = el("div");
  host.id = "spine-chat";
  host.hidden = true; // shown once its stylesheet has loaded
  var root = host.attachShadow({ mode: "open" });

  var stylesheet = el("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = new URL("widget.css", scriptUrl).href;
  root.appendChild(stylesheet);

  var launcher = el("button", "spc-launcher", options.title);
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "spc-panel");

  var panel = el("section", "spc-panel");
  panel.id = "spc-panel";
  panel.setAttribute("aria-label", options.title);
  panel.hidden = true;

  var header = el("header", "spc-header");
  var title = el("h2", "spc-title", options.title);
  var closeButton = el("button", "spc-close", "\u00d7");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close the chat");
  header.appendChild(title);
  header.appendChild(closeButton);

  var status = el("div", "spc-status");
  status.setAttribute("role", "alert");
  status.hidden = true;

  var log = el("ol", "spc-messages");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0; // scrollable with the keyboard

  var typing = el("div", "spc-typing");
  typing.hidden = true;
  typing.appendChild(el("span", "spc-visually-hidden", "The assistant is typing"));
  var dots = el("span", "spc-dots");
  dots.setAttribute("aria-hidden", "true");
  for (var i = 0; i < 3; i++) dots.appendChild(el("span", "spc-dot"));
  typing.appendChild(dots);

  var form = el("form", "spc-form");
  var input = el("input", "spc-input");
  input.id = "spc-input";
  input.type = "text";
  input.maxLength = 1000;
  input.autocomplete = "off";
  input.placeholder = "Type your question\u2026";
  var inputLabel = el("label", "spc-visually-hidden", "Your question");
  inputLabel.htmlFor = "spc-input";
  var sendButton = el("button", "spc-send", "Send");
  sendButton.type = "submit";
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendButton);

  // Screen readers announce what is added here: each new bot message.
  var announcer = el("div", "spc-visually-hidden spc-announcer");
  announcer.setAttribute("aria-live", "polite");
  announcer.setAttribute("aria-atomic", "false");

  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  panel.appendChild(announcer);
  root.appendChild(launcher);
  root.appendChild(panel);

  function announce(text) {
    var item = el("p", null, text);
    announcer.appendChild(item);
    while (announcer.childNodes.length > 3) announcer.removeChild(announcer.firstChild);
  }

  function setOpen(open, moveFocus) {
    state.open = open;
    saveState();
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    host.classList.toggle("spc-is-open", open);
    if (open) {
      scrollToEnd();
      if (moveFocus) input.focus();
    } else if (moveFocus) {
      launcher.focus();
    }
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  // A new bot message: show its start (long answers are read from the top).
  function scrollToMessage(item) {
    var top = item.offsetTop - 8;
    log.scrollTop = item.offsetHeight > log.clientHeight ? top : log.scrollHeight;
  }

  function renderMessage(message, offerButtons) {
    var item = el("li", "spc-message spc-from-" + message.from);
    item.appendChild(
      el("span", "spc-visually-hidden", message.from === USER ? "You said: " : "Assistant: ")
    );
    var bubble = el("div", "spc-bubble");
    if (message.text) appendText(bubble, message.text);
    if (message.image) {
      var url = safeHttpUrl(message.image);
      if (url) {
        var image = el("img", "spc-image");
        image.alt = "Image from the assistant";
        image.src = url.href;
        bubble.appendChild(image);
      }
    }
    item.appendChild(bubble);
    if (offerButtons && message.from === BOT && message.buttons && message.buttons.length) {
      item.appendChild(renderQuickReplies(message.buttons));
    }
    log.appendChild(item);
    return item;
  }

  function renderQuickReplies(buttons) {
    var group = el("div", "spc-quick-replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Suggested replies");
    buttons.forEach(function (choice) {
      var button = el("button", "spc-quick-reply", choice.title);
      button.type = "button";
      button.addEventListener("click", function () {
        // The buttons go once pressed: keep the keyboard (and a screen reader's
        // focus) in the chat, on the question box, instead of losing it to the page.
        if (send(choice.payload, choice.title)) input.focus();
      });
      group.appendChild(button);
    });
    return group;
  }

  function removeQuickReplies() {
    var groups = log.querySelectorAll(".spc-quick-replies");
    for (var j = 0; j < groups.length; j++) groups[j].remove();
  }

  function renderAll() {
    log.textContent = "";
    renderMessage({ from: BOT, text: options.greeting }, false); // not stored
    // Buttons stay offered until the patient says something.
    var lastUser = -1;
    state.messages.forEach(function (message, index) {
      if (message.from === USER) lastUser = index;
    });
    state.messages.forEach(function (message, index) {
      renderMessage(message, index > lastUser);
    });
    scrollToEnd();
  }

  function addMessage(message) {
    if (message.from === USER) removeQuickReplies();
    state.messages.push(message);
    saveState();
    var item = renderMessage(message, true);
    if (message.from === BOT) {
      scrollToMessage(item);
      announce("Assistant: " + (message.text || "sent an image"));
    } else {
      scrollToEnd();
    }
  }

  // ---------- connection to the Rasa server ----------

  var socket = null;
  var ready = false; // connected and the session confirmed
  var unreachable = false;
  var pending = []; // messages typed before the session was confirmed
  var replyTimer = null;

  var UNREACHABLE =
    "Cannot reach the assistant right now. Trying to reconnect\u2026 " +
    "Messages cannot be sent until it is back.";

  function setUnreachable(value) {
    if (value === unreachable) return;
    unreachable = value;
    status.hidden = !value;
    status.textContent = value ? UNREACHABLE : "";
    // Not `disabled`: the button stays focusable and a press says why nothing is sent.
    sendButton.setAttribute("aria-disabled", String(value));
    if (value) {
      setTyping(false);
    } else {
      announce("The assistant is reachable again.");
    }
  }

  function setTyping(on) {
    typing.hidden = !on;
    clearTimeout(replyTimer);
    if (on) {
      scrollToEnd();
      replyTimer = setTimeout(function () {
        typing.hidden = true;
      }, REPLY_TIMEOUT_MS);
    }
  }

  function send(payload, shownText) {
    if (unreachable) {
      // say it again (role="alert" announces a change of content)
      status.textContent = "";
      setTimeout(function () {
        if (unreachable) status.textContent = UNREACHABLE;
      }, 100);
      return false;
    }
    addMessage({ from: USER, text: shownText });
    var message = { message: payload, session_id: state.sessionId };
    if (ready) socket.emit("user_uttered", message);
    else pending.push(payload);
    setTyping(true);
    return true;
  }

  function onBotMessage(message) {
    if (!message || typeof message !== "object") return;
    var text = typeof message.text === "string" ? message.text : "";
    var choices = Array.isArray(message.quick_replies) ? message.quick_replies : message.buttons;
    var buttons = (Array.isArray(choices) ? choices : [])
      .filter(function (choice) {
        return choice && choice.title !== undefined && choice.payload !== undefined;
      })
      .map(function (choice) {
        return { title: String(choice.title), payload: String(choice.payload) };
      });
    var attachment = message.attachment;
    var src = attachment && attachment.type === "image" && attachment.payload && attachment.payload.src;
    var image = typeof src === "string" && safeHttpUrl(src) ? src : undefined; // http(s) only
    if (!text && !buttons.length && !image) return;
    setTyping(false);
    addMessage({ from: BOT, text: text, buttons: buttons, image: image });
  }

  function connect() {
    // Keep a page's own `io` global (if it has one) as it was.
    var pagesIo = window.io;
    var client = el("script");
    client.src = new URL("socket.io.min.js", scriptUrl).href;
    client.async = true;
    client.onload = function () {
      var io = window.io;
      if (pagesIo !== undefined) window.io = pagesIo;
      startSocket(io);
    };
    client.onerror = function () {
      setUnreachable(true);
    };
    document.head.appendChild(client);
  }

  function startSocket(io) {
    socket = io(options.serverUrl, {
      path: options.socketPath,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 10000,
    });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      if (typeof sessionId !== "string" || !sessionId) return;
      state.sessionId = sessionId;
      saveState();
      ready = true;
      setUnreachable(false);
      pending.splice(0).forEach(function (payload) {
        socket.emit("user_uttered", { message: payload, session_id: state.sessionId });
      });
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("connect_error", function () {
      ready = false;
      setUnreachable(true);
      if (!socket.active) {
        // refused by the server rather than unreachable: try again later
        setTimeout(function () {
          socket.connect();
        }, 5000);
      }
    });
    socket.on("disconnect", function (reason) {
      ready = false;
      setUnreachable(true);
      if (reason === "io server disconnect") socket.connect();
    });
  }

  // ---------- events ----------

  launcher.addEventListener("click", function () {
    setOpen(true, true);
  });
  closeButton.addEventListener("click", function () {
    setOpen(false, true);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setOpen(false, true);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    if (send(text, text)) input.value = "";
  });

  stylesheet.addEventListener("load", function () {
    host.hidden = false;
    scrollToEnd(); // now that there is a layout
  });
  stylesheet.addEventListener("error", function () {
    host.hidden = false;
  });

  function mount() {
    renderAll();
    document.body.appendChild(host);
    setOpen(state.open || options.open, false);
    connect();
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
