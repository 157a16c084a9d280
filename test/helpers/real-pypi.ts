/** The real PyPI data in ../shared/real-pypi (or $MCS_REAL_PYPI_DIR); tests that need it skip, saying why, when it is absent. */
import { realData } from './real-data.js';

const data = realData('real-pypi', 'MCS_REAL_PYPI_DIR', 'PyPI');
export const REAL_PYPI_DIR = data.dir;
export const HAVE_REAL_PYPI = data.present;
export const realPypi = data.bytes;
export const realPypiJson = data.json;
