import { PageHeader } from "../components/ui.tsx";

export function AuditPage() {
  return <PageHeader title="Audit" sub="Being built." />;
}
