/**
 * Test fixtures for `cfprobe python fetch`: a self-signed CA made with openssl, an HTTPS server
 * holding a certificate for the real Pyodide host name, and a CONNECT proxy that routes that host
 * name to it. Everything listens on 127.0.0.1; nothing reaches the internet.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const PYODIDE_HOST = "pyodide-capnp-bin.edgeworker.net";

export interface TestCa {
  dir: string;
  /** PEM of the CA certificate, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  key: string;
  cert: string;
  remove(): void;
}

/** A CA and a server certificate for `hosts`, made with openssl for this test run. */
export function makeTestCa(hosts: string[] = [PYODIDE_HOST]): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), "cfprobe-test-ca-"));
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=cfprobe test CA",
  );
  openssl("req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${hosts[0]}`);
  writeFileSync(at("ext.cnf"), `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(",")}\n`);
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
  return {
    dir,
    caFile: at("ca.pem"),
    key: readFileSync(at("server.key"), "utf8"),
    cert: readFileSync(at("server.pem"), "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** What the HTTPS server does for one path. */
export type Route =
  | { kind: "ok"; body: Buffer }
  /** Announces the whole length, sends half, then closes the connection. */
  | { kind: "cut"; body: Buffer }
  /** Announces the whole length, sends half, then sends nothing more (until the server closes). */
  | { kind: "stall"; body: Buffer }
  | { kind: "status"; status: number };

export interface TestHttpsServer {
  port: number;
  routes: Map<string, Route>;
  requests: string[];
  close(): Promise<void>;
}

export async function startHttpsServer(ca: TestCa): Promise<TestHttpsServer> {
  const routes = new Map<string, Route>();
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = https.createServer({ key: ca.key, cert: ca.cert }, (request, response) => {
    const url = request.url ?? "/";
    requests.push(url);
    const route = routes.get(url);
    if (!route) {
      response.writeHead(404).end("not found");
    } else if (route.kind === "status") {
      response.writeHead(route.status).end(`status ${route.status}`);
    } else if (route.kind === "ok") {
      response.writeHead(200, { "content-length": route.body.length }).end(route.body);
    } else {
      response.writeHead(200, { "content-length": route.body.length });
      response.write(route.body.subarray(0, Math.floor(route.body.length / 2)), () => {
        if (route.kind === "cut") setTimeout(() => request.socket.destroy(), 50);
      });
    }
  });
  server.on("secureConnection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    routes,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface TestProxy {
  port: number;
  /** host:port of every CONNECT, in order. */
  connects: string[];
  close(): Promise<void>;
}

/**
 * A CONNECT proxy: tunnels `routes` host names to local ports, answers 502 for anything else, and
 * with `credentials` demands them (407 otherwise), as corporate proxies do.
 */
export async function startConnectProxy(options: {
  routes: Record<string, number>;
  credentials?: { user: string; password: string };
}): Promise<TestProxy> {
  const connects: string[] = [];
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server = http.createServer((_request, response) => response.writeHead(405).end());
  server.on("connection", track);
  server.on("connect", (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const authority = request.url ?? "";
    connects.push(authority);
    client.on("error", () => {});
    if (options.credentials) {
      const expected = `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString("base64")}`;
      if (request.headers["proxy-authorization"] !== expected) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
    }
    const host = authority.replace(/:\d+$/, "");
    const port = options.routes[host];
    if (port === undefined) {
      client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const upstream = net.connect({ host: "127.0.0.1", port }, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connects,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
