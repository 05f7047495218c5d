export {
  applyServerTimeouts,
  type LimitCode,
  limitErrorResponse,
  type ReadBodyOptions,
  RequestLimitError,
  readBody,
  type ServerTimeouts,
  sendLimitError,
  serverTimeoutOptions,
} from "./http-limits.ts";
export {
  type BucketLimits,
  createTokenBuckets,
  type TakeResult,
  type TokenBuckets,
  type TokenBucketsOptions,
} from "./token-bucket.ts";
