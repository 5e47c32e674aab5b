// The streaming client: chat turns over kass's WebSocket protocol (docs/api/streaming.md).
import { ApiError, errorFor } from "./api.js";

// A socket that neither opens nor fails by then is treated as unavailable (POST /chat instead).
const CONNECT_TIMEOUT_MS = 5000;

export class StreamClient {
  constructor(url) {
    this.url = url;
    this.socket = null;
    this.turns = new Map(); // request_id -> {onDelta, onRestart, resolve, reject}
    this.counter = 0;
  }

  /** An open socket, or null when none can be opened (the caller falls back to REST). */
  connect() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    return new Promise((resolve) => {
      let socket;
      try {
        socket = new WebSocket(this.url);
      } catch {
        resolve(null);
        return;
      }
      const timer = setTimeout(() => {
        socket.close();
        resolve(null);
      }, CONNECT_TIMEOUT_MS);
      socket.addEventListener("open", () => {
        clearTimeout(timer);
        this.attach(socket);
        resolve(socket);
      }, { once: true });
      // A refused or rejected handshake: error, then close; the promise settles once.
      for (const type of ["error", "close"]) {
        socket.addEventListener(type, () => {
          clearTimeout(timer);
          resolve(null);
        }, { once: true });
      }
    });
  }

  attach(socket) {
    this.socket = socket;
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.socket = null;
      this.failAll(new ApiError("unreachable", "The connection closed before the answer was complete; ask again."));
    });
  }

  /**
   * One chat turn on an open socket. `handlers.onDelta(text)` appends, `handlers.onRestart(tier)`
   * discards the text so far. Resolves with the ChatResponse; rejects with an ApiError.
   */
  chat(socket, request, handlers) {
    this.counter += 1;
    const requestId = `c${this.counter}`;
    return new Promise((resolve, reject) => {
      this.turns.set(requestId, { ...handlers, resolve, reject });
      socket.send(JSON.stringify({ action: "chat", request_id: requestId, ...request }));
    });
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return; // not ours to read
    }
    if (frame.type === "error" && frame.request_id == null) {
      // The server could not read a frame (not JSON, too large): only ours are in flight.
      this.failAll(errorFor(frame.status || 400, frame.message || frame.error));
      return;
    }
    const turn = this.turns.get(frame.request_id);
    if (!turn) return; // a pong, or a turn already given up
    if (frame.type === "delta") turn.onDelta(frame.text);
    else if (frame.type === "restart") turn.onRestart(frame.tier);
    else if (frame.type === "done") {
      this.turns.delete(frame.request_id);
      turn.resolve(frame.response);
    } else if (frame.type === "error") {
      this.turns.delete(frame.request_id);
      turn.reject(errorFor(frame.status || 500, frame.message || frame.error));
    }
  }

  failAll(error) {
    for (const turn of this.turns.values()) turn.reject(error);
    this.turns.clear();
  }
}
