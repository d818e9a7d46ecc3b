import { afterEach, describe, expect, it } from 'vitest';
import { nextPromptTime, previousPromptTime, promptMessage } from './prompts';

/** Prompt times are clock times of this PC: across midnight, in a fixed zone, and across a daylight-saving change. */

const SHIFTS = ['06:00', '14:00', '22:00'];
const saved = process.env.TZ;
const inZone = (tz: string) => {
  process.env.TZ = tz;
};
const iso = (t: number) => new Date(t).toISOString();

afterEach(() => {
  if (saved === undefined) delete process.env.TZ;
  else process.env.TZ = saved;
});

describe('prompt schedule', () => {
  it('the next shift start after now, in a fixed zone (UTC+5); across midnight to the next day', () => {
    inZone('Etc/GMT-5');
    // 10:30 local is 05:30Z: next 14:00 local = 09:00Z.
    expect(iso(nextPromptTime(Date.parse('2024-06-10T05:30:00Z'), SHIFTS))).toBe('2024-06-10T09:00:00.000Z');
    // 22:30 local: next is 06:00 tomorrow local = 01:00Z.
    expect(iso(nextPromptTime(Date.parse('2024-06-10T17:30:00Z'), SHIFTS))).toBe('2024-06-11T01:00:00.000Z');
    // Exactly at a prompt time: the next one, not this one; the previous is this one.
    expect(iso(nextPromptTime(Date.parse('2024-06-10T09:00:00Z'), SHIFTS))).toBe('2024-06-10T17:00:00.000Z');
    expect(iso(previousPromptTime(Date.parse('2024-06-10T09:00:00Z'), SHIFTS))).toBe('2024-06-10T09:00:00.000Z');
    // 03:00 local: the previous was 22:00 yesterday.
    expect(iso(previousPromptTime(Date.parse('2024-06-09T22:00:00Z'), SHIFTS))).toBe('2024-06-09T17:00:00.000Z');
    // One time a day, given out of order with others.
    expect(iso(nextPromptTime(Date.parse('2024-06-10T05:30:00Z'), ['07:15']))).toBe('2024-06-11T02:15:00.000Z');
    expect(iso(nextPromptTime(Date.parse('2024-06-10T05:30:00Z'), ['23:00', '07:15']))).toBe('2024-06-10T18:00:00.000Z');
  });

  it('06:00 stays 06:00 on the clock across the spring change (Europe/Berlin, 31 March 2024)', () => {
    inZone('Europe/Berlin');
    // 22:30 CET on the 30th (UTC+1): next 06:00 CEST on the 31st (UTC+2) = 04:00Z.
    expect(iso(nextPromptTime(Date.parse('2024-03-30T21:30:00Z'), SHIFTS))).toBe('2024-03-31T04:00:00.000Z');
    expect(new Date(nextPromptTime(Date.parse('2024-03-30T21:30:00Z'), SHIFTS)).getHours()).toBe(6);
  });

  it('says how many episodes of which models wait', () => {
    expect(promptMessage(['Machine temperature', 'Machine temperature', 'Machine temperature'])).toBe('3 episodes of Machine temperature are waiting for your answer');
    expect(promptMessage(['Kiln'])).toBe('1 episode of Kiln is waiting for your answer');
    expect(promptMessage(['Pump', 'Kiln', 'Kiln'])).toBe('3 episodes of Kiln and Pump are waiting for your answer');
  });
});
