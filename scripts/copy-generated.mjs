// tsc does not emit the generated JavaScript codec; copy it beside the build.
import { cpSync } from 'node:fs';

cpSync('src/protocol/generated', 'dist/src/protocol/generated', { recursive: true });
