/** The real npm data in ../shared/real-npm (or $MCS_REAL_NPM_DIR); tests that need it skip, saying why, when it is absent. */
import { realData } from './real-data.js';

const data = realData('real-npm', 'MCS_REAL_NPM_DIR', 'npm');
export const REAL_NPM_DIR = data.dir;
export const HAVE_REAL_NPM = data.present;
export const realNpm = data.bytes;
export const realNpmJson = data.json;
