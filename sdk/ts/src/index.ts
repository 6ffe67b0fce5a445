// helm SDK for Node.js: read X-Helm-* headers, tail receipts, verify receipt
// exports offline.
export {
  readHelmHeaders,
  outputHashOf,
  checkOutputHash,
  streamOutputHash,
  checkStreamOutputHash,
  HelmHeadersError,
  type HelmHeaders,
  type HelmStatus,
  type HeaderSource,
} from './headers.js';
export { tailReceipts, HelmTailError, type TailOptions, type TailedReceipt } from './tail.js';
export {
  canonicalize,
  canonicalBytes,
  parseStrictJson,
  CanonicalJsonError,
  MAX_DEPTH,
  type JsonValue,
} from './jcs.js';
export {
  verifyExport,
  Verifier,
  VerifyInputError,
  exitCodeOf,
  formatReport,
  splitLines,
  ed25519Verify,
  RECEIPT_VERSION,
  GENESIS_PREV_HASH,
  EXIT_OK,
  EXIT_USAGE,
  EXIT_TAMPERED,
  EXIT_UNTRUSTED,
  type VerifyReport,
  type VerifyOptions,
  type BrokenCheck,
  type Line,
} from './verify.js';
