#!/usr/bin/env node
// helm-verify: offline verification of a helm receipt export.
//
//   node dist/cli.js verify --file EXPORT.jsonl --trusted-key HEX \
//       [--trusted-key HEX ...] [--trusted-checkpoint FILE ...]
//
// Prints the JSON report and exits 0 (intact and trusted), 3 (integrity
// failure), 4 (intact, but a signer is not trusted) or 2 (usage or I/O error),
// as sdk/python/helm_verify.py does.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import {
  EXIT_USAGE,
  Verifier,
  VerifyInputError,
  exitCodeOf,
  formatReport,
  splitLines,
} from './verify.js';

const USAGE = `usage: helm-verify verify --file EXPORT.jsonl --trusted-key HEX [--trusted-key HEX ...]
                          [--trusted-checkpoint FILE ...]

Verifies a helm receipt export offline and prints a JSON report.

  --file PATH                 the export: one stored receipt per line
  --trusted-key HEX           a trusted Ed25519 public key, 64 hex characters
                              (the contents of signing.pub); repeatable
  --trusted-checkpoint PATH   a checkpoint receipt kept from an earlier export
                              (one line); repeatable

exit: 0 intact and trusted, 3 integrity failure, 4 intact but a signer is not
trusted, 2 usage or I/O error
`;

function usageError(message: string): number {
  process.stderr.write(`helm-verify: ${message}\n${USAGE}`);
  return EXIT_USAGE;
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'verify') return usageError(command ? `unknown command "${command}"` : 'no command');
  let values: { file?: string; 'trusted-key'?: string[]; 'trusted-checkpoint'?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        file: { type: 'string' },
        'trusted-key': { type: 'string', multiple: true },
        'trusted-checkpoint': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return usageError((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.file === undefined) return usageError('--file is required');

  let verifier: Verifier;
  let lines: Uint8Array[];
  try {
    verifier = new Verifier(values['trusted-key'] ?? []);
    for (const path of values['trusted-checkpoint'] ?? []) {
      const pinLines = splitLines(readFileSync(path));
      if (pinLines.length !== 1 || pinLines[0] === undefined) {
        throw new VerifyInputError(`${path}: expected exactly one receipt`);
      }
      verifier.addTrustedCheckpoint(pinLines[0]);
    }
    lines = splitLines(readFileSync(values.file));
  } catch (e) {
    process.stderr.write(`helm-verify: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  for (const line of lines) verifier.add(line);
  const report = verifier.finish();
  process.stdout.write(formatReport(report) + '\n');
  return exitCodeOf(report);
}

process.exitCode = main(process.argv.slice(2));
