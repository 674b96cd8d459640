import { describe, expect, it } from "vitest";
import { LruMap } from "../../../functions/cache/lru-map.js";

describe("LruMap", () => {
  it("keeps at most its capacity, dropping the entry least recently read or stored", () => {
    const map = new LruMap<string, number>(2);
    map.set("a", 1);
    map.set("b", 2);
    expect(map.get("a")).toBe(1);
    map.set("c", 3);
    expect([map.get("a"), map.get("b"), map.get("c"), map.size]).toEqual([1, undefined, 3, 2]);
    map.set("a", 10);
    map.set("d", 4);
    expect([map.get("a"), map.get("c"), map.get("d")]).toEqual([10, undefined, 4]);
  });

  it("tells a stored undefined from an absent key only by size, and deletes", () => {
    const map = new LruMap<string, number | undefined>(1);
    map.set("a", undefined);
    expect([map.get("a"), map.size]).toEqual([undefined, 1]);
    map.delete("a");
    expect(map.size).toBe(0);
  });

  it("refuses a capacity that is not a positive integer", () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) expect(() => new LruMap(capacity)).toThrow(RangeError);
  });
});
