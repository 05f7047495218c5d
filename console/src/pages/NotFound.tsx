import { Link } from "react-router-dom";
import { Empty, PageHeader } from "../components/ui.tsx";

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Not found" />
      <Empty>
        Nothing lives at this address. <Link to="/">Back to the registry</Link>.
      </Empty>
    </>
  );
}
