// Instances of classes that extend Array, Map or Set: structured clone
// copies one as the container it extends, its class lost, so it travels as
// a class form (src/_core/forms.ts) that carries its items too, and is
// rebuilt through the container's own constructor (its internal slots come
// from nowhere else).
//
// Tier 1: imports nothing.

const bases = { Array, Map, Set } as const;

/** The container a subclass instance extends, if it is one. */
export function containerBase(value: object): keyof typeof bases | undefined {
  for (const name of ["Array", "Map", "Set"] as const) {
    const base = bases[name];
    if (value instanceof base && value.constructor !== base) return name;
  }
  return undefined;
}

/** An instance of `ctor` with no fields, built as `base` (a container) if named. */
export function emptyInstance(
  ctor: { prototype: object },
  base: unknown,
): object {
  const container = bases[base as keyof typeof bases];
  return container === undefined
    ? Object.create(ctor.prototype)
    : Reflect.construct(container, [], ctor as unknown as new () => object);
}

/** Adds `items` to a container, past any override of its own methods. */
export function fillItems(shell: object, items: unknown[] | undefined): void {
  for (const item of items ?? []) {
    if (shell instanceof Map) {
      Map.prototype.set.call(shell, ...(item as [unknown, unknown]));
    } else if (shell instanceof Set) Set.prototype.add.call(shell, item);
    else Array.prototype.push.call(shell, item);
  }
}
