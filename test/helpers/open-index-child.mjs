// Child process for crash tests: opens an index (building or updating it) and
// reports progress on stdout. With --stall, it blocks inside the first progress
// callback, that is, in the middle of the write, until it is killed.
const [distIndex, indexDir, cacheDir, mode] = process.argv.slice(2);
const { openIndex } = await import(distIndex);
const stall = mode === '--stall';
const index = await openIndex({
  indexDir,
  cacheDir,
  onProgress: (progress) => {
    process.stdout.write(`progress ${progress.phase} ${progress.done}/${progress.total}\n`);
    if (stall) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  },
});
process.stdout.write(`done ${index.status.action} ${index.status.packages}\n`);
index.close();
