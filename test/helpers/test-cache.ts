/**
 * Global setup: code under test that falls back to the default cache folder
 * ($MCS_PKG_CACHE) gets a private one under the system temp folder, never the
 * user's ~/.cache, and it is removed when the run ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-pkg-tests-'));
  process.env.MCS_PKG_CACHE = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
