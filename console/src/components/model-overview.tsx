import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import type { Client } from "../../../src/client/index.ts";
import { type Loaded, messageOf, useApi } from "../api.tsx";
import { Async, Table } from "./ui.tsx";

/** A model with its latest item of one kind (rollout, experiment), or why it could not be read. */
export interface OverviewRow<T> {
  model: string;
  item: T | null;
  error: string | null;
}

/**
 * Every registered model with its latest item: a model whose read fails keeps its row with
 * the error instead of failing the page. Active items first, then the most recently started
 * (an item with no start, a monitor, keeps the registry's order).
 */
export function useModelOverview<T extends object>(
  latest: (c: Client, model: string) => Promise<T | null>,
  isActive: (item: T | null) => boolean,
  everyMs: number,
) {
  const startedAt = (item: T | null) =>
    item && "startedAt" in item && typeof item.startedAt === "string" ? item.startedAt : "";
  return useApi(
    async (c) => {
      const models = await c.models.list({ limit: 200 });
      const rows = await Promise.all(
        models.items.map(async (m): Promise<OverviewRow<T>> => {
          try {
            return { model: m.name, item: await latest(c, m.name), error: null };
          } catch (err) {
            return { model: m.name, item: null, error: messageOf(err) };
          }
        }),
      );
      return rows.sort(
        (a, b) =>
          Number(isActive(b.item)) - Number(isActive(a.item)) ||
          startedAt(b.item).localeCompare(startedAt(a.item)),
      );
    },
    [],
    everyMs,
  );
}

/**
 * The overview table: the model (linked to its page) first, then the item's cells, or across
 * them the row's error or `none`. With no item and no error anywhere, `emptyHint` instead.
 */
export function ModelOverviewTable<T>({
  state,
  label,
  head,
  linkTo,
  none,
  emptyHint,
  cells,
}: {
  state: Loaded<OverviewRow<T>[]>;
  label: string;
  /** The column heads after "Model". */
  head: string[];
  linkTo: (model: string) => string;
  none: string;
  emptyHint: ReactNode;
  cells: (item: T) => ReactNode;
}) {
  return (
    <Async state={state} empty={(d) => (d.every((r) => !r.item && !r.error) ? emptyHint : null)}>
      {(d) => (
        <Table label={label} head={["Model", ...head]}>
          {d.map(({ model, item, error }) => (
            <tr key={model}>
              <td>
                <Link to={linkTo(model)}>
                  <strong>{model}</strong>
                </Link>
              </td>
              {error ? (
                <td colSpan={head.length} className="small re-bad-text">
                  {error}
                </td>
              ) : !item ? (
                <td colSpan={head.length} className="muted">
                  {none}
                </td>
              ) : (
                cells(item)
              )}
            </tr>
          ))}
        </Table>
      )}
    </Async>
  );
}
