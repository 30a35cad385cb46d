// Every CLI command, in the order `--help` lists them. Add new commands here.
import type { Command } from '../command';
import { doctor } from './doctor';
import { init } from './init';

export const commands: Command[] = [doctor, init];
