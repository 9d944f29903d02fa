import net from "node:net";

/**
 * Loopback CONNECT proxies for tests, one per way a corporate proxy behaves:
 * - `working`: tunnels every CONNECT (to `route(host, port)`, so real host names reach a local server);
 * - `auth`: like working, but answers 407 unless Proxy-Authorization carries `credentials`;
 * - `hanging`: accepts the connection and never answers;
 * `refusingProxyUrl()` gives a proxy URL where nothing listens (connection refused).
 */
export type ProxyMode = "working" | "auth" | "hanging";

export interface TestProxy {
  url: string;
  port: number;
  /** Every CONNECT target received, e.g. "pyodide-capnp-bin.edgeworker.net:443". */
  connects: string[];
  close(): Promise<void>;
}

export interface ProxyOptions {
  mode: ProxyMode;
  /** Where a tunnel to host:port really goes (default: host:port itself). */
  route?: (host: string, port: number) => { host: string; port: number };
  /** "user:password" the `auth` proxy accepts. */
  credentials?: string;
}

export async function startTestProxy(options: ProxyOptions): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  const connects: string[] = [];
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    if (options.mode === "hanging") return;
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onData);
      const [requestLine = "", ...headerLines] = head.slice(0, end).split("\r\n");
      const [method, target = ""] = requestLine.split(" ");
      if (method !== "CONNECT") {
        client.end("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      connects.push(target);
      const auth = headerLines
        .find((line) => line.toLowerCase().startsWith("proxy-authorization:"))
        ?.slice("proxy-authorization:".length)
        .trim();
      const expected = `Basic ${Buffer.from(options.credentials ?? "").toString("base64")}`;
      if (options.mode === "auth" && auth !== expected) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
      const colon = target.lastIndexOf(":");
      const requested = { host: target.slice(0, colon), port: Number(target.slice(colon + 1)) };
      const destination = options.route?.(requested.host, requested.port) ?? requested;
      const upstream = net.connect(destination, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        const rest = Buffer.from(head.slice(end + 4), "latin1");
        if (rest.length) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      upstream.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"));
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  const userinfo = options.credentials ? `${options.credentials}@` : "";
  return {
    url: `http://${userinfo}127.0.0.1:${port}`,
    port,
    connects,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A proxy URL on a loopback port where nothing listens: connecting is refused. */
export async function refusingProxyUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Accepts every connection and never answers: what a blackholing firewall looks like from here.
 * close() drops the accepted sockets and stops listening.
 */
export async function startSilentListener(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
