#!/usr/bin/env node
// The CLI entry. The sources are TypeScript run through tsx's loader, so `npm install && npm start`
// needs no build step; the SDK alone is compiled (see package.json "prepare").
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
