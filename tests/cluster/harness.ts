// What the cluster tests start and end: a real `nats-server -js` on a free
// loopback port, agents as separate OS processes (each with its own copy of
// the task module under its own root), and a client in a subprocess.
// Everything waits on what the processes print, never on a sleep.

import { ClusterPool } from "../../src/cluster/mod.ts";

const repo = new URL("../../", import.meta.url);
const agentMain = new URL("src/cluster/agent.ts", repo).pathname;
const tasksSource = new URL("./tasks.ts", import.meta.url);

/**
 * Whether `nats-server` is on the PATH. Synchronous: a test module's
 * workers import it again, and a top-level await that runs a subprocess
 * there would stall them.
 */
export function natsServerInstalled(): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/nats-server`).isFile) return true;
    } catch { /* not in this one */ }
  }
  return false;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A child process whose output is read line by line until it ends. */
class Child {
  readonly process: Deno.ChildProcess;
  readonly status: Promise<Deno.CommandStatus>;
  readonly #waiters: { pattern: RegExp; wake: () => void }[] = [];
  output = "";

  constructor(command: Deno.Command) {
    this.process = command.spawn();
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        this.output += text;
        for (const waiter of [...this.#waiters]) {
          if (waiter.pattern.test(this.output)) {
            this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
            waiter.wake();
          }
        }
      }
    };
    const pumped = Promise.all([
      pump(this.process.stdout),
      pump(this.process.stderr),
    ]);
    this.status = pumped.then(() => this.process.status);
  }

  /** Resolves once the output matches; rejects if the process ends first. */
  async seen(pattern: RegExp): Promise<void> {
    if (pattern.test(this.output)) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ pattern, wake: resolve });
    const ended = this.status.then((status) => {
      throw new Error(
        `process ended (code ${status.code}) before printing ${pattern}:\n${this.output}`,
      );
    });
    await Promise.race([promise, ended]);
  }

  /**
   * Sends `signal` (if still running) and waits for the end; a process
   * still running `graceMs` later is killed (SIGKILL), so that no test can
   * hang on it. Tells whether that was needed.
   */
  async end(
    signal: Deno.Signal = "SIGTERM",
    graceMs = kGraceMs,
  ): Promise<{ status: Deno.CommandStatus; killed: boolean }> {
    try {
      this.process.kill(signal);
    } catch { /* already gone */ }
    try {
      await this.process.stdin.close();
    } catch { /* not piped, or already closed */ }
    // A bound, not a synchronisation: past it, the process is stuck.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) =>
      timer = setTimeout(() => resolve("late"), graceMs)
    );
    const ended = await Promise.race([this.process.status, late]);
    clearTimeout(timer);
    if (ended !== "late") return { status: await this.status, killed: false };
    try {
      this.process.kill("SIGKILL");
    } catch { /* ended just now */ }
    return { status: await this.status, killed: true };
  }
}

/** How long a process may take to end after its signal. */
const kGraceMs = 30_000;

/** A `nats-server -js` on 127.0.0.1 with its own store directory. */
export class NatsServer {
  readonly port = freePort();
  readonly url: string;
  readonly #store: string;
  readonly #args: string[];
  #child: Child | undefined;

  private constructor(store: string, args: string[]) {
    this.url = `nats://127.0.0.1:${this.port}`;
    this.#store = store;
    this.#args = args;
  }

  /** Starts a server (extra args: e.g. `--user u --pass p`). */
  static async start(store: string, args: string[] = []): Promise<NatsServer> {
    const server = new NatsServer(store, args);
    await server.restart();
    return server;
  }

  /**
   * Starts it again, on the same port and store, or with its store
   * emptied (a server that lost its disk).
   */
  async restart(options: { emptyStore?: boolean } = {}): Promise<void> {
    if (options.emptyStore) {
      await Deno.remove(this.#store, { recursive: true }).catch(() => {});
    }
    const child = new Child(
      new Deno.Command("nats-server", {
        args: [
          "-js",
          "-a",
          "127.0.0.1",
          "-p",
          String(this.port),
          "-sd",
          this.#store,
          ...this.#args,
        ],
        stdout: "piped",
        stderr: "piped",
      }),
    );
    this.#child = child;
    await child.seen(/Server is ready/);
  }

  /** Kills it at once (for an `unload` handler, which cannot wait). */
  kill(): void {
    try {
      this.#child?.process.kill("SIGKILL");
    } catch { /* already gone */ }
  }

  /**
   * Stops it (its JetStream store stays on disk), or kills it with
   * `signal` "SIGKILL"; kills it if it lingers.
   */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    await this.#child?.end(signal);
    this.#child = undefined;
  }
}

/** Makes a root folder holding a copy of tasks.ts (plus `extra` text). */
export async function makeRoot(parent: string, name: string, extra = "") {
  const root = `${parent}/${name}`;
  await Deno.mkdir(root, { recursive: true });
  const source = await Deno.readTextFile(tasksSource);
  await Deno.writeTextFile(`${root}/tasks.ts`, source + extra);
  return root;
}

/** An agent run as its own OS process by the agent's command line. */
export class AgentProcess {
  readonly #child: Child;

  private constructor(child: Child) {
    this.#child = child;
  }

