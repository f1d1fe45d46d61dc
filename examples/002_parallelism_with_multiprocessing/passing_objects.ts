// Document 002, "Common Gotchas: Passing Objects": only module-level
// functions can travel to a worker. CPython pickles them by name and may
// fail on a method; here an exported function works and a method is
// refused up front with an error that says how to fix it.
import { Pool } from "@dmp/multiprocessing";

// This works
export function myFunc(x: number): number {
  return x * 2;
}

// This fails: a method cannot travel to another process
export class MyClass {
  method(x: number): number {
    return x * 2;
  }
}

if (import.meta.main) {
  await using pool = new Pool(2);
  console.log(`myFunc: [${(await pool.map(myFunc, [1, 2, 3])).join(", ")}]`);
  try {
    await pool.map(new MyClass().method, [1, 2, 3]);
  } catch (error) {
    console.log(
      `MyClass.method: ${(error as Error).name}: ${(error as Error).message}`,
    );
  }
}
