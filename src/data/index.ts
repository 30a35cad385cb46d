// Preference data (docs/data-formats.md): parse, validate, render, tokenize, split and batch. Pure TypeScript,
// no GPU: runs in a worker, the page and Node.
export * from './types';
export { processSource, processText, sniffSyntax, type ProcessOptions, type ProcessHooks, type Progress } from './pipeline';
export { detectShape, normalizeRow, rowShape, checkUnread, splitCommonPrefix, DATA_FIELDS, type NormalizedRow } from './shapes';
export { CANNOT_ENCODE } from './validate';
export { rendererFor, plainRenderer, ChatTemplateRenderer, type Renderer } from './render';
export { resolveTruncation, resolveLengths, planTruncation, tokenizeExample, measureExample, exampleLength, encodeProblem, type Truncation, type TruncationPlan, type Lengths } from './tokenize';
export { splitTrainEval, lengthBucketedBatches, type BucketOptions } from './split';
export { trlRecord, trlJsonlLine } from './export';
export { byteChunks, ChunkDecoder, LineSplitter, type ByteSource } from './text-stream';
export type { DataWorkerApi, WorkerDataOptions } from './worker-api';
