/** What the page can learn about its memory use; every source is Chromium-only and optional. */
export interface MemoryReading {
  /** From `performance.measureUserAgentSpecificMemory()` (cross-origin isolated pages): this page and its workers. */
  measuredBytes?: number;
  /** From `performance.memory`: the page's JS heap (not its workers, not wasm outside it). */
  jsHeapUsedBytes?: number;
}

interface ChromiumPerformance {
  memory?: { usedJSHeapSize: number };
  measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>;
}

export function quickMemoryReading(): MemoryReading {
  const memory = (performance as unknown as ChromiumPerformance).memory;
  return memory === undefined ? {} : { jsHeapUsedBytes: memory.usedJSHeapSize };
}

/**
 * The full measurement where the browser offers it. It can take seconds (it waits for a
 * garbage collection), so callers do not await it on the hot path.
 */
export async function measuredMemoryReading(): Promise<MemoryReading> {
  const reading = quickMemoryReading();
  const measure = (performance as unknown as ChromiumPerformance).measureUserAgentSpecificMemory;
  if (typeof measure !== 'function' || !crossOriginIsolated) return reading;
  try {
    const result = await measure.call(performance);
    return { ...reading, measuredBytes: result.bytes };
  } catch {
    return reading;
  }
}
