import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

/** Where Debian, Alpine, Fedora/RHEL and SUSE keep the system's trusted roots in one file. */
const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/ssl/cert.pem",
];

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * The roots workerd trusts: the system store (Node 20 cannot read it directly) plus
 * NODE_EXTRA_CA_CERTS. Undefined when no system bundle exists, so that Node's own store applies.
 */
export function systemTrust(env: NodeJS.ProcessEnv): { ca?: string[]; source: string } {
  for (const file of SYSTEM_BUNDLES) {
    const text = readOrUndefined(file);
    if (text === undefined) continue;
    const extra = env.NODE_EXTRA_CA_CERTS
      ? certificatesIn(readOrUndefined(env.NODE_EXTRA_CA_CERTS) ?? "")
      : [];
    return {
      ca: [...certificatesIn(text), ...extra],
      source: extra.length ? `${file} + NODE_EXTRA_CA_CERTS` : file,
    };
  }
  return { source: "Node's bundled roots" };
}

export interface ExtraCaReport {
  status: "unset" | "ok" | "unreadable" | "has-private-key" | "no-certificates" | "invalid-certificate";
  file?: string;
  certificates: number;
  /** PEM block types other than CERTIFICATE, e.g. "PRIVATE KEY". */
  otherBlocks: string[];
  detail: string;
}

/**
 * NODE_EXTRA_CA_CERTS must be a readable file of certificates only: workerd reads it too and dies
 * when it holds a private key; Node merely warns and ignores the whole file when it is unreadable.
 */
export function inspectExtraCaCerts(env: NodeJS.ProcessEnv): ExtraCaReport {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return { status: "unset", certificates: 0, otherBlocks: [], detail: "not set" };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    return { status: "unreadable", file, certificates: 0, otherBlocks: [], detail: `${file}: ${code}` };
  }
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const certificates = blocks.filter((block) => block[1] === "CERTIFICATE").map((block) => block[0]);
  const otherBlocks = [
    ...new Set(blocks.map((block) => block[1] ?? "").filter((type) => type !== "CERTIFICATE")),
  ];
  if (otherBlocks.some((type) => type.includes("PRIVATE KEY"))) {
    return {
      status: "has-private-key",
      file,
      certificates: certificates.length,
      otherBlocks,
      detail: `${file} holds a ${otherBlocks.find((type) => type.includes("PRIVATE KEY"))} besides ${certificates.length} certificate(s)`,
    };
  }
  if (certificates.length === 0) {
    return {
      status: "no-certificates",
      file,
      certificates: 0,
      otherBlocks,
      detail: `${file} holds no PEM certificate`,
    };
  }
  for (const pem of certificates) {
    try {
      new X509Certificate(pem);
    } catch {
      return {
        status: "invalid-certificate",
        file,
        certificates: certificates.length,
        otherBlocks,
        detail: `${file} holds a certificate that does not parse`,
      };
    }
  }
  return {
    status: "ok",
    file,
    certificates: certificates.length,
    otherBlocks,
    detail: `${file}: ${certificates.length} certificate(s)`,
  };
}

function certificatesIn(text: string): string[] {
  return [...text.matchAll(PEM_BLOCK)].filter((block) => block[1] === "CERTIFICATE").map((block) => block[0]);
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
