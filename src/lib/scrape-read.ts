/**
 * One read shared by the gauges of a scrape. prom-client asks every metric at once (each
 * `collect` then its values), so a gauge cannot fill another from its own async collect:
 * the other's values are taken before the read ends. Each collect awaits this instead;
 * calls while a read is under way get that read. A failed read gives null (the gauges keep
 * their last values: the database down must not fail the whole scrape).
 */
export function scrapeRead<T>(read: () => Promise<T>): () => Promise<T | null> {
  let inFlight: Promise<T | null> | null = null;
  return () => {
    inFlight ??= read()
      .catch(() => null)
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
}
