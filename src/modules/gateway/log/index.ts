// The request log moved to its own module (src/modules/request-log), which owns the table;
// the gateway's HTTP layer still names its entry type through here.
export type { FallbackStep, RequestLogEntry } from "../../request-log/index.ts";
