import { PageHeader } from "../components/ui.tsx";

export function ExperimentsPage() {
  return <PageHeader title="Experiments" sub="Being built." />;
}

export function ExperimentPage() {
  return <PageHeader title="Experiment" sub="Being built." />;
}
