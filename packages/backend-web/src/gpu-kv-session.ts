import type { InferenceSession, Tensor } from 'onnxruntime-common';

type Feeds = InferenceSession.FeedsType;
type Results = InferenceSession.ReturnType;

const pastPattern = /^past_key_values\./;

/**
 * An InferenceSession whose `present.*` outputs stay on the GPU, with the buffer bookkeeping
 * that the decoder runtime (which only swaps tensors in its KvCache) does not do:
 *
 * - every GPU tensor this session returns is tracked;
 * - a tracked tensor fed back as a `past_key_values.*` input is *consumed*: once the run that
 *   read it succeeds, its buffer is released (the runtime replaces it with the new present),
 *   so one cache costs one set of KV buffers, not one per step;
 * - `release()` frees whatever is still tracked (caches dropped without being fed again).
 *
 * Consequence: a past can be fed once. To branch one cache into two continuations, download
 * it first (`await tensor.getData()`) and feed CPU tensors.
 */
export class GpuKvSession implements InferenceSession {
  private readonly live = new Set<Tensor>();
  private released = false;

  constructor(private readonly inner: InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.inner.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.inner.outputNames;
  }

  get inputMetadata(): InferenceSession['inputMetadata'] {
    return this.inner.inputMetadata;
  }

  get outputMetadata(): InferenceSession['outputMetadata'] {
    return this.inner.outputMetadata;
  }

  /** GPU tensors returned by this session and not yet released (for tests and leak checks). */
  get liveGpuTensorCount(): number {
    return this.live.size;
  }

  run(feeds: Feeds, options?: InferenceSession.RunOptions): Promise<Results>;
  run(feeds: Feeds, fetches: InferenceSession.FetchesType, options?: InferenceSession.RunOptions): Promise<Results>;
  async run(
    feeds: Feeds,
    fetchesOrOptions?: InferenceSession.FetchesType | InferenceSession.RunOptions,
    options?: InferenceSession.RunOptions,
  ): Promise<Results> {
    if (this.released) throw new Error('This session was released');
    for (const [name, feed] of Object.entries(feeds)) {
      // A disposed tensor's location is 'none'; onnxruntime would reject it without naming it.
      if (feed.location === 'none') {
        throw new Error(`"${name}" was released: a GPU past is consumed by the run it is fed to, so it can be fed once`);
      }
    }
    const results =
      options === undefined
        ? await this.inner.run(feeds, fetchesOrOptions as InferenceSession.RunOptions | undefined)
        : await this.inner.run(feeds, fetchesOrOptions as InferenceSession.FetchesType, options);
    for (const output of Object.values(results)) {
      if (output.location === 'gpu-buffer') this.live.add(output);
    }
    for (const [name, feed] of Object.entries(feeds)) {
      if (pastPattern.test(name) && this.live.delete(feed)) feed.dispose();
    }
    return results;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const tensor of this.live) tensor.dispose();
    this.live.clear();
    await this.inner.release();
  }

  startProfiling(): void {
    this.inner.startProfiling();
  }

  endProfiling(): void {
    this.inner.endProfiling();
  }
}
