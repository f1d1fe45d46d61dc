// The cluster group of `deno task bench:compare`: @dmp/multiprocessing/cluster against the raw JetStream
// floor with the same delivery guarantee, in the same run, by
// bench/compare/cluster_workloads.ts (3 agents × 4 processes on one
// nats-server). Once per bench:compare run, with no load beside (the
// cluster's own processes are load enough on a small machine); skipped,
// with one line, where nats-server is not installed.

import { fileURLToPath as fromFileUrl } from "node:url";
import { probe } from "./_bench_env.ts";
import type { CompareConfig } from "./_compare_report.ts";
import {
  formatMs,
  median,
  renderMarkdownTable,
  renderTerminalTable,
  type Table,
} from "./_bench_format.ts";

const root = fromFileUrl(new URL("../", import.meta.url));
const compareDir = fromFileUrl(new URL("../bench/compare/", import.meta.url));

const kClusterRows = [
  {
    id: "round_trip",
    title: "cluster: one apply round trip (no-op), 3 agents × 4 processes",
  },
  {
    id: "tiny_items",
    title: "cluster: map of 2 000 tiny items (default chunks; floor: 48)",
  },
  {
    id: "tiny_chunks",
    title: "cluster: map of 2 000 tiny items in the floor's 48 chunks",
  },
  {
    id: "sleeps",
    title:
      "cluster: map of 600 × 10 ms sleeps on 3 × 4 processes (ideal 500 ms)",
  },
] as const;

/** The cluster group's outcome: samples in ms per row, or why it is absent. */
export interface ClusterGroup {
  status: "ok" | "skipped" | "failed";
  notice?: string;
  results: Record<string, { cluster: number[]; floor?: number[] }>;
}

export async function runClusterGroup(
  config: CompareConfig,
  quick: boolean,
  timeoutSeconds: number,
): Promise<ClusterGroup> {
  if (await probe("nats-server", ["--version"]) === null) {
    const notice =
      "nats-server is not installed (apt-get install -y nats-server)";
    console.error(`bench:compare: skipping the cluster group: ${notice}`);
    return { status: "skipped", notice, results: {} };
  }
  const json = JSON.stringify({
    repeat: config.repeat,
    trips: quick ? 100 : 200,
  });
  const args = ["run", "-A", `${compareDir}cluster_workloads.ts`, json];
  console.error(
    `bench:compare: cluster: deno ${args.slice(0, -1).join(" ")} …`,
  );
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: root,
      stdout: "piped",
      stderr: "inherit",
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    }).output();
    const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
    if (!output.success) throw new Error(`exited with code ${output.code}`);
    return { status: "ok", results: JSON.parse(lines.at(-1)!).results };
  } catch (error) {
    const notice = `failed: ${(error as Error).message}`;
    console.error(`bench:compare: cluster group ${notice}`);
    return { status: "failed", notice, results: {} };
  }
}

/** The cluster group's table: medians, and the cluster against the floor. */
function clusterTable(group: ClusterGroup): Table {
  const rows = kClusterRows.filter((row) => group.results[row.id]).map(
    (row) => {
      const { cluster, floor } = group.results[row.id];
      const ours = median(cluster);
      const raw = floor === undefined ? undefined : median(floor);
      return [
        row.title,
        formatMs(ours),
        raw === undefined ? "—" : formatMs(raw),
        raw === undefined ? "—" : `${(ours / raw).toFixed(2)}× the floor`,
      ];
    },
  );
  return {
    headers: [
      "cluster workload",
      "@dmp/multiprocessing/cluster",
      "raw JetStream floor",
      "cluster vs floor",
    ],
    rows,
    align: ["left", "right", "right", "right"],
  };
}

/** The cluster group as text: its table, or the line saying why not. */
export function renderCluster(group: ClusterGroup, markdown: boolean): string {
  const title =
    "Cluster (NATS JetStream), against the raw floor in the same run";
  if (group.status !== "ok") {
    return markdown
      ? `\n## ${title}\n\nNot run: ${group.notice}.\n`
      : `\n${title}: not run: ${group.notice}.`;
  }
  const table = clusterTable(group);
  return markdown
    ? `\n## ${title}\n\n${renderMarkdownTable(table)}\n`
    : `\n${title}:\n${renderTerminalTable(table)}`;
}
