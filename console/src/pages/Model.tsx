import { PageHeader } from "../components/ui.tsx";

export function ModelPage() {
  return <PageHeader title="Model" sub="Being built." />;
}
