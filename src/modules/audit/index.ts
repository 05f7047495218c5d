export { type AuditEvent, type AuditInput, listAudit, recordAudit } from "./audit.store.ts";
