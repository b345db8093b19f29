// The notebook widget (anywidget): the same page, driven by the kernel. Requests and
// frames travel as the widget's messages ({view, id, path, body} out; {view, id,
// data|error} and {session, frame} back) instead of HTTP and server-sent events: no
// server, no port, no iframe.
//
// Every view (each time the widget is displayed) is a mount of its own, with its own
// client: the replies carry the view's name, so one view never takes another's. The views
// of one widget share its session (its key is the model's `_session`): they show one
// model, and a frame is drawn by each view listening to that session.
import { ServerDown } from "./client.js";
import { mount } from "./main.js";

let views = 0; // names the views made in this page

function widgetClient(model) {
  const view = `${Date.now().toString(36)}-${++views}-${Math.random().toString(36).slice(2, 8)}`;
  let next = 0;
  const waiting = new Map();
  let onFrame = null;
  let listening = null;
  const receive = (msg) => {
    if (msg.frame !== undefined) {
      if (onFrame && msg.session === listening) onFrame(JSON.parse(msg.frame));
      return;
    }
    const done = msg.view === view && waiting.get(msg.id);
    if (!done) return; // another view's answer
    waiting.delete(msg.id);
    if (msg.error !== undefined) done.reject(msg.gone ? new ServerDown() : new Error(msg.error));
    else done.resolve(msg.data);
  };
  model.on("msg:custom", receive);
  const client = {
    request(path, body) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        model.send({ view, id, path, body: body === undefined ? null : body });
      });
    },
    listen(session, callback) {
      onFrame = callback;
      listening = session;
      model.send({ view, id: 0, path: "listen", body: { session } });
    },
    close() {
      onFrame = null;
      listening = null;
      model.send({ view, id: 0, path: "unlisten", body: {} });
    },
    dispose() {
      client.close();
      model.off("msg:custom", receive);
    },
    get down() { return false; },
  };
  return () => client;
}

export default {
  render({ model, el }) {
    el.classList.add("cr-pg");
    el.innerHTML = model.get("_html");
    const store = {
      get: () => model.get("_session"),
      set: (key) => {
        if (model.get("_session") === key) return;
        model.set("_session", key);
        model.save_changes();
      },
    };
    const pg = mount(el, widgetClient(model), { widget: true, settings: model.get("settings"), store });
    return () => pg.dispose(); // the view removed: its listeners go, its stream stops
  },
};
