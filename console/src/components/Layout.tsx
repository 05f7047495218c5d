import { useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router-dom";
import { useApi, useSession } from "../api.tsx";

/** The frame: brand, navigation (a menu button on a phone), who is signed in, and the page. */
export function Layout() {
  const { me, signOut, can } = useSession();
  const [open, setOpen] = useState(false);
  const location = useLocation();
  // The inbox count is the API's: requests this token could sign now.
  const inbox = useApi(
    (c) => (can("approvals:sign") ? c.approvals.inbox() : Promise.resolve([])),
    [location.pathname],
    15_000,
  );
  const links = [
    { to: "/", label: "Registry", end: true },
    { to: "/inbox", label: `Inbox${inbox.data?.length ? ` (${inbox.data.length})` : ""}` },
    { to: "/rollouts", label: "Rollouts" },
    { to: "/experiments", label: "Experiments" },
    { to: "/monitoring", label: "Monitoring" },
    { to: "/flags", label: "Flags" },
    { to: "/audit", label: "Audit" },
  ];
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand">
          modelgov
        </NavLink>
        <button
          type="button"
          className="menu-button"
          aria-expanded={open}
          aria-controls="nav"
          onClick={() => setOpen((o) => !o)}
        >
          Menu
        </button>
        <nav id="nav" className={open ? "open" : ""} aria-label="Main">
          {links.map((l) => (
            <NavLink key={l.to} to={l.to} end={l.end} onClick={() => setOpen(false)}>
              {l.label}
            </NavLink>
          ))}
        </nav>
        <div className="whoami">
          <span title={me.roles.join(", ")}>
            {me.name} <span className="muted">({me.roles.join(", ")})</span>
          </span>
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
