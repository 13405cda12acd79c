import { InvalidArgumentError } from 'commander';

/** Commander value parsers shared by the commands; each names its flag and the value it refused. */

export function parseNumber(flag: string) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || Number.isNaN(number)) {
      throw new InvalidArgumentError(`${flag} expects a number, got "${value}"`);
    }
    return number;
  };
}

export function parseInteger(flag: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) {
      throw new InvalidArgumentError(`${flag} expects an integer, got "${value}"`);
    }
    return number;
  };
}

export function parsePositiveInteger(flag: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number <= 0) {
      throw new InvalidArgumentError(`${flag} expects a positive integer, got "${value}"`);
    }
    return number;
  };
}
