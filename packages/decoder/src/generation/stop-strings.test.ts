import { describe, expect, it } from 'vitest';
import { StopStringMatcher } from './stop-strings';

describe('StopStringMatcher', () => {
  const matcher = new StopStringMatcher(['</s>', 'END', 'Eq']);

  it('finds the earliest stop string', () => {
    expect(matcher.findStop('a</s>bEND')).toBe(1);
    expect(matcher.findStop('xEqEND')).toBe(1);
    expect(matcher.findStop('nothing here')).toBe(-1);
  });

  it('holds back exactly the longest tail that could start a stop string', () => {
    expect(matcher.safeLength('abc</')).toBe(3);
    expect(matcher.safeLength('abc<')).toBe(3);
    expect(matcher.safeLength('abE')).toBe(2); // "E" may start END or Eq
    expect(matcher.safeLength('abEN')).toBe(2);
    expect(matcher.safeLength('abENx')).toBe(5);
    expect(matcher.safeLength('')).toBe(0);
    expect(new StopStringMatcher([]).safeLength('abc<')).toBe(4);
  });
});
