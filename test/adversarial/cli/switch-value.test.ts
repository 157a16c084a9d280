/**
 * An on/off flag written with a value (`--python=/path/venv`) is a usage
 * error naming the flag, never a silent "off" that checks something else:
 * `verify --installed --python=VENV` once checked ./node_modules and exited 0.
 * Checked for every switch in the command table through the quick parser.
 */
import { describe, expect, it } from 'vitest';
import { assertFlagValues } from '../../../cli/fast.js';
import { COMMANDS, GLOBAL_OPTIONS } from '../../../cli/spec.js';
import { errorOf, runCli } from '../../helpers/cli.js';
import '../../helpers/matchers.js';

const switches = COMMANDS.flatMap((spec) => Object.entries({ ...GLOBAL_OPTIONS, ...spec.options }).filter(([, option]) => option.type === 'boolean').map(([flag]) => ({ spec, flag })));

describe('a switch given a value', () => {
  it('verify --installed --python=VENV exits 2 with E_USAGE naming the way to write it', async () => {
    const run = await runCli(['verify', '--installed', '--python=/tmp/some-venv', '--json'], {});
    expect(run.code).toBe(2);
    const error = errorOf(run);
    expect(error.code).toBe('E_USAGE');
    expect(error.message).toMatch(/--python takes no value .*mcs-pkg verify --python \/tmp\/some-venv/);
  });

  it.each(switches.map(({ spec, flag }) => [spec.path.join(' '), flag]))('%s --%s=VALUE is refused, =true and =false are not', (path, flag) => {
    const spec = COMMANDS.find((c) => c.path.join(' ') === path)!;
    expect(() => assertFlagValues([...spec.path, `--${flag}=something`], spec)).toThrowWithCode('E_USAGE');
    expect(() => assertFlagValues([...spec.path, `--${flag}=true`], spec)).not.toThrow();
    expect(() => assertFlagValues([...spec.path, `--${flag}=false`], spec)).not.toThrow();
  });
});
