// The standalone page: the playground over HTTP, in the whole document.
import { httpClient } from "./client.js";
import { mount } from "./main.js";

mount(document, httpClient);
