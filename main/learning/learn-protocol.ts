/** Messages between the backend (main/learning/learning.ts) and its fine-tuning worker. */
import type { Provider } from '../engine/sessions.js';
import type { LearnProgress, LearnRecord } from './learn.js';

export interface LearnWorkerConfig {
  dbPath: string;
  headsDir: string;
  minCorrections: number;
  providers?: Provider[];
}

export type LearnFromWorker =
  | { type: 'progress'; progress: LearnProgress }
  | { type: 'done'; record: LearnRecord }
  | { type: 'failed'; error: string };
