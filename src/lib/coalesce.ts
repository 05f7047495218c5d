/**
 * `f` shared by concurrent callers with the same key, without handing anyone an answer older
 * than their call: a call made while a run is under way waits for the next run (started when
 * that one ends), which every call arriving meanwhile shares. At most one run per key at a
 * time, at most two per burst of calls, and each answer was computed after its call was made:
 * what a caller sees is as fresh as if it had called `f` itself. Failures are shared the same way.
 */
export function coalesced<K, T>(f: (key: K) => Promise<T>): (key: K) => Promise<T> {
  const runs = new Map<K, { running: Promise<T>; next: Promise<T> | null }>();
  return function call(key: K): Promise<T> {
    const run = runs.get(key);
    if (run) {
      run.next ??= run.running.then(
        () => call(key),
        () => call(key),
      );
      return run.next;
    }
    const running = f(key).finally(() => runs.delete(key));
    runs.set(key, { running, next: null });
    return running;
  };
}
