import assert from "node:assert/strict";
import { test } from "node:test";
import { startDemoServer } from "../../../test-support/demo-server.ts";
import { startOtlpReceiver } from "../../../test-support/otlp-receiver.ts";

test("the server traces when OTEL_EXPORTER_OTLP_ENDPOINT is set, and exports what is left when it closes", async () => {
  const receiver = await startOtlpReceiver();
  const collector = receiver.url.replace(/\/v1\/traces$/, "");
  // The variables are passed explicitly: the caller's OTEL_* are never read.
  const demo = await startDemoServer("tracing", {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector,
    OTEL_SERVICE_NAME: "modelgov-serve-test",
  });
  let closed = false;
  try {
    const trace = "abcdefabcdefabcdefabcdefabcdef01";
    const res = await fetch(`${demo.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${demo.admin}`,
        "content-type": "application/json",
        traceparent: `00-${trace}-0102030405060708-01`,
      },
      body: JSON.stringify({ model: "support-assistant", messages: [{ role: "user", content: "hi" }] }),
    });
    await res.text();
    // Within the exporter's 5 s batch delay nothing has gone out yet: closing the server sends it.
    await demo.close();
    closed = true;
    const spans = receiver.spans.filter((s) => s.traceId === trace);
    const server = spans.find((s) => s.name === "chat support-assistant");
    assert.ok(server, `spans: ${spans.map((s) => s.name).join(", ") || "none"}`);
    assert.equal(server.parentSpanId, "0102030405060708");
    assert.equal(server.resource["service.name"], "modelgov-serve-test");
    assert.equal(server.attributes["http.response.status_code"], res.status);
    assert.ok(spans.some((s) => s.parentSpanId === server.spanId && s.attributes["gen_ai.provider.name"]));
  } finally {
    if (!closed) await demo.close();
    await receiver.close();
  }
});
