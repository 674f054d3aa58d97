#!/usr/bin/env node
// Presents the pinned solc-js (WebAssembly build of the official compiler) with the command
// line of a native solc, so that py-solc-x, ape-solidity, forge and Slither can all use it.
// Only what those callers need is implemented: --version and --standard-json (stdin -> stdout)
// with --base-path / --include-path / --allow-paths resolving imports.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);

function nativeVersionString() {
  // solc-js reports e.g. "0.8.30+commit.73712a01.Emscripten.clang"; callers parse the native form.
  const v = solc.version().replace(/\.Emscripten\.clang$/, '');
  return `${v}.Linux.g++`;
}

if (args.includes('--version')) {
  fs.writeSync(1, `solc, the solidity compiler commandline interface\nVersion: ${nativeVersionString()}\n`);
  process.exit(0);
}

if (!args.includes('--standard-json')) {
  fs.writeSync(2, 'this solc stand-in supports only --version and --standard-json\n');
  process.exit(1);
}

const searchRoots = [process.cwd()];
for (let i = 0; i < args.length; i += 1) {
  const flag = args[i];
  if (flag === '--base-path' || flag === '--include-path' || flag === '--allow-paths') {
    const value = args[i + 1] || '';
    for (const p of value.split(',')) if (p) searchRoots.push(path.resolve(p));
    i += 1;
  } else if (flag.startsWith('--base-path=') || flag.startsWith('--include-path=') || flag.startsWith('--allow-paths=')) {
    for (const p of flag.split('=')[1].split(',')) if (p) searchRoots.push(path.resolve(p));
  }
}

function findImport(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : searchRoots.map((r) => path.join(r, importPath));
  for (const candidate of candidates) {
    try {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    } catch (_) {
      // try the next root
    }
  }
  return { error: `File not found: ${importPath} (searched ${searchRoots.join(', ')})` };
}

let input = '';
try {
  input = fs.readFileSync(0, 'utf8');
} catch (err) {
  fs.writeSync(2, `cannot read standard input: ${err.message}\n`);
  process.exit(1);
}
const output = solc.compile(input, { import: findImport });
// Synchronous write: an asynchronous write followed by exit truncates large output on a pipe.
const buffer = Buffer.from(output, 'utf8');
let offset = 0;
while (offset < buffer.length) {
  offset += fs.writeSync(1, buffer, offset, buffer.length - offset);
}
