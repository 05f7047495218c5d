import { PageHeader } from "../components/ui.tsx";

export function VersionPage() {
  return <PageHeader title="Version" sub="Being built." />;
}
