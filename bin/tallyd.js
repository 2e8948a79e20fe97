#!/usr/bin/env node
// tallyd's command-line entry. The TypeScript sources are compiled to dist/ by `npm install`
// (the `prepare` script), so this file runs with plain `node`.
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2)).then((code) => {
  if (typeof code === 'number') process.exitCode = code;
});
