#!/usr/bin/env node
// The `kenv` command: the compiled CLI (npm run build writes out/).
import { main } from '../out/electron/cli/main.js';

await main();
