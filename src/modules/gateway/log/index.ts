export {
  type BatchSink,
  type BatchWriter,
  type BatchWriterOptions,
  createBatchWriter,
  isDataError,
  jsonBatchInsert,
  type WriterStats,
} from "./batch-writer.ts";
export {
  createRequestLogWriter,
  type FallbackStep,
  type RequestLogEntry,
  type RequestLogWriter,
  requestLogRow,
} from "./request-log.ts";
export { createSpool, type Spool, type SpoolRow } from "./spool.ts";
