// The ONNX / onnxruntime-web and TRL export commands, listed together in ./index.ts.
import type { Command } from '../command';
import { exportOnnx } from './export-onnx';
import { generate } from './generate';
import { exportTrl } from './export-trl';

export const onnxTrlCommands: Command[] = [exportOnnx, generate, exportTrl];
