/**
 * Model-card Markdown, rendered safely: react-markdown with raw HTML skipped (never
 * rendered) and its URL sanitising, plus GitHub-flavoured Markdown (remark-gfm) for the pipe
 * tables cards use for their figures. The figures are shown as written; nothing is computed.
 */
import type { ReactNode } from "react";
import Markdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";

/** Headings inside a card section sit below the section's own heading (h3); tables scroll on a phone. */
const components: Components = {
  h1: ({ children }) => <h4>{children}</h4>,
  h2: ({ children }) => <h4>{children}</h4>,
  h3: ({ children }) => <h5>{children}</h5>,
  h4: ({ children }) => <h6>{children}</h6>,
  h5: ({ children }) => <h6>{children}</h6>,
  table: ({ children }) => (
    <div className="table-wrap">
      <table>{children}</table>
    </div>
  ),
};

export function CardMarkdown({ source }: { source: string; label?: string }): ReactNode {
  return (
    <div className="markdown">
      <Markdown skipHtml remarkPlugins={[remarkGfm]} components={components}>
        {source}
      </Markdown>
    </div>
  );
}
