// The playground's transport: the JSON requests to the Python server and its stream of
// frames (server-sent events). The page talks to a `client`: `request(path, body)`,
// `listen(onFrame)`, `close()`; a notebook widget can give the page another one.

const RETRY_MS = 2000;

// one HTTP client per page: session key, event stream, reconnection after a server stop
export function httpClient(handlers) {
  let events = null;
  let onFrame = null;
  let down = false;

  async function request(path, body) {
    let response;
    try {
      response = await fetch(path, {
        method: body === undefined ? "GET" : "POST",
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      serverDown();
      throw new ServerDown();
    }
    const data = await response.json().catch(() => ({ error: response.statusText }));
    if (data.gone) { // the server restarted (or is stopping): a new session is made
      serverDown();
      throw new ServerDown();
    }
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function listen(session, callback) {
    onFrame = callback;
    if (events) events.close();
    events = new EventSource(`/api/session/${session}/events`);
    events.onmessage = (e) => {
      if (down) serverUp();
      onFrame(JSON.parse(e.data));
    };
    // the browser retries a dropped stream by itself; a refused one (the session is
    // gone: the server restarted) is closed, and the page makes a new session
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED || !down) serverDown();
    };
  }

  function close() {
    if (events) events.close();
    events = null;
  }

  // one banner, and a poll until the server answers again
  function serverDown() {
    if (down) return;
    down = true;
    handlers.down();
    const poll = async () => {
      try {
        const r = await fetch("/api/meta");
        if (r.ok) return serverUp();
      } catch (err) { /* still down */ }
      setTimeout(poll, RETRY_MS);
    };
    setTimeout(poll, RETRY_MS);
  }

  function serverUp() {
    if (!down) return;
    down = false;
    handlers.up();
  }

  return { request, listen, close, get down() { return down; } };
}

export class ServerDown extends Error {
  constructor() {
    super("the server is not answering");
  }
}
