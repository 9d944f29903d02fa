import { Chalk, type ChalkInstance } from "chalk";

/** Where a command's results and logs go. stdout carries results only; everything else is stderr. */
export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

/**
 * One per command run. Renderers write results through `result`/`resultJson`; progress, logs and
 * hints go through `log`/`info`/`warn`/`debug` to stderr. Colours only when the stream is a
 * terminal and NO_COLOR is unset (FORCE_COLOR forces them, as in chalk).
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  /** Colours for stdout (results). */
  readonly style: ChalkInstance;
  /** Colours for stderr (logs). */
  readonly logStyle: ChalkInstance;
  readonly isStderrTty: boolean;
  private readonly streams: OutputStreams;

  constructor(streams: OutputStreams, options: OutputOptions) {
    this.streams = streams;
    this.json = options.json;
    this.quiet = options.quiet;
    this.verbose = options.verbose;
    this.style = new Chalk({ level: colourLevel(streams.stdout, streams.env) });
    this.logStyle = new Chalk({ level: colourLevel(streams.stderr, streams.env) });
    this.isStderrTty = Boolean(streams.stderr.isTTY);
  }

  /** A line of human-readable result on stdout. Not used in --json mode. */
  result(text: string): void {
    this.streams.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** A JSON document (or one NDJSON line) on stdout. */
  resultJson(value: unknown, pretty = true): void {
    this.streams.stdout.write(`${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`);
  }

  /** Raw bytes on stdout (dumps). */
  write(chunk: string): boolean {
    return this.streams.stdout.write(chunk);
  }

  get stdout() {
    return this.streams.stdout;
  }

  /** A log line on stderr; silenced by --quiet. */
  log(text: string): void {
    if (!this.quiet) this.streams.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  info(text: string): void {
    this.log(this.logStyle.dim(text));
  }

  /** Warnings are shown even with --quiet: they change what the user should believe. */
  warn(text: string): void {
    this.streams.stderr.write(`${this.logStyle.yellow("warning:")} ${text}\n`);
  }

  error(text: string): void {
    this.streams.stderr.write(`${this.logStyle.red("error:")} ${text}\n`);
  }

  debug(text: string): void {
    if (this.verbose) this.streams.stderr.write(`${this.logStyle.gray(text)}\n`);
  }

  /** Progress that rewrites one stderr line; only on a terminal, never with --quiet or --json. */
  progress(text: string): void {
    if (!this.isStderrTty || this.quiet || this.json) return;
    this.streams.stderr.write(`\r\x1b[2K${this.logStyle.dim(text)}`);
  }

  clearProgress(): void {
    if (!this.isStderrTty || this.quiet || this.json) return;
    this.streams.stderr.write("\r\x1b[2K");
  }
}

function colourLevel(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return 0;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return 1;
  return stream.isTTY ? 1 : 0;
}
