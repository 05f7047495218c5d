/*
 * The request log: the gateway's record of every request and the outcome feedback joined to
 * it. This module owns the `request_log` and `feedback` tables: their writers (batched,
 * spooled, off the hot path) and every read of them, as named windows.
 */
export {
  type BackfillChunk,
  type BackfillPass,
  type BackfillStatus,
  backfillHour,
  createFeatureBackfillJob,
  type FeatureBackfillJob,
  featureBackfillPending,
  featureBackfillStatus,
  registerFeatureBackfillMetrics,
  runBackfillChunk,
} from "./feature-backfill.ts";
export { type FeatureHistograms, featureHistograms } from "./feature-windows.ts";
export {
  cutValue,
  FEATURE_ATTRIBUTE_CAP,
  FEATURE_BIN_CAP,
  FEATURE_VALUE_CHARS,
  FEATURES,
  type FeaturesSource,
  NUMERIC_BIN_BOUNDS,
  NUMERIC_FEATURES,
  numericBin,
  OTHER_BIN,
  type RequestFeatures,
  type Script,
} from "./features.ts";
export { createFeedbackWriter, type FeedbackRecord, type FeedbackWriter } from "./feedback-log.ts";
export { type JudgedFilter, type JudgedRow, judgedRequestsPage } from "./judged.ts";
export { type PathCounts, type PathStats, pathCounts, pathStats } from "./path-windows.ts";
export {
  createRequestLogWriter,
  type FallbackStep,
  insertRequestBatch,
  type RequestLogEntry,
  type RequestLogWriter,
  type RouteMember,
  requestLogRow,
} from "./request-log.ts";
export {
  applyRetention,
  createRetentionJob,
  DEFAULT_RETENTION,
  type RetentionPolicy,
  type RetentionReport,
} from "./retention.ts";
export { NO_PATH, type RouteStrategy, routeKey } from "./route-key.ts";
export {
  type RouterPath,
  RouterPathSchema,
  type RouterPaths,
  RouterPathsSchema,
  routerPaths,
} from "./router-paths.ts";
export { type ChatMessage, sampledMessages } from "./sampled-body.ts";
export {
  failingSliceCounts,
  failingSlicePage,
  type SliceCounts,
  type SliceFilter,
  type SliceRange,
  type SliceRow,
} from "./slices.ts";
export {
  type ClientTraffic,
  clientTraffic,
  modelsWithTraffic,
  type ShadowPairs,
  shadowPairs,
  unitsPerVersion,
} from "./traffic.ts";
export {
  errorCounts,
  type GroupOutcomes,
  mirrorWindow,
  outcomesByGroups,
  type ReadOptions,
  type WindowMetrics,
  windowMetrics,
} from "./windows.ts";
