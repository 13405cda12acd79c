/**
 * Φ⁻¹, the inverse of the standard normal CDF, to double precision. Gemma 3n's gaussian top-k
 * sparsity cuts the gate activations at mean + std·Φ⁻¹(s) for a per-layer sparsity s, so the
 * cutoff constant is computed from the config instead of being hard-coded for s = 0.95.
 *
 * Method: Acklam's rational approximation (relative error about 1e-9) as the starting point,
 * then two Halley steps against an accurate Φ (erf series near 0, erfc continued fraction in
 * the tails), which brings the result to within a few ulps.
 */
export function inverseNormalCdf(probability: number): number {
  if (!(probability > 0 && probability < 1)) {
    throw new RangeError(`inverseNormalCdf needs a probability strictly between 0 and 1, got ${probability}`);
  }
  if (probability > 0.5) return -inverseNormalCdf(1 - probability);
  let x = acklamInitialGuess(probability);
  for (let step = 0; step < 2; step++) {
    const error = normalCdf(x) - probability;
    const scaled = error * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
    x -= scaled / (1 + (x * scaled) / 2);
  }
  return x;
}

/** Φ(x) = ½·erfc(−x/√2), accurate to near machine precision in relative terms for x ≤ 0. */
export function normalCdf(x: number): number {
  return 0.5 * complementaryErrorFunction(-x / Math.SQRT2);
}

function complementaryErrorFunction(z: number): number {
  if (z < 0) return 2 - complementaryErrorFunction(-z);
  if (z < 2) return 1 - errorFunctionSeries(z);
  return complementaryErrorFunctionContinuedFraction(z);
}

/** erf(z) = 2/√π · Σ (−1)ⁿ z^(2n+1) / (n!·(2n+1)); used for 0 ≤ z < 2 where it loses little. */
function errorFunctionSeries(z: number): number {
  const zSquared = z * z;
  let power = z; // (−1)ⁿ z^(2n+1) / n!
  let sum = z;
  for (let n = 1; n < 200; n++) {
    power *= -zSquared / n;
    const term = power / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** erfc(z) = e^(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), evaluated backwards, z ≥ 2. */
function complementaryErrorFunctionContinuedFraction(z: number): number {
  let tail = z;
  for (let n = 120; n >= 1; n--) tail = z + n / 2 / tail;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / tail;
}

const ACKLAM_A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const ACKLAM_B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const ACKLAM_C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const ACKLAM_LOW_REGION = 0.02425;

function acklamInitialGuess(probability: number): number {
  const [a0, a1, a2, a3, a4, a5] = ACKLAM_A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = ACKLAM_B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = ACKLAM_C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = ACKLAM_D as [number, number, number, number];
  if (probability < ACKLAM_LOW_REGION) {
    const q = Math.sqrt(-2 * Math.log(probability));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = probability - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}
