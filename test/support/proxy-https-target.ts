import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

/**
 * A loopback HTTPS server with a throw-away self-signed certificate for `hostname`, the far end of
 * a test proxy's tunnel. `ca` is the certificate to trust; `status` answers every request.
 */
export interface HttpsTarget {
  port: number;
  ca: string;
  requests: string[];
  close(): Promise<void>;
}

export async function startHttpsTarget(hostname: string, status = 200): Promise<HttpsTarget> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cfprobe-tls-"));
  try {
    await execa("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${hostname}`,
      "-addext",
      `subjectAltName=DNS:${hostname}`,
      "-keyout",
      path.join(dir, "key.pem"),
      "-out",
      path.join(dir, "cert.pem"),
    ]);
    const key = readFileSync(path.join(dir, "key.pem"), "utf8");
    const cert = readFileSync(path.join(dir, "cert.pem"), "utf8");
    const requests: string[] = [];
    const sockets = new Set<net.Socket>();
    const server = https.createServer({ key, cert }, (req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(status, { "content-length": "0" }).end();
    });
    server.on("connection", (socket: net.Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
      port,
      ca: cert,
      requests,
      close: () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
