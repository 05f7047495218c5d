export {
  type Feedback,
  type FeedbackInput,
  type FeedbackRecord,
  FeedbackSchema,
} from "./feedback.schemas.ts";
export {
  createFeedbackService,
  createFeedbackWriter,
  type FeedbackResponse,
  type FeedbackService,
  type FeedbackWriter,
  feedbackId,
} from "./feedback.service.ts";
