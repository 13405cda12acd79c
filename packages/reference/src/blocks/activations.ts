const sqrtTwoOverPi = Math.sqrt(2 / Math.PI);

/**
 * `gelu_pytorch_tanh` (the `hidden_activation` of every Gemma 3n release, §1.1):
 * `0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))`.
 */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(sqrtTwoOverPi * (x + 0.044715 * x * x * x)));
}

/** `cap · tanh(x / cap)` (§1.9 final_logit_softcapping); `null` leaves x unchanged. */
export function softcap(x: number, cap: number | null): number {
  return cap === null ? x : cap * Math.tanh(x / cap);
}
