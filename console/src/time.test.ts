import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatClock, formatDate, formatDateTime, formatSpan, formatTime, timeTick } from "./time.ts";

const UTC = { zone: "UTC" };

describe("the console's times", () => {
  test("date and time in one 24-hour ISO-like shape", () => {
    assert.equal(formatDateTime("2026-12-07T15:04:05.678Z", UTC), "2026-12-07 15:04:05");
    assert.equal(formatDateTime("2026-12-07T00:00:00Z", UTC), "2026-12-07 00:00:00"); // not 24:00:00, not 12 AM
    assert.equal(formatDateTime(Date.UTC(2026, 0, 2, 3, 4, 5), UTC), "2026-01-02 03:04:05");
    assert.equal(formatDate("2026-12-07T23:59:59Z", UTC), "2026-12-07");
    assert.equal(formatTime("2026-12-07T13:01:05Z", UTC), "13:01:05");
  });

  test("in the zone given", () => {
    assert.equal(formatDateTime("2026-12-07T23:30:00Z", { zone: "Asia/Tokyo" }), "2026-12-08 08:30:00");
    assert.equal(formatDateTime("2026-07-01T12:00:00Z", { zone: "America/New_York" }), "2026-07-01 08:00:00");
  });

  test("a dash for no time", () => {
    assert.equal(formatDateTime(null, UTC), "–");
    assert.equal(formatDateTime("", UTC), "–");
    assert.equal(formatDateTime("not a time", UTC), "–");
  });

  test("a clock time today, date and time on another day", () => {
    const now = "2026-12-07T18:00:00Z";
    assert.equal(formatClock("2026-12-07T12:01:05Z", now, UTC), "12:01:05");
    assert.equal(formatClock("2026-12-06T12:01:05Z", now, UTC), "2026-12-06 12:01:05");
  });

  test("a span within a day, across days, and of one instant", () => {
    const now = "2026-12-07T18:00:00Z";
    assert.equal(formatSpan("2026-12-07T12:01:05Z", "2026-12-07T12:37:44Z", now, UTC), "12:01:05–12:37:44");
    assert.equal(
      formatSpan("2026-12-05T12:01:05Z", "2026-12-05T12:37:44Z", now, UTC),
      "2026-12-05 12:01:05–12:37:44",
    );
    assert.equal(
      formatSpan("2026-12-06T23:59:00Z", "2026-12-07T00:01:00Z", now, UTC),
      "2026-12-06 23:59:00 – 2026-12-07 00:01:00",
    );
    assert.equal(formatSpan("2026-12-07T12:01:05Z", "2026-12-07T12:01:05Z", now, UTC), "12:01:05");
  });

  test("axis ticks: seconds within a day, month-day and minutes across days", () => {
    const t = Date.parse("2026-12-07T09:05:30Z");
    assert.equal(timeTick(60_000, UTC)(t), "09:05:30");
    assert.equal(timeTick(3 * 86_400_000, UTC)(t), "12-07 09:05");
  });
});
