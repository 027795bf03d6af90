import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { intToIp, ipToInt32, ipToUint32, isIPv4 } from '../../src/protocol/ip.js';

describe('IPv4 as int32 (a*2^24 + b*2^16 + c*2^8 + d in 32 bits)', () => {
  const cases: [string, number, number][] = [
    ['0.0.0.0', 0, 0],
    ['127.0.0.1', 2130706433, 2130706433],
    ['127.255.255.255', 0x7fffffff, 0x7fffffff],
    ['128.0.0.0', 2147483648, -2147483648],
    ['200.1.2.3', 3355509251, -939458045],
    ['255.255.255.255', 4294967295, -1],
  ];
  for (const [text, unsigned, signed] of cases) {
    test(text, () => {
      assert.equal(ipToUint32(text), unsigned);
      assert.equal(ipToInt32(text), signed);
      assert.equal(intToIp(signed), text, 'from the wire int32');
      assert.equal(intToIp(unsigned), text, 'from the stored unsigned value');
      assert.equal(isIPv4(text), true);
    });
  }

  test('invalid strings are refused with the text in the error', () => {
    const invalid = ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.-4', '01.2.3.4', 'a.b.c.d', ' 1.2.3.4', '1.2.3.4 ', '::1', '1..2.3', '1.2.3.4/8'];
    for (const text of invalid) {
      assert.equal(isIPv4(text), false, `isIPv4(${JSON.stringify(text)})`);
      assert.throws(() => ipToUint32(text), (err: Error) => err instanceof RangeError && err.message.includes(JSON.stringify(text)));
      assert.throws(() => ipToInt32(text), RangeError);
    }
  });
});
