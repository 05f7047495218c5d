export { type BatchSink, batchInsert, isDataError, jsonBatchInsert } from "./batch-sink.ts";
export {
  type BatchWriter,
  type BatchWriterOptions,
  createBatchWriter,
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
