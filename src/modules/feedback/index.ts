// The feedback table's rows are the request log's to write and read; the service takes its writer.
export { createFeedbackWriter, type FeedbackRecord, type FeedbackWriter } from "../request-log/index.ts";
export { type Feedback, type FeedbackInput, FeedbackSchema } from "./feedback.schemas.ts";
export {
  createFeedbackService,
  type FeedbackResponse,
  type FeedbackService,
  feedbackId,
} from "./feedback.service.ts";
