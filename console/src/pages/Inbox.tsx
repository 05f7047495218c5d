import { PageHeader } from "../components/ui.tsx";

export function InboxPage() {
  return <PageHeader title="Inbox" sub="Being built." />;
}
