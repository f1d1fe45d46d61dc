// Connecting to NATS with the user's auth and TLS options, and making sure
// the cluster's stream and shared consumer exist (whoever comes first
// creates them; both calls are idempotent).
//
// Tier 8: the cluster export only.

import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";
import {
  AckPolicy,
  DiscardPolicy,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { kAckWaitMs, kTaskMaxAgeMs, type Names } from "./_protocol.ts";
import { checkClientCertificate } from "./_tls.ts";

/** How to reach and log into the NATS server (passed through to nats.js). */
export interface NatsOptions {
  /** Server URLs, as `nats://host:4222` or `host:4222`. */
  servers: string | string[];
  /** Token authentication. */
  token?: string;
  /** User name (with `pass`). */
  user?: string;
  /** Password (with `user`). */
  pass?: string;
  /** A NATS `.creds` file (JWT and NKey seed). */
  credsFile?: string;
  /** TLS: CA, client certificate and key files. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** Options of `ClusterPool.connect`. */
export interface ClusterPoolOptions extends NatsOptions {
  /** The cluster whose agents run the tasks. @default {"default"} */
  cluster?: string;
  /** Where module paths are taken relative to. @default {the folder of the nearest deno.json, else the cwd} */
  root?: string;
  /**
   * The most tasks (chunks) of this pool submitted and not yet answered,
   * queued or running: its share of the cluster. @default {256}
   */
  maxPending?: number;
}

/** The keys of {@linkcode NatsOptions}, for closed option objects. */
export const kNatsKeys = [
  "servers",
  "token",
  "user",
  "pass",
  "credsFile",
  "tls",
] as const;

// The options, of the client's and the agent's, that hold one string.
const kStringKeys = ["token", "user", "pass", "credsFile", "root"];
const kTlsKeys = ["caFile", "certFile", "keyFile"];

function checkTls(tls: unknown, what: string): void {
  if (tls === undefined) return;
  const files = tls as Record<string, unknown>;
  if (
    typeof tls !== "object" || tls === null || Array.isArray(tls) ||
    Object.keys(files).some((key) =>
      !kTlsKeys.includes(key) || typeof files[key] !== "string"
    )
  ) {
    throw new TypeError(
      `Cannot ${what} as 'tls' must be an object of file paths (${
        kTlsKeys.join(", ")
      }): current value is ${Deno.inspect(tls)}`,
    );
  }
}

/**
 * Rejects unknown keys, options of the wrong type and a missing `servers`
 * (options objects are closed).
 *
 * @throws {TypeError} An unknown key, a value of the wrong type, or no
 * servers.
 */
export function checkOptions(
  options: unknown,
  keys: readonly string[],
  what: string,
): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${what} as 'options' must be an object: current value is ${
        Deno.inspect(options)
      }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!keys.includes(key)) {
      throw new TypeError(
        `Cannot ${what} as 'options' must not have the key '${key}': current value is ${
          Deno.inspect(options)
        }`,
      );
    }
  }
  // Passed through to nats.js, which would stall on a number for a token
  // and fail later, or far away, on a root or TLS file that is no string.
  const record = options as Record<string, unknown>;
  for (const key of kStringKeys) {
    const value = record[key];
    if (value !== undefined && typeof value !== "string") {
      throw new TypeError(
        `Cannot ${what} as '${key}' must be a string: current value is ${
          Deno.inspect(value)
        }`,
      );
    }
  }
  checkTls(record.tls, what);
  if ((record.user === undefined) !== (record.pass === undefined)) {
    const [given, missing] = record.user === undefined
      ? ["pass", "user"]
      : ["user", "pass"];
    throw new TypeError(
      `Cannot ${what} as '${given}' must come with '${missing}': current value of '${missing}' is undefined`,
    );
  }
  const servers = (options as NatsOptions).servers;
  const list = Array.isArray(servers) ? servers : [servers];
  if (list.length === 0 || list.some((s) => typeof s !== "string" || !s)) {
    throw new TypeError(
      `Cannot ${what} as 'servers' must be a server URL or a list of them: current value is ${
        Deno.inspect(servers)
      }`,
    );
  }
}

