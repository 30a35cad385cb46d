// Every CLI command, in the order `--help` lists them. Add new commands here.
import type { Command } from '../command';
import { doctor } from './doctor';
import { bench } from './bench';
import { validate } from './validate';
import { exportPairs } from './export-pairs';
import { init } from './init';
import { logps } from './logps';
import { score } from './score';
import { train } from './train';
import { onnxTrlCommands } from './onnx-trl';
import { judge } from './judge';

export const commands: Command[] = [doctor, bench, validate, exportPairs, init, logps, score, train, ...onnxTrlCommands, judge];
