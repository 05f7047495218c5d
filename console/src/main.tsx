import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Route, Routes } from "react-router-dom";
import { SessionProvider } from "./api.tsx";
import { Layout } from "./components/Layout.tsx";
import { AuditPage } from "./pages/Audit.tsx";
import { ExperimentPage, ExperimentsPage } from "./pages/Experiments.tsx";
import { FlagPage, FlagsPage } from "./pages/Flags.tsx";
import { InboxPage } from "./pages/Inbox.tsx";
import { ModelPage } from "./pages/Model.tsx";
import { MonitoringPage, MonitorPage } from "./pages/Monitoring.tsx";
import { NotFoundPage } from "./pages/NotFound.tsx";
import { RegistryPage } from "./pages/Registry.tsx";
import { RetrainingRedirect, RetrainingTaskPage } from "./pages/Retraining.tsx";
import { RolloutPage, RolloutsPage } from "./pages/Rollouts.tsx";
import { SignInPage } from "./pages/SignIn.tsx";
import { VersionPage } from "./pages/Version.tsx";
import "./styles.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <SessionProvider signIn={(start) => <SignInPage onToken={start} />}>
        {() => (
          <Routes>
            <Route element={<Layout />}>
              <Route index element={<RegistryPage />} />
              <Route path="models/:model" element={<ModelPage />} />
              <Route path="models/:model/versions/:version" element={<VersionPage />} />
              <Route path="models/:model/rollout" element={<RolloutPage />} />
              <Route path="models/:model/experiment" element={<ExperimentPage />} />
              <Route path="models/:model/monitor" element={<MonitorPage />} />
              <Route path="models/:model/retraining/:task" element={<RetrainingTaskPage />} />
              <Route path="retraining/:task" element={<RetrainingRedirect />} />
              <Route path="inbox" element={<InboxPage />} />
              <Route path="rollouts" element={<RolloutsPage />} />
              <Route path="experiments" element={<ExperimentsPage />} />
              <Route path="monitoring" element={<MonitoringPage />} />
              <Route path="flags" element={<FlagsPage />} />
              <Route path="flags/:key" element={<FlagPage />} />
              <Route path="audit" element={<AuditPage />} />
              <Route path="*" element={<NotFoundPage />} />
            </Route>
          </Routes>
        )}
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
