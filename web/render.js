// DOM building for messages. Model and document text only ever becomes text nodes
// (textContent), never markup: an answer quoting `<script>` shows it, it does not run it.

const SOURCES = { gitlab: "GitLab", slack: "Slack", backlog: "Backlog" };
const MARKER = /\[(\d+)\]/g;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** Only http(s) links become clickable: a `javascript:` or `file:` link must not. */
export function safeLink(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function citationLink(citation, label) {
  const href = safeLink(citation.link);
  if (!href) return el("span", { class: "cite-text", title: citation.location }, label);
  return el("a", { href, target: "_blank", rel: "noopener noreferrer", title: citation.title }, label);
}

/** The answer text with each `[n]` marker a link to `citations[n-1]` (when that exists). */
export function answerText(text, citations) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(MARKER)) {
    const citation = citations[Number(match[1]) - 1];
    if (!citation) continue;
    fragment.append(text.slice(last, match.index));
    const marker = citationLink(citation, match[0]);
    marker.classList.add("cite");
    fragment.append(marker);
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

export function sourceBadge(source) {
  const known = SOURCES[source];
  return el("span", { class: `badge badge-${known ? source : "other"}` }, known || source || "other");
}

function sourcesList(citations) {
  const list = el("ol", { class: "sources", "aria-label": "Sources" });
  for (const citation of citations) {
    const item = el("li", { value: String(citation.n) }, sourceBadge(citation.source), " ");
    const href = safeLink(citation.link);
    if (href) item.append(citationLink(citation, citation.title || citation.location));
    else item.append(el("span", {}, citation.title), " ", el("span", { class: "location" }, citation.location));
    list.append(item);
  }
  return list;
}

/** "tier · $cost · cached": the model and what the turn spent, discreetly. */
function metaLine(tier, costUsd, cached) {
  const parts = [tier || "unknown tier"];
  if (costUsd != null) parts.push(`$${costUsd}`);
  if (cached) parts.push("cached");
  return el("p", { class: "meta", "aria-label": `Answered by ${parts.join(", ")}` }, parts.join(" · "));
}

export function userMessage(text) {
  return el("article", { class: "msg user", "aria-label": "You" }, el("p", { class: "text" }, text));
}

/** An assistant message: streamed text first, then the final answer (or an error). */
export class AssistantMessage {
  constructor() {
    this.text = el("p", { class: "text" });
    this.element = el("article", { class: "msg assistant", "aria-label": "kass", "aria-busy": "true" }, this.text);
  }

  append(delta) {
    this.text.append(delta);
  }

  restart() {
    this.text.replaceChildren();
  }

  /** The final answer (a ChatResponse, or a stored Message of the history). */
  finish(answer, actionCard) {
    this.element.setAttribute("aria-busy", "false");
    const citations = answer.citations || [];
    this.text.replaceChildren(answerText(answer.text, citations));
    if (citations.length) this.element.append(sourcesList(citations));
    for (const action of answer.actions || []) this.element.append(actionCard(action));
    const cost = answer.usage ? answer.usage.cost_usd : answer.cost_usd;
    this.element.append(metaLine(answer.tier, cost, answer.cached));
  }

  fail(error) {
    this.element.setAttribute("aria-busy", "false");
    this.element.classList.add("failed");
    this.element.append(el("p", { class: "error", role: "alert" }, error.message));
  }
}

/** The outcome line; a created ticket's key links to it (when its URL is http(s)). */
function outcomeText(outcome) {
  const result = outcome.action.result || {};
  const href = safeLink(result.url);
  if (outcome.action.status !== "executed" || !result.key || !href) return outcome.message;
  return el("span", {}, "Done: ", el("a", { href, target: "_blank", rel: "noopener noreferrer" }, result.key));
}

/**
 * A proposed action's card: its preview and Confirm / Cancel. `decide(action, verb)` resolves
 * with the ActionResponse or rejects with an ApiError.
 */
export function actionCard(action, decide) {
  const status = el("p", { class: "action-status", role: "status" });
  const confirm = el("button", { type: "button", class: "confirm" }, "Confirm");
  const cancel = el("button", { type: "button", class: "cancel" }, "Cancel");
  const buttons = el("div", { class: "action-buttons" }, confirm, cancel);
  const expires = new Date(action.expires_at);
  const card = el(
    "section",
    { class: "action", "aria-label": "Proposed action" },
    el("p", { class: "action-preview" }, action.preview),
    el("p", { class: "muted" }, `Nothing happens until you confirm (before ${expires.toLocaleString()}).`),
    buttons,
    status,
  );
  const run = async (verb) => {
    card.setAttribute("aria-busy", "true");
    confirm.disabled = cancel.disabled = true;
    status.classList.remove("error");
    status.textContent = verb === "confirm" ? "Confirming…" : "Cancelling…";
    try {
      const outcome = await decide(action, verb);
      buttons.remove();
      status.replaceChildren(outcomeText(outcome));
      card.classList.add(outcome.action.status);
      // The buttons are gone: keep keyboard users on the card's result, not at the page's top.
      status.setAttribute("tabindex", "-1");
      status.focus();
    } catch (error) {
      confirm.disabled = cancel.disabled = false;
      status.classList.add("error");
      status.textContent = error.message;
    } finally {
      card.setAttribute("aria-busy", "false");
    }
  };
  confirm.addEventListener("click", () => run("confirm"));
  cancel.addEventListener("click", () => run("cancel"));
  return card;
}
