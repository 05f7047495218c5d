export { approvalRoutes } from "./approvals.routes.ts";
export { ApprovalPolicySchema } from "./approvals.schemas.ts";
export { type ApprovalsService, createApprovalsService, type GateResult } from "./approvals.service.ts";
