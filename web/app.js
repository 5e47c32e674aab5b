// The page's controller: wires the form, the conversation list and the chat turns together.
import { Api, ApiError, loadConfig } from "./api.js";
import { AssistantMessage, actionCard, userMessage } from "./render.js";
import { StreamClient } from "./stream.js";

const $ = (id) => document.getElementById(id);
const state = { api: null, stream: null, conversationId: null, busy: false };

function showBanner(message) {
  $("banner").textContent = message;
  $("banner").hidden = !message;
}

const card = (action) => actionCard(action, (it, verb) => state.api.decide(it.id, verb));

function setBusy(busy) {
  state.busy = busy;
  $("send").disabled = busy;
  $("log").setAttribute("aria-busy", String(busy));
}

function markCurrent() {
  for (const button of $("conversations").querySelectorAll("button")) {
    if (button.dataset.id === state.conversationId) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

function conversationItem(summary) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "conversation";
  button.dataset.id = summary.conversation_id;
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = summary.title;
  const time = document.createElement("time");
  time.dateTime = summary.updated_at;
  time.textContent = new Date(summary.updated_at).toLocaleString();
  button.append(title, time);
  button.addEventListener("click", () => openConversation(summary.conversation_id));
  const item = document.createElement("li");
  item.append(button);
  return item;
}

async function refreshConversations() {
  const status = $("conversations-status");
  try {
    const { conversations } = await state.api.conversations();
    $("conversations").replaceChildren(...conversations.map(conversationItem));
    status.classList.remove("error");
    status.textContent = conversations.length ? "" : "No conversations yet.";
    markCurrent();
  } catch (error) {
    status.classList.add("error");
    status.textContent = error.message;
  }
}

async function openConversation(id) {
  if (state.busy) return;
  try {
    const { messages } = await state.api.conversation(id);
    state.conversationId = id;
    const log = $("log");
    log.replaceChildren();
    for (const message of messages) {
      if (message.role === "user") {
        log.append(userMessage(message.text));
      } else {
        const answer = new AssistantMessage();
        answer.finish(message, card);
        log.append(answer.element);
      }
    }
    showBanner("");
    markCurrent();
    $("message").focus();
  } catch (error) {
    showBanner(error.message);
  }
}

function newConversation() {
  state.conversationId = null;
  $("log").replaceChildren();
  markCurrent();
  $("message").focus();
}

/** One turn over the socket; POST /chat when no socket can be opened. */
async function chatTurn(request, answer) {
  const socket = state.stream ? await state.stream.connect() : null;
  if (!socket) return state.api.chat(request);
  return state.stream.chat(socket, request, {
    onDelta: (text) => answer.append(text),
    onRestart: () => answer.restart(),
  });
}

async function ask(text) {
  setBusy(true);
  const log = $("log");
  log.querySelector(".empty")?.remove();
  log.append(userMessage(text));
  const answer = new AssistantMessage();
  log.append(answer.element);
  answer.element.scrollIntoView({ block: "end" });
  const request = { message: text, conversation_id: state.conversationId, filters: {}, confidential: false };
  try {
    const response = await chatTurn(request, answer);
    state.conversationId = response.conversation_id;
    answer.finish(response, card);
    showBanner("");
    refreshConversations();
  } catch (error) {
    answer.fail(error instanceof ApiError ? error : new ApiError("server", `Unexpected error: ${error}`));
  } finally {
    setBusy(false);
    answer.element.scrollIntoView({ block: "end" });
  }
}

function wire() {
  const message = $("message");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = message.value.trim();
    if (!text || state.busy || !state.api) return;
    message.value = "";
    ask(text);
  });
  message.addEventListener("keydown", (event) => {
    // Enter sends, except while an input method composes (Japanese input confirms with Enter).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("new-conversation").addEventListener("click", newConversation);
}

async function start() {
  wire();
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    showBanner(error.message);
    $("send").disabled = true;
    return;
  }
  state.api = new Api(config);
  state.stream = config.streamUrl ? new StreamClient(config.streamUrl) : null;
  await refreshConversations();
  document.body.dataset.ready = "true";
}

start();
