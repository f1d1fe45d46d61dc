// An agent's claims on the cluster's work queue, by hand on one
// subscription: pull requests of one task each (so that the server deals
// a burst of tasks round the free processes of every agent, as before),
// the claimed messages' acks, and the "no responders" answer that tells
// the agent a client is gone.
//
// Why not nats.js's `consumer.next()`: it makes a subscription, a pull
// request and an unsubscription per task, three socket writes; on a busy
// 2-core host the agent then spent more time writing to its socket than
// running the task (measured with V8's profiler: a quarter of the agent's
// main thread in send()). Here a task costs its pull request, written in
// the same flush as the result before it.
//
// Tier 8: the cluster export only.

import {
  createInbox,
  type Msg,
  type NatsConnection,
} from "@nats-io/transport-node";

const kAck = new TextEncoder().encode("+ACK");
const kNak = new TextEncoder().encode("-NAK");
const kTerm = new TextEncoder().encode("+TERM");
const kWorking = new TextEncoder().encode("+WPI");

/** How long a pull request waits on the server for a task. */
const kPullExpiresMs = 10_000;
/** A pull request unanswered this long after its expiry was lost. */
const kPullLostMs = 2_000;
const kPullBody = new TextEncoder().encode(
  JSON.stringify({ batch: 1, expires: kPullExpiresMs * 1_000_000 }),
);

/** A task message this agent holds until it is acked (by the client). */
export class Claim {
  /** The encoded task. */
  readonly data: Uint8Array;
  /** The JetStream ack subject of the message. */
  readonly ackSubject: string;
  /** How many times JetStream has delivered it (1 the first time). */
  readonly deliveryCount: number;
  readonly #nc: NatsConnection;

  constructor(nc: NatsConnection, msg: Msg) {
    this.#nc = nc;
    this.data = msg.data;
    this.ackSubject = msg.reply ?? "";
    this.deliveryCount = deliveryCount(this.ackSubject);
  }

  /** Done: JetStream forgets the task. */
  ack(): void {
    this.#send(kAck);
  }

  /** Not taken: JetStream gives it to an agent again at once. */
  nak(): void {
    this.#send(kNak);
  }

  /** Never to run (nobody can take its result): JetStream drops it. */
  term(): void {
    this.#send(kTerm);
  }

  /** Still held: restarts the ack wait. */
  working(): void {
    this.#send(kWorking);
  }

  #send(what: Uint8Array): void {
    try {
      this.#nc.publish(this.ackSubject, what);
    } catch { /* disconnected: JetStream redelivers after the ack wait */ }
  }
}

/**
 * The delivery count in an ack subject: `$JS.ACK.<stream>.<consumer>.<n>…`
 * (9 tokens), or with a domain and account hash before the stream (12).
 */
function deliveryCount(ackSubject: string): number {
  const tokens = ackSubject.split(".");
  const at = tokens.length === 9 ? 4 : 6;
  const n = Number.parseInt(tokens[at], 10);
  return Number.isSafeInteger(n) && n > 0 ? n : 1;
}

interface Sent {
  claim: Claim;
  client: string;
}

/** An agent's pull requests and their answers. */
export class Claimer {
  readonly #nc: NatsConnection;
  readonly #next: string;
  readonly #inbox = createInbox();
  readonly #onClaim: (claim: Claim) => void;
  readonly #onGone: (claim: Claim, client: string) => void;
  // Pull requests on the server: reply token → when it is deemed lost.
  readonly #pulls = new Map<string, number>();
  // Results sent with a reply subject: token → the task and its client,
  // for a "no responders" answer (kept until the next sweep but one).
  #sent = new Map<string, Sent>();
  #aging = new Map<string, Sent>();
  #seq = 0;
  #wanted = 0;
  #stopped = false;

  /**
   * @param onClaim Receives each claimed task.
   * @param onGone Told the task of a result nobody listened for.
   */
  constructor(
    nc: NatsConnection,
    next: string,
    onClaim: (claim: Claim) => void,
    onGone: (claim: Claim, client: string) => void,
  ) {
    this.#nc = nc;
    this.#next = next;
    this.#onClaim = onClaim;
    this.#onGone = onGone;
    nc.subscribe(`${this.#inbox}.>`, {
      callback: (_error, msg) => this.#answer(msg),
    });
  }

  /** Asks for tasks until `wanted` pull requests are on the server. */
  fill(wanted: number): void {
    this.#wanted = wanted;
    this.flush();
  }

  /** Tops the pull requests on the server up to the last fill()'s count. */
  flush(): void {
    const wanted = this.#wanted;
    if (this.#stopped || this.#nc.isClosed()) return;
    const lost = Date.now() + kPullExpiresMs + kPullLostMs;
    while (this.#pulls.size < wanted) {
      const token = `p${this.#seq++}`;
      try {
        this.#nc.publish(this.#next, kPullBody, {
          reply: `${this.#inbox}.${token}`,
        });
      } catch {
        return; // disconnected: forget() and the next fill ask again
      }
      this.#pulls.set(token, lost);
    }
  }

  /** The reply subject of a result, for the server's "no responders". */
  replyFor(claim: Claim, client: string): string {
    const token = `r${this.#seq++}`;
    this.#sent.set(token, { claim, client });
    return `${this.#inbox}.${token}`;
  }

  /**
   * Forgets pull requests the server no longer holds: every one after a
   * reconnect (`all`), else those long past their expiry. Also drops the
   * results old enough that no "no responders" can still come for them.
   */
  forget(all: boolean): void {
    const now = Date.now();
    for (const [token, lost] of this.#pulls) {
      if (all || lost < now) this.#pulls.delete(token);
    }
    this.#aging = this.#sent;
    this.#sent = new Map();
  }

  /** Asks for no more; a task that still comes is given back. */
  stop(): void {
    this.#stopped = true;
  }

  // One pull request answered: `token`'s, else the oldest.
  #settle(token: string): void {
    if (this.#pulls.delete(token)) return;
    for (const oldest of this.#pulls.keys()) {
      this.#pulls.delete(oldest);
      return;
    }
  }

  #answer(msg: Msg): void {
    const prefix = `${this.#inbox}.`;
    const token = msg.subject.startsWith(prefix)
      ? msg.subject.slice(prefix.length)
      : "";
    if (token.startsWith("r")) {
      // Only the server answers here: 503, nobody listened for the result.
      const sent = this.#sent.get(token) ?? this.#aging.get(token);
      this.#sent.delete(token);
      this.#aging.delete(token);
      if (sent !== undefined && msg.headers?.code === 503) {
        this.#onGone(sent.claim, sent.client);
      }
      return;
    }
    if (!msg.reply) {
      // A status, not a task (tasks come with their ack subject): 408, the
      // pull expired (ask again now); 409, refused (the consumer is gone,
      // or has too many waiting pulls: the agent's next beat asks again).
      const code = msg.headers?.code;
      if (code === 408 || code === 409) this.#settle(token);
      if (code === 408) this.flush();
      return;
    }
    // A task comes with its stream subject, not the pull's reply subject:
    // it answers one of the pulls, all alike, so the oldest goes.
    this.#settle("");
    const claim = new Claim(this.#nc, msg);
    if (this.#stopped) claim.nak();
    else this.#onClaim(claim);
  }
}
