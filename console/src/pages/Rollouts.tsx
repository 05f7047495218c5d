import { PageHeader } from "../components/ui.tsx";

export function RolloutsPage() {
  return <PageHeader title="Rollouts" sub="Being built." />;
}

export function RolloutPage() {
  return <PageHeader title="Rollout" sub="Being built." />;
}
