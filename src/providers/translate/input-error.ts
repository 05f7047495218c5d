/**
 * A request body a translator cannot read, naming the field at fault (`input.2.content.0.type`)
 * and the reason; the gateway answers it as a 400 in the caller's dialect.
 */
export class TranslateInputError extends Error {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = "TranslateInputError";
    this.field = field;
    this.reason = reason;
  }
}
