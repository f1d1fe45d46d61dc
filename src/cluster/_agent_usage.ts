// The agent command line's help text and flags (./agent.ts).
//
// Tier 8: the cluster export only.

import { parseArgs } from "node:util";

/** What `deno task agent --help` prints. */
export const kUsage = `Usage: deno run -A agent.ts [options] module...

Serves the exports of the given modules (paths relative to --root) to the
clients of a cluster, on a local pool. Logs a line on start, stop and each
redelivered task. SIGINT/SIGTERM: finish the tasks it holds, then exit; a
second one exits at once (those tasks come back to another agent).

Options:
  --servers URL        a NATS server (repeatable; default nats://127.0.0.1:4222)
  --processes N        local worker processes (default: cpuCount())
  --cluster NAME       the cluster to serve (default: default)
  --root DIR           where module paths resolve (default: nearest deno.json)
  --token T | --user U --pass P | --creds FILE    NATS authentication
  --tls-ca FILE --tls-cert FILE --tls-key FILE     TLS
  --start-method M     spawn (default) or subprocess
  --stop-on-stdin-eof  stop when stdin closes (for a supervising parent)
  --help               show this help`;

/** The command line's flags, parsed. */
export function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      servers: { type: "string", multiple: true },
      processes: { type: "string" },
      cluster: { type: "string" },
      root: { type: "string" },
      token: { type: "string" },
      user: { type: "string" },
      pass: { type: "string" },
      creds: { type: "string" },
      "tls-ca": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "start-method": { type: "string" },
      "stop-on-stdin-eof": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
}
