/** Nested settings as a key-value table (flatten.ts), with the raw JSON on demand and a copy button. */
import { useState } from "react";
import { flatten } from "../flatten.ts";

export function KeyValues({ value, label }: { value: unknown; label: string }) {
  const [raw, setRaw] = useState(false);
  const [copied, setCopied] = useState(false);
  const json = JSON.stringify(value, null, 2);
  const copy = () => {
    navigator.clipboard?.writeText(json).then(
      () => {
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      },
      () => setCopied(false),
    );
  };
  return (
    <div className="kv-block">
      {raw ? (
        <pre className="kv-json">{json}</pre>
      ) : (
        <table className="kv" aria-label={label}>
          <tbody>
            {flatten(value).map((e) => (
              <tr key={e.key}>
                <th scope="row">{e.key || "value"}</th>
                <td>{e.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="kv-tools small">
        <button type="button" className="link" aria-pressed={raw} onClick={() => setRaw(!raw)}>
          {raw ? "table" : "raw JSON"}
        </button>
        <button type="button" className="link" onClick={copy}>
          {copied ? "copied" : "copy JSON"}
        </button>
      </div>
    </div>
  );
}