// A refused login makes connect() reject, and then the socket may still
// raise ECONNRESET outside any promise we hold, which would end the whole
// program (measured with nats.js 3.4 under Deno 2.9); so may a refused TLS
// handshake (an ERR_SSL_… alert, see _tls.ts). A refused or broken
// connection is reported through connect() and closed(); this listener
// keeps the stray socket error from killing the host program.
let guardInstalled = false;
function guardSocketResets(): void {
  if (guardInstalled) return;
  guardInstalled = true;
  const isReset = (value: unknown) => {
    const code = (value as { code?: unknown } | null)?.code;
    return code === "ECONNRESET" ||
      (typeof code === "string" && /^ERR_(SSL|TLS)_/.test(code));
  };
  globalThis.addEventListener("error", (event) => {
    if (isReset(event.error)) event.preventDefault();
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    if (isReset(event.reason)) event.preventDefault();
  });
}

/**
 * Connects with the given options; reconnects forever after a lost server.
 *
 * @param client `name`: the client's name as the server shows it; `what`:
 * the operation, for errors.
 */
export async function open(
  options: NatsOptions,
  { name, what }: { name: string; what: string },
): Promise<NatsConnection> {
  guardSocketResets();
  const config: NodeConnectionOptions = {
    servers: options.servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    // Else every request (each task's publish) builds two errors up front
    // for their stack traces, in case it fails.
    noAsyncTraces: true,
  };
  if (options.token !== undefined) config.token = options.token;
  if (options.user !== undefined) config.user = options.user;
  if (options.pass !== undefined) config.pass = options.pass;
  if (options.credsFile !== undefined) {
    config.authenticator = credsAuthenticator(
      await Deno.readFile(options.credsFile),
    );
  }
  if (options.tls !== undefined) config.tls = { ...options.tls };
  await checkClientCertificate(
    Array.isArray(options.servers) ? options.servers : [options.servers],
    options.tls,
    what,
  );
  return await connect(config);
}

/** How often restoreStream() asks a server that does not answer yet. */
const kRestoreEveryMs = 250;

/** Creates the cluster's work-queue stream and shared consumer if absent. */
export async function ensureStream(
  nc: NatsConnection,
  names: Names,
): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(names.stream);
  } catch {
    try {
      await jsm.streams.add({
        name: names.stream,
        subjects: [names.tasks],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: kTaskMaxAgeMs * 1_000_000,
      });
    } catch (error) {
      // Another agent or client created it first.
      await jsm.streams.info(names.stream).catch(() => {
        throw error;
      });
    }
  }
  try {
    await jsm.consumers.info(names.stream, names.consumer);
  } catch {
    try {
      await jsm.consumers.add(names.stream, {
        durable_name: names.consumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: kAckWaitMs * 1_000_000,
        max_deliver: -1,
        max_ack_pending: -1,
        filter_subject: names.tasks,
      });
    } catch (error) {
      await jsm.consumers.info(names.stream, names.consumer).catch(() => {
        throw error;
      });
    }
  }
  return jsm;
}

/**
 * After a reconnect: makes sure the stream and consumer exist again (a
 * server restarted without its store has neither, and every publish and
 * pull would fail until they do), asking until the server answers or the
 * connection closes.
 */
async function restoreStream(
  nc: NatsConnection,
  names: Names,
): Promise<void> {
  while (!nc.isClosed()) {
    try {
      await ensureStream(nc, names);
      return;
    } catch {
      // JetStream not ready yet on a server that just started.
      await new Promise((resolve) => setTimeout(resolve, kRestoreEveryMs));
    }
  }
}

/**
 * Calls `then` after each reconnect of `nc`, once the stream and consumer
 * exist again (see restoreStream()); ends when the connection closes.
 */
export async function afterReconnects(
  nc: NatsConnection,
  names: Names,
  then: () => void,
): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type !== "reconnect") continue;
    await restoreStream(nc, names);
    then();
  }
}
