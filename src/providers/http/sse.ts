/**
 * Server-sent events, both ways: a parser over a byte stream (per the WHATWG event-stream
 * rules: LF, CRLF or CR line ends, `:` comments, multi-line `data:` joined with "\n") and
 * the two writers the gateway needs.
 */

export interface SseEvent {
  event: string | undefined;
  data: string;
}

export async function* parseSse(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event: string | undefined;
  let data: string[] = [];
  // A CR ending one chunk may be the first half of a CRLF split across chunks.
  let skipLeadingLf = false;

  const line = (l: string): SseEvent | undefined => {
    if (l === "") {
      if (data.length === 0) {
        event = undefined;
        return undefined;
      }
      const out = { event, data: data.join("\n") };
      event = undefined;
      data = [];
      return out;
    }
    if (l.charCodeAt(0) === 58 /* : */) return undefined;
    const colon = l.indexOf(":");
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? "" : l.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    return undefined;
  };

  for await (const part of source) {
    buffer += typeof part === "string" ? part : decoder.decode(part, { stream: true });
    if (skipLeadingLf && buffer.charCodeAt(0) === 10) buffer = buffer.slice(1);
    skipLeadingLf = false;
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const ev = line(buffer.slice(start, i));
      if (ev) yield ev;
      if (c === 13) {
        if (i + 1 === buffer.length) skipLeadingLf = true;
        else if (buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    buffer = buffer.slice(start);
  }
  buffer += decoder.decode();
  // A stream may end without the final blank line; what was complete still counts.
  if (buffer !== "") line(buffer);
  const last = line("");
  if (last) yield last;
}

/** One OpenAI stream event. */
export function openAISse(chunk: unknown): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

export const OPENAI_SSE_DONE = "data: [DONE]\n\n";

/** One Anthropic stream event: the `event:` line repeats the payload's `type`. */
export function anthropicSse(event: { type: string }): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
