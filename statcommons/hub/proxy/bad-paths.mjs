// Loaded into configurable-http-proxy before it starts (node --import): a request whose path
// is not valid percent-encoding (such as /%ff) is answered 400 Bad Request.
//
// The proxy decodes every path to find its route, and an invalid escape made it throw and
// answer 500 (configurable-http-proxy 5.3.0, lib/configproxy.js targetForReq).
import { ConfigurableProxy } from "configurable-http-proxy/lib/configproxy.js";

const handleProxy = ConfigurableProxy.prototype.handleProxy;

function validPath(url) {
  try {
    decodeURIComponent(new URL(url, "http://example.com").pathname);
    return true;
  } catch {
    return false;
  }
}

ConfigurableProxy.prototype.handleProxy = function (kind, req, res, ...rest) {
  if (validPath(req.url)) {
    return handleProxy.call(this, kind, req, res, ...rest);
  }
  const body = JSON.stringify({ status: 400, message: "the request's path is not valid percent-encoding" });
  if (kind === "web") {
    res.writeHead(400, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  } else {
    res.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"); // a websocket upgrade: res is the socket
  }
  return Promise.resolve();
};
