import { InputError } from '@gemma3n/core';

/*
 * Φ⁻¹, the standard normal quantile, by Wichura's algorithm AS 241 (PPND16, Applied Statistics
 * 37(3), 1988): three rational approximations, relative error about 1e-16 over (0, 1).
 * HF computes the same value with `torch.distributions.Normal(0, 1).icdf` (via erfinv) in
 * float32; this reference computes it in float64 from the config's number, a difference below
 * 1.2e-7 at 0.95 (HF first rounds 0.95 to float32, 0.949999988).
 */

// |q| ≤ 0.425 (0.075 ≤ p ≤ 0.925): a ratio of degree-7 polynomials in r = 0.180625 − q².
const centralNumerator = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
  45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
];
const centralDenominator = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
  39307.89580009271061, 28729.085735721942674, 5226.495278852854561,
];
// r = sqrt(−ln(min(p, 1 − p))) ≤ 5 (down to p ≈ 1.4e-11): polynomials in r − 1.6.
const intermediateNumerator = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
  1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
];
const intermediateDenominator = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
];
// r > 5 (the far tails): polynomials in r − 5.
const tailNumerator = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
  0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
];
const tailDenominator = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
  7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
];

function polynomial(coefficients: readonly number[], x: number): number {
  let result = 0;
  for (let index = coefficients.length - 1; index >= 0; index--) result = result * x + coefficients[index]!;
  return result;
}

/** Φ⁻¹(p) for p in (0, 1): the x with P(N(0,1) ≤ x) = p. Φ⁻¹(0.95) = 1.6448536269514722. */
export function inverseNormalCdf(probability: number): number {
  if (!(probability > 0 && probability < 1)) {
    throw new InputError({ field: 'probability', value: probability, expected: 'a number in (0, 1)' });
  }
  const q = probability - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(centralNumerator, r)) / polynomial(centralDenominator, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? probability : 1 - probability));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x = polynomial(intermediateNumerator, r) / polynomial(intermediateDenominator, r);
  } else {
    r -= 5;
    x = polynomial(tailNumerator, r) / polynomial(tailDenominator, r);
  }
  return q < 0 ? -x : x;
}
