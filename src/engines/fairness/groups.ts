/**
 * Sensitive features → groups. A group is one combination of values of the chosen attributes
 * (their intersection, as Fairlearn does with several sensitive feature columns); only
 * combinations that occur are listed.
 */

/** One value of a sensitive attribute; null or undefined means "not known for this row". */
export type FeatureValue = string | number | boolean | null | undefined;

/**
 * The sensitive features of every row, in one of three shapes:
 * - one attribute, one value per row: `["f", "m", …]` (the attribute is called `group`);
 * - columns, one array per attribute: `{ gender: ["f", …], age_band: ["18-25", …] }`;
 * - rows, one record per row, as the gateway's feedback `groups`: `[{ gender: "f" }, …]`.
 */
export type SensitiveFeatures =
  | ReadonlyArray<string | number | boolean | null | undefined>
  | Readonly<Record<string, ReadonlyArray<FeatureValue>>>
  | ReadonlyArray<Readonly<Record<string, FeatureValue>>>;

/** How rows are split into groups. */
export interface GroupingOptions {
  sensitiveFeatures: SensitiveFeatures;
  /** Attributes to intersect, in this order; default: every attribute given (rows: sorted). */
  attributes?: readonly string[];
  /** Groups with fewer rows are reported with status "insufficient" and left out of every comparison. Default 1. */
  minGroupSize?: number;
}

/** One group: its key, its attribute values and the indexes of its rows. */
export interface Group {
  /** The value itself for one attribute; `attr=value, attr=value` for an intersection. */
  key: string;
  values: Record<string, string>;
  rows: number[];
}

/** The rows split into groups by the chosen attributes. */
export interface Grouping {
  attributes: string[];
  /** Sorted by attribute values. */
  groups: Group[];
  /** Rows with no value for some chosen attribute: in no group, still in `overall`. */
  unassigned: number[];
}

const SINGLE = "group";

function isRecord(x: unknown): x is Record<string, FeatureValue> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The value as a string, null when missing, undefined when of a type a group cannot be named by. */
function cell(v: unknown): string | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/** Reads the features into one accessor per attribute, checking their length against `n`. */
function columns(sf: SensitiveFeatures, n: number, lengthName: string): Map<string, (i: number) => unknown> {
  const cols = new Map<string, (i: number) => unknown>();
  if (sf === undefined || sf === null) throw new RangeError("options.sensitiveFeatures is required");
  if (Array.isArray(sf)) {
    if (sf.length === 0) throw new RangeError("sensitiveFeatures is empty");
    if (sf.length !== n)
      throw new RangeError(`sensitiveFeatures has ${sf.length} rows but ${lengthName} has ${n}`);
    if (sf.some(isRecord)) {
      const rows = sf as ReadonlyArray<unknown>;
      const names = new Set<string>();
      rows.forEach((r, i) => {
        if (!isRecord(r))
          throw new RangeError(`sensitiveFeatures[${i}] must be a record of attribute values`);
        for (const k of Object.keys(r)) names.add(k);
      });
      for (const name of [...names].sort()) cols.set(name, (i) => (rows[i] as Record<string, unknown>)[name]);
    } else {
      cols.set(SINGLE, (i) => sf[i]);
    }
    return cols;
  }
  if (!isRecord(sf)) throw new RangeError("sensitiveFeatures must be an array or a record of columns");
  const entries = Object.entries(sf as Record<string, unknown>);
  if (entries.length === 0) throw new RangeError("sensitiveFeatures has no attribute");
  for (const [name, col] of entries) {
    if (!Array.isArray(col)) throw new RangeError(`sensitiveFeatures.${name} must be an array`);
    if (col.length !== n)
      throw new RangeError(`sensitiveFeatures.${name} has ${col.length} values but ${lengthName} has ${n}`);
    cols.set(name, (i) => col[i]);
  }
  return cols;
}

