// A folder (files by path, "model/config.json") as one zip, written by fflate; it runs the same in
// the page and in Node. Weights are stored as they are: float bytes barely deflate and can be
// large, so deflating them would only hold up the page. Text files (JSON, JSONL, Python) deflate at
// level 1: on JSONL it shrinks as far as level 6 does (8x) in two thirds of the time (~50 MB/s).
import { strToU8, zipSync, type Zippable } from 'fflate';

const STORED = /\.(safetensors|onnx|bin|pt|pth|gguf|npy|npz)$/i;

export function zipBytes(files: ReadonlyMap<string, Uint8Array | string>): Uint8Array {
  const tree: Zippable = {};
  for (const [path, content] of files) {
    tree[path] = [typeof content === 'string' ? strToU8(content) : content, { level: STORED.test(path) ? 0 : 1 }];
  }
  return zipSync(tree);
}

export function zip(files: ReadonlyMap<string, Uint8Array | string>): Blob {
  return new Blob([zipBytes(files) as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
}
