// A calling module that passes function values, not URLs: one imported
// from tasks.ts and one of its own, exported. With this folder as the
// client's root, they travel as "tasks.ts#square" and "calls.ts#cube".

import type { ClusterPool } from "../../src/cluster/mod.ts";
import { square } from "./tasks.ts";

/** The cube of `x`. */
export function cube(x: number): number {
  return x * x * x;
}

/** Squares and cubes through the pool, passing the functions themselves. */
export async function squaresAndCubes(
  pool: ClusterPool,
  xs: number[],
): Promise<[number[], number[]]> {
  return [await pool.map(square, xs), await pool.map(cube, xs)];
}

/** A class of a module no agent serves: its instances cannot run there. */
export class Elsewhere {
  constructor(readonly x = 1) {}
}
