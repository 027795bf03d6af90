/**
 * Tests that need something this machine may lack (a C compiler, the native
 * UDP addon). Without it they are skipped with the reason, except under
 * CI=true, where a failing test says what CI must provide.
 */
import { describe, test } from 'node:test';

/** Runs `suite` as describe(name) when `missing` is false; otherwise skips it, or under CI=true fails, naming what is missing. */
export function describeIfAvailable(name: string, missing: string | false, suite: () => void): void {
  if (missing === false) {
    describe(name, suite);
  } else if (process.env.CI === 'true') {
    test(name, () => {
      throw new Error(`${missing}: CI must provide it`);
    });
  } else {
    console.log(`# ${name}: skipped, ${missing}`);
    test(name, { skip: `${missing}; under CI=true this fails` }, () => {});
  }
}