  /** The agent's OS pid (its pool's workers are threads of it). */
  get pid(): number {
    return this.#child.process.pid;
  }

  /** Everything it printed. */
  get output(): string {
    return this.#child.output;
  }

  /** Sends `signal` and returns at once (see end() to wait for the end). */
  signal(signal: Deno.Signal): void {
    this.#child.process.kill(signal);
  }

  /** Settles once it has printed a line matching `pattern`. */
  seen(pattern: RegExp): Promise<void> {
    return this.#child.seen(pattern);
  }

  /** Starts an agent and waits for its "started" line. */
  static async start(options: {
    server: NatsServer;
    root: string;
    processes?: number;
    cluster?: string;
    /** What it serves, relative to its root. @default {["./tasks.ts"]} */
    modules?: string[];
  }): Promise<AgentProcess> {
    const args = [
      "run",
      "-A",
      agentMain,
      "--servers",
      options.server.url,
      "--processes",
      String(options.processes ?? 2),
      "--root",
      options.root,
      "--cluster",
      options.cluster ?? "default",
      "--stop-on-stdin-eof",
      ...options.modules ?? ["./tasks.ts"],
    ];
    const child = new Child(
      new Deno.Command(Deno.execPath(), {
        args,
        cwd: options.root,
        stdin: "piped", // its end (our end) stops the agent
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }),
    );
    const agent = new AgentProcess(child);
    await child.seen(/agent \S+ started/);
    return agent;
  }

  /**
   * Stops it (SIGTERM: it finishes what it holds) or kills it. Always
   * ends the process; rejects if a SIGTERM did not stop it in time (it
   * was killed), so that an agent whose stop hangs fails the test.
   */
  async end(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    const { status, killed } = await this.#child.end(signal);
    if (killed && signal !== "SIGKILL") {
      throw new Error(
        `agent ${this.pid} did not stop within ${
          kGraceMs / 1000
        }s of ${signal} (killed):\n${this.output}`,
      );
    }
    return status;
  }
}

/**
 * Ends every agent (as {@linkcode AgentProcess.end}), the server and the
 * folder, then rejects if an agent had to be killed: a test's teardown.
 */
export async function endAll(
  agents: (AgentProcess | undefined)[],
  server: NatsServer,
  dir: string,
): Promise<void> {
  const ended = await Promise.allSettled(agents.map((agent) => agent?.end()));
  await server.stop();
  await Deno.remove(dir, { recursive: true });
  const errors = ended.flatMap((result) =>
    result.status === "rejected" ? [result.reason] : []
  );
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new AggregateError(errors, "agents did not stop");
  }
}

/** What {@linkcode withLoneAgent} gives its test. */
export interface LoneAgent {
  dir: string;
  server: NatsServer;
  /** The agent: one process, serving its copy of tasks.ts (host-a/). */
  agent: AgentProcess;
  /** The client's root, with its own copy of tasks.ts. */
  clientRoot: string;
  /** An export of the client's copy of tasks.ts. */
  fn(name: string): URL;
  /** A pool on the agent's cluster, terminated when the test ends. */
  connect(): Promise<ClusterPool>;
}

/**
 * Runs `test` with a temporary folder, a server and one agent on its own
 * cluster, and ends them (and the pools it connected) however it ends.
 * Ending an agent twice is harmless: a test may end it itself.
 */
export async function withLoneAgent(
  options: { cluster: string; extra?: string },
  test: (fixture: LoneAgent) => Promise<void>,
): Promise<void> {
  const { cluster } = options;
  const dir = await Deno.makeTempDir({ prefix: "dmp_cluster_" });
  const server = await NatsServer.start(`${dir}/store`);
  let agent: AgentProcess | undefined;
  const pools: ClusterPool[] = [];
  try {
    const root = await makeRoot(dir, "host-a", options.extra);
    agent = await AgentProcess.start({ server, root, processes: 1, cluster });
    const clientRoot = await makeRoot(dir, "client");
    await test({
      dir,
      server,
      agent,
      clientRoot,
      fn: (name) => new URL(`file://${clientRoot}/tasks.ts#${name}`),
      connect: async () => {
        const pool = await ClusterPool.connect({
          servers: server.url,
          root: clientRoot,
          cluster,
        });
        pools.push(pool);
        return pool;
      },
    });
  } finally {
    for (const pool of pools) await pool[Symbol.asyncDispose]();
    await endAll([agent], server, dir);
  }
}

/** A client program in its own OS process (tests/cluster/client_main.ts). */
export function startClient(args: string[]): Child {
  return new Child(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./client_main.ts", import.meta.url).pathname,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }),
  );
}

/** Resolves once `dir` holds a file whose name matches. */
export async function fileAppears(dir: string, pattern: RegExp): Promise<void> {
  const watcher = Deno.watchFs(dir);
  try {
    const found = async () => {
      for await (const entry of Deno.readDir(dir)) {
        if (pattern.test(entry.name)) return true;
      }
      return false;
    };
    if (await found()) return;
    for await (const _event of watcher) if (await found()) return;
  } finally {
    watcher.close();
  }
}

/** The names in `dir` that match. */
export async function filesMatching(dir: string, pattern: RegExp) {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (pattern.test(entry.name)) names.push(entry.name);
  }
  return names;
}
