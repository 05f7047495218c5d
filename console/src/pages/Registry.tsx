import { Link, useSearchParams } from "react-router-dom";
import { useApi } from "../api.tsx";
import { Async, Badge, PageHeader, Table, Time } from "../components/ui.tsx";

const STATUSES = ["development", "canary", "production", "deprecated", "retired"] as const;
const PROVIDERS = ["openai", "openai-compatible", "anthropic", "simulator"];

/** The registry: every model, searchable and filtered by use case, status, owner and provider (all in the URL). */
export function RegistryPage() {
  const [params, setParams] = useSearchParams();
  const filter = {
    q: params.get("q") ?? "",
    useCase: params.get("useCase") ?? "",
    status: params.get("status") ?? "",
    owner: params.get("owner") ?? "",
    provider: params.get("provider") ?? "",
  };
  // The URL is hand-editable: a status that is none of the statuses filters nothing.
  const status = STATUSES.find((s) => s === filter.status);
  const models = useApi((c) => c.models.list({ ...filter, status, limit: 200 }), [params.toString()]);
  const set = (k: keyof typeof filter, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const any = Object.values(filter).some(Boolean);
  return (
    <>
      <PageHeader title="Registry" sub="Every registered model, its production version and its aliases." />
      <search>
        <form className="filters" aria-label="Filter models" onSubmit={(e) => e.preventDefault()}>
          <label>
            Search
            <input
              type="search"
              value={filter.q}
              placeholder="name, description, tag"
              onChange={(e) => set("q", e.target.value)}
            />
          </label>
          <label>
            Use case
            <input
              value={filter.useCase}
              placeholder="customer-support"
              onChange={(e) => set("useCase", e.target.value)}
            />
          </label>
          <label>
            Status
            <select value={filter.status} onChange={(e) => set("status", e.target.value)}>
              <option value="">any</option>
              {STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label>
            Owner
            <input value={filter.owner} placeholder="team" onChange={(e) => set("owner", e.target.value)} />
          </label>
          <label>
            Provider
            <select value={filter.provider} onChange={(e) => set("provider", e.target.value)}>
              <option value="">any</option>
              {PROVIDERS.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
          {any && (
            <button
              type="button"
              className="link"
              onClick={() => setParams(new URLSearchParams(), { replace: true })}
            >
              Clear filters
            </button>
          )}
        </form>
      </search>
      <Async
        state={models}
        empty={(d) =>
          d.items.length === 0
            ? any
              ? "No model matches these filters."
              : "No model is registered yet: modelgov models create …"
            : null
        }
      >
        {(d) => (
          <Table
            label="Models"
            head={["Model", "Owner", "Use cases", "Risk", "Production", "Aliases", "Versions", "Updated"]}
          >
            {d.items.map((m) => (
              <tr key={m.id}>
                <td>
                  <Link to={`/models/${encodeURIComponent(m.name)}`}>
                    <strong>{m.name}</strong>
                  </Link>
                  <div className="muted small clamp">{m.description}</div>
                </td>
                <td>{m.owner}</td>
                <td>{m.useCases.join(", ") || <span className="muted">–</span>}</td>
                <td>
                  <Badge tone={m.riskTier === "high" || m.riskTier === "critical" ? "bad" : "neutral"}>
                    {m.riskTier}
                  </Badge>
                </td>
                <td>{m.aliases.production ?? <span className="muted">none</span>}</td>
                <td className="small">
                  {Object.entries(m.aliases)
                    .filter(([a]) => a !== "production")
                    .map(([a, v]) => `${a} → ${v}`)
                    .join(", ") || <span className="muted">–</span>}
                </td>
                <td>{m.versionCount}</td>
                <td>
                  <Time at={m.updatedAt} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Async>
    </>
  );
}
