export type { ApprovalListQuerySchema } from "./approvals.routes.ts";
export { approvalRoutes } from "./approvals.routes.ts";
export type { ApprovalPolicyWriteSchema, EvidenceCreateSchema, SignSchema } from "./approvals.schemas.ts";
export { ApprovalPolicySchema } from "./approvals.schemas.ts";
export {
  type ApprovalsService,
  createApprovalsService,
  type GateResult,
  type OnApproved,
} from "./approvals.service.ts";
export {
  type FlagChangeRule,
  FlagChangeRuleSchema,
  type Segment,
  SegmentSchema,
} from "./segments.schemas.ts";
