import { describe, expect, it } from 'vitest';
import { RecordCursor, RecordsEncoder, countRecords, sealEntry } from '../../../log/record-codec.ts';

describe('record codec', () => {
  it('round-trips keys, values, partitions and timestamps, also when the buffer grows mid-entry', () => {
    const enc = new RecordsEncoder(64);
    for (let i = 0; i < 200; i++) enc.add(i % 7 === 0 ? null : `key-${i}`, i % 2 ? `value-${'x'.repeat(i)}` : new Uint8Array([i & 0xff, 1, 2]), i % 5, 1000 + i);
    const buf = enc.finish();
    expect(countRecords(buf)).toBe(200);
    const c = new RecordCursor(buf);
    let i = 0;
    while (c.next()) {
      expect(c.keyString()).toBe(i % 7 === 0 ? null : `key-${i}`);
      if (i % 2) expect(c.valueString()).toBe(`value-${'x'.repeat(i)}`);
      else expect([...c.valueBytes()]).toEqual([i & 0xff, 1, 2]);
      expect(c.partition).toBe(i % 5);
      expect(c.timestamp).toBe(1000 + i);
      expect(c.offset).toBe(-1);
      i++;
    }
    expect(i).toBe(200);
  });

  it('writes multi-byte UTF-8 keys and values', () => {
    const enc = new RecordsEncoder(8);
    enc.add('ключ-🔑', 'värde ✓');
    const c = new RecordCursor(enc.finish());
    expect(c.next()).toBe(true);
    expect(c.keyString()).toBe('ключ-🔑');
    expect(c.valueString()).toBe('värde ✓');
  });

  it('seals offsets with a CRC that detects corruption', () => {
    const enc = new RecordsEncoder();
    enc.add('k', 'v');
    const buf = enc.finish();
    sealEntry(buf, 0, 3, 42, 1234);
    const c = new RecordCursor(buf);
    c.next();
    expect([c.partition, c.offset, c.timestamp]).toEqual([3, 42, 1234]);
    expect(c.crc).toBe(c.computeCrc());
    buf[buf.length - 1] = buf[buf.length - 1]! ^ 0xff;
    expect(c.crc).not.toBe(c.computeCrc());
  });

  it('rejects truncated buffers', () => {
    const enc = new RecordsEncoder();
    enc.add('k', 'value');
    const buf = enc.finish();
    const c = new RecordCursor(buf.subarray(0, buf.length - 2));
    expect(() => c.next()).toThrow(RangeError);
  });
});