function compareValues(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Splits rows 0..n-1 into groups. `lengthName` names the labels the features must match. */
export function groupRows(
  sf: SensitiveFeatures,
  n: number,
  attributes: readonly string[] | undefined,
  lengthName: string,
): Grouping {
  const cols = columns(sf, n, lengthName);
  const chosen = attributes ? [...attributes] : [...cols.keys()];
  if (chosen.length === 0)
    throw new RangeError(attributes ? "options.attributes is empty" : "sensitiveFeatures has no attribute");
  if (new Set(chosen).size !== chosen.length) throw new RangeError("options.attributes has duplicates");
  const getters = chosen.map((a) => {
    const get = cols.get(a);
    if (!get)
      throw new RangeError(
        `options.attributes names "${a}", which sensitiveFeatures lacks (has ${[...cols.keys()].join(", ")})`,
      );
    return get;
  });

  const byId = new Map<string, { values: string[]; rows: number[] }>();
  const unassigned: number[] = [];
  for (let i = 0; i < n; i++) {
    const values: string[] = [];
    for (let j = 0; j < getters.length; j++) {
      const raw = getters[j]!(i);
      const v = cell(raw);
      if (v === undefined) {
        const flat = Array.isArray(sf) && !sf.some(isRecord);
        const where = flat ? `sensitiveFeatures[${i}]` : `sensitiveFeatures ${chosen[j]} of row ${i}`;
        throw new RangeError(`${where} must be a string, number or boolean, got ${typeof raw}`);
      }
      if (v === null) break;
      values.push(v);
    }
    if (values.length < getters.length) {
      unassigned.push(i);
      continue;
    }
    const id = JSON.stringify(values);
    const g = byId.get(id);
    if (g) g.rows.push(i);
    else byId.set(id, { values, rows: [i] });
  }

  const groups = [...byId.values()]
    .sort((a, b) => compareValues(a.values, b.values))
    .map(({ values, rows }) => ({
      key: chosen.length === 1 ? values[0]! : chosen.map((a, j) => `${a}=${values[j]}`).join(", "),
      values: Object.fromEntries(chosen.map((a, j) => [a, values[j]!])),
      rows,
    }));
  const keys = new Set(groups.map((g) => g.key));
  if (keys.size !== groups.length) throw new RangeError("sensitiveFeatures: two groups print the same key");
  return { attributes: chosen, groups, unassigned };
}

/**
 * Names groups the AIF360 way: a group key, or a record of attribute values (all must match),
 * or a list of those (any may match). `{ gender: "f" }` selects every intersection with gender f.
 */
export type GroupSelector =
  | string
  | Readonly<Record<string, string>>
  | ReadonlyArray<string | Readonly<Record<string, string>>>;

/** Whether a group matches a selector; `argName` names the selector in errors. */
export function selects(
  selector: GroupSelector,
  group: { key: string; values: Record<string, string> },
  attributes: readonly string[],
  argName: string,
): boolean {
  const alternatives = Array.isArray(selector) ? selector : [selector];
  if (alternatives.length === 0) throw new RangeError(`${argName} is empty`);
  return alternatives.some((alt: string | Readonly<Record<string, string>>) => {
    if (typeof alt === "string") return group.key === alt;
    if (!isRecord(alt)) throw new RangeError(`${argName} must be a group key, a record of values or a list`);
    const entries = Object.entries(alt);
    if (entries.length === 0) throw new RangeError(`${argName} has an empty record`);
    return entries.every(([a, v]) => {
      if (!attributes.includes(a))
        throw new RangeError(
          `${argName} names attribute "${a}", which is not among ${attributes.join(", ")}`,
        );
      return group.values[a] === String(v);
    });
  });
}

/** "ok": compared with the other groups; "insufficient": fewer rows than `minGroupSize`, left out. */
export type GroupStatus = "ok" | "insufficient";

/** A group left out of the comparisons, and why. */
export interface ExcludedGroup {
  key: string;
  n: number;
  reason: string;
}

/** "ok" when a group of `n` rows reaches `minGroupSize`, else "insufficient". */
export function statusOf(n: number, minGroupSize: number): GroupStatus {
  return n >= minGroupSize ? "ok" : "insufficient";
}

/** The groups too small to compare, each with the reason in words. */
export function excludedGroups(groups: readonly Group[], minGroupSize: number): ExcludedGroup[] {
  return groups
    .filter((g) => g.rows.length < minGroupSize)
    .map((g) => ({ key: g.key, n: g.rows.length, reason: `fewer than ${minGroupSize} rows (minGroupSize)` }));
}
