import { InvalidArgumentError } from 'commander';

export type GraphProfile = 'compat' | 'optimized';

export function parseGraphProfile(value: string): GraphProfile {
  if (value !== 'compat' && value !== 'optimized') {
    throw new InvalidArgumentError(`--graph expects compat or optimized, got "${value}"`);
  }
  return value;
}
