/**
 * The read half of a large full build, in a worker thread: reads, parses,
 * validates and translates the index-data files in order and posts the rows
 * in batches, at most `window` batches ahead of the writer (which answers
 * each batch with a message). The first failure ends it, reported as a coded
 * error exactly as reading in the main thread would throw it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isMcsError } from '../errors.js';
import type { SourceStamp } from './db.js';
import { readRows, type SourcedRow } from './entry.js';

export interface ReadWorkerData {
  indexDir: string;
  sources: SourceStamp[];
  batchSize: number;
  window: number;
}

export type ReadWorkerMessage = { rows: SourcedRow[] } | { done: true } | { error: { code: string; message: string; details: Record<string, unknown> } };

async function run(port: NonNullable<typeof parentPort>, data: ReadWorkerData): Promise<void> {
  let credits = data.window;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    credits++;
    wake?.();
  });
  const send = async (rows: SourcedRow[]): Promise<void> => {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
    port.postMessage({ rows } satisfies ReadWorkerMessage);
  };
  try {
    let batch: SourcedRow[] = [];
    for (const row of readRows(data.indexDir, data.sources)) {
      batch.push(row);
      if (batch.length === data.batchSize) {
        await send(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await send(batch);
    port.postMessage({ done: true } satisfies ReadWorkerMessage);
  } catch (error) {
    const reported = isMcsError(error)
      ? { code: error.code, message: error.message, details: { ...error.details } }
      : { code: 'E_INTERNAL', message: `unexpected failure reading the index: ${error instanceof Error ? error.message : String(error)}`, details: {} };
    port.postMessage({ error: reported } satisfies ReadWorkerMessage);
  }
  port.close();
}

if (parentPort) void run(parentPort, workerData as ReadWorkerData);
