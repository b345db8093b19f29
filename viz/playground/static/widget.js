// The notebook widget (anywidget): the same page, driven by the kernel. Requests and
// frames travel as the widget's messages ({id, path, body} out; {id, data|error} and
// {frame} back) instead of HTTP and server-sent events: no server, no port, no iframe.
import { ServerDown } from "./client.js";
import { mount } from "./main.js";

function widgetClient(model) {
  let next = 0;
  const waiting = new Map();
  let onFrame = null;
  model.on("msg:custom", (msg) => {
    if (msg.frame !== undefined) {
      if (onFrame) onFrame(JSON.parse(msg.frame));
      return;
    }
    const done = waiting.get(msg.id);
    if (!done) return;
    waiting.delete(msg.id);
    if (msg.error !== undefined) done.reject(msg.gone ? new ServerDown() : new Error(msg.error));
    else done.resolve(msg.data);
  });
  return () => ({
    request(path, body) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        model.send({ id, path, body: body === undefined ? null : body });
      });
    },
    listen(session, callback) {
      onFrame = callback;
      model.send({ id: 0, path: "listen", body: { session } });
    },
    close() {
      onFrame = null;
    },
    get down() { return false; },
  });
}

export default {
  render({ model, el }) {
    el.classList.add("cr-pg");
    el.innerHTML = model.get("_html");
    mount(el, widgetClient(model), { widget: true, settings: model.get("settings") });
  },
};
