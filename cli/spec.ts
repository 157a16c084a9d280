/**
 * The commands and flags of mcs-pkg, declared once. Both parsers are built
 * from this table: the quick one for ordinary calls (fast.ts) and full yargs
 * for help, version and anything the quick one does not accept (yargs.ts).
 */
import { McsError } from '../src/errors.js';
import { PACKAGE_CLASSES } from '../src/manifest/names.js';
import type { Context } from './context.js';

export interface CommandModule {
  default: (args: never, context: Context) => Promise<number>;
}

export interface OptionSpec {
  type: 'string' | 'boolean' | 'number';
  describe: string;
  choices?: readonly string[];
  default?: string | number | boolean;
  /** May be given more than once (values are OR-ed). */
  repeatable?: boolean;
}

export interface PositionalSpec {
  name: string;
  describe: string;
  /** Takes all remaining words. */
  variadic?: boolean;
  required?: boolean;
}

export interface CommandSpec {
  /** Words that name the command: ['search'] or ['index', 'build']. */
  path: readonly string[];
  describe: string;
  positionals: readonly PositionalSpec[];
  options: Readonly<Record<string, OptionSpec>>;
  examples?: ReadonlyArray<readonly [string, string]>;
  load: () => Promise<CommandModule>;
}

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean', default: false, describe: 'Print machine-readable JSON on standard output' },
  color: { type: 'boolean', describe: 'Colour the output; --no-color turns it off (default: on a terminal, unless NO_COLOR is set)' },
  index: { type: 'string', describe: 'index-data folder to use instead of the embedded index (required by the commands that change an index; never mcs-pkg\'s own embedded index-data)' },
  'cache-dir': { type: 'string', describe: 'Cache folder: built index databases, the index `update` installed, verified drivers (default $MCS_PKG_CACHE or ~/.cache/mcs-pkg)' },
};

const LABELS = ['verified', 'reference', 'community'] as const;
const ECOSYSTEMS = ['npm', 'pypi'] as const;
const PERMISSIONS = ['network', 'filesystem:read', 'filesystem:write', 'shell', 'secrets', 'autostart'] as const;

/** Who made an index change and why: both go into the audit log. */
const AUTHOR_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  reason: { type: 'string', describe: 'Why (recorded in the audit log)' },
  key: { type: 'string', describe: 'Your maintainer private key (PEM; default $MCS_PKG_MAINTAINER_KEY): it signs the audit log records, which name you as the index root (root.json in the index folder) does' },
  by: { type: 'string', describe: 'Who (recorded in the audit log), for an index whose log is not signed; with --key the name comes from the root' },
};

/** The trust roots of a registry verification, for commands other than verify (which documents its own defaults). */
const TRUST_ROOT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'trusted-root': { type: 'string', describe: 'Sigstore trusted_root.json, or "shipped" for the copy (and npm\'s keys) shipped with mcs-pkg (default: through TUF)' },
  'registry-keys': { type: 'string', describe: 'npm registry keys file, or "shipped"' },
};

/** The PyPI index the maintainers' commands read pypi:NAME packages from. */
const PYPI_INDEX_OPTION: Readonly<Record<string, OptionSpec>> = {
  'index-url': { type: 'string', describe: 'PyPI packages (pypi:NAME): the simple API to read from (default: pip\'s configuration: PIP_INDEX_URL, pip.conf, else https://pypi.org/simple/)' },
};

/** How a driver is loaded and confined: shared by load and call. */
const LOAD_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: { type: 'string', describe: 'The driver\'s configuration: JSON, or @FILE' },
  'allow-community': { type: 'boolean', describe: 'Accept Community drivers too (default: Verified and Reference only)' },
  offline: { type: 'boolean', describe: 'Use no network: only drivers verified and cached before' },
  'allow-expired-index': { type: 'boolean', describe: 'Load even when the installed index snapshot has expired (default: refused with E_INDEX_EXPIRED; run mcs-pkg update)' },
  registry: { type: 'string', describe: 'Registry URL (default: npm\'s configuration)' },
  'trusted-root': { type: 'string', describe: 'Sigstore trusted_root.json to trust, or "shipped" for the copy shipped with mcs-pkg (default: through TUF)' },
  'registry-keys': { type: 'string', describe: 'npm registry keys file' },
  isolation: { type: 'string', choices: ['process', 'none'], default: 'process', describe: 'process: the driver runs in a confined child process (the default); none: in this process, with its full power' },
  'grant-read': { type: 'string', repeatable: true, describe: 'Let the driver read this folder or file (needs filesystem:read or filesystem:write declared in the index)' },
  'grant-write': { type: 'string', repeatable: true, describe: 'Let the driver write this folder or file (needs filesystem:write declared)' },
  'grant-env': { type: 'string', repeatable: true, describe: 'Pass this environment variable to the driver (needs secrets declared)' },
  'allow-network': { type: 'boolean', describe: 'Let the driver use the network (needs network declared); without it the driver runs in a network namespace of its own' },
  'call-timeout': { type: 'number', describe: 'Deadline of one call to the driver, in ms (default 30000); past it the driver\'s process is killed' },
  'index-url': { type: 'string', describe: 'PyPI drivers (pypi:NAME): the simple API their wheels come from (default: pip\'s configuration: PIP_INDEX_URL, pip.conf, else https://pypi.org/simple/)' },
  python: { type: 'string', describe: 'PyPI drivers: the Python 3.11+ interpreter to run them with (default: MCS_PKG_PYTHON, else python3 on PATH)' },
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    path: ['search'],
    describe: 'Search drivers by name, capability, adapter, tool or description',
    positionals: [{ name: 'query', describe: 'Words to search for', variadic: true }],
    options: {
      capability: { type: 'string', repeatable: true, describe: 'Only packages serving this capability (csv, rest, ...)' },
      adapter: { type: 'string', repeatable: true, describe: 'Only packages for this adapter, or drivers that take any adapter' },
      label: { type: 'string', repeatable: true, choices: LABELS, describe: 'Only packages with this label' },
      llm: { type: 'string', repeatable: true, describe: 'Only drivers that target this model, or any model' },
      ecosystem: { type: 'string', repeatable: true, choices: ECOSYSTEMS, describe: 'Only packages from this registry' },
      class: { type: 'string', repeatable: true, choices: PACKAGE_CLASSES, describe: 'Only packages of this class' },
      permission: { type: 'string', repeatable: true, choices: PERMISSIONS, describe: 'Only packages that need this permission' },
      limit: { type: 'number', default: 20, describe: 'Most results to show (1 to 1000)' },
    },
    examples: [
      ['$0 search csv', 'drivers for CSV files'],
      ['$0 search --capability rest --label reference', 'Reference REST drivers'],
      ['$0 search mail --permission secrets --json', 'as JSON'],
    ],
    load: () => import('./commands/search.js'),
  },
  {
    path: ['info'],
    describe: 'Show everything the index knows about a package',
    positionals: [{ name: 'name', describe: 'Package name, or <ecosystem>:<name>', required: true }],
    options: {
      ecosystem: { type: 'string', choices: ECOSYSTEMS, describe: 'Registry, when a name is listed for both' },
    },
    examples: [['$0 info mcs-driver-csv', 'versions, pins, trust, tools, security notes']],
    load: () => import('./commands/info.js'),
  },
  {
    path: ['pins'],
    describe: 'Show the digests the index pins for a version; --format requirements prints a PyPI version and its dependency lock for pip install --require-hashes',
    positionals: [{ name: 'spec', describe: 'NAME@VERSION, or ecosystem:NAME@VERSION (pypi:mcs-driver-csv@0.1.4)', required: true }],
    options: {
      format: { type: 'string', choices: ['list', 'requirements'], default: 'list', describe: 'list: the pinned files and lock; requirements: a pip requirements file with --hash lines (wheels only: sdists are never built)' },
    },
    examples: [['$0 pins pypi:mcs-driver-csv@0.1.4 --format requirements > requirements.txt', 'then: pip install --require-hashes --only-binary :all: -r requirements.txt']],
    load: () => import('./commands/pins.js'),
  },
  {
    path: ['verify'],
    describe: 'Verify packages: integrity, registry signatures, provenance, publisher identity, publish attestation (npm); a PyPI file against its pins and PEP 740 attestations',
    positionals: [{ name: 'packages', describe: 'NAME[@VERSION|@RANGE|@TAG] to fetch and verify, or pypi:NAME[@VERSION] (or, with --installed, the project folder)', variadic: true }],
    options: {
      installed: { type: 'boolean', describe: 'Verify every MCS package in the project\'s node_modules' },
      registry: { type: 'string', describe: 'Registry URL (default: npm\'s configuration)' },
      tarball: { type: 'string', describe: 'The package tarball (.tgz) to verify' },
      attestations: { type: 'string', describe: 'The registry\'s attestations JSON for the version ({"attestations": [...]})' },
      package: { type: 'string', describe: 'NAME@VERSION the tarball is meant to be; with --dist, pypi:NAME@VERSION' },
      dist: { type: 'string', describe: 'A PyPI wheel or sdist to verify (its file name is what an attestation must name)' },
      attestation: { type: 'string', repeatable: true, describe: 'With --dist: a PEP 740 attestation of the file (may be given more than once)' },
      provenance: { type: 'string', describe: 'With --dist: the provenance object PyPI\'s integrity API serves for the file ({"version": 1, "attestation_bundles": [...]})' },
      integrity: { type: 'string', describe: 'With --tarball: the integrity a lockfile records for it (sha512-...), which it must match' },
      packument: { type: 'string', describe: 'With --tarball: the registry\'s packument (JSON of GET /NAME), whose dist.integrity and dist.signatures for the version are checked' },
      'source-repo': { type: 'string', describe: 'Expected source repository (github.com/OWNER/REPO; with --dist also gitlab.com/GROUP/PROJECT); default: the publisher the index pins' },
      workflow: { type: 'string', describe: 'Expected workflow path (.github/workflows/release.yml; with --dist a bare release.yml is under .github/workflows/, on GitLab the CI file path)' },
      issuer: { type: 'string', describe: 'Expected OIDC issuer (default with --source-repo: GitHub Actions)' },
      ref: { type: 'string', describe: 'Expected git ref, or a prefix ending in * (refs/tags/v*)' },
      'hosted-runner': { type: 'boolean', describe: 'Require a GitHub-hosted runner' },
      'trusted-root': { type: 'string', describe: 'Sigstore trusted_root.json to trust, or "shipped" for the public-good root (and npm\'s keys) shipped with mcs-pkg, which needs no network (default: shipped for --tarball, through TUF from the registry)' },
      'tuf-mirror': { type: 'string', describe: 'TUF repository for the trusted root when fetching from the registry (default: the Sigstore public-good one)' },
      'tuf-root': { type: 'string', describe: 'Initial root.json of a --tuf-mirror other than the public-good one' },
      policy: { type: 'string', describe: 'Trust-policy file (labels, provenance, minimum release age, allow and deny lists) to apply as well' },
      'registry-keys': { type: 'string', describe: 'npm registry keys file, /-/npm/v1/keys or keys.json shape, or "shipped" (default: shipped for --tarball; from the registry, npm\'s through TUF, or the registry\'s own)' },
      offline: { type: 'boolean', describe: 'Use no network (verification of files is always offline)' },
      concurrency: { type: 'number', describe: 'Packages fetched and verified at once (default 4)' },
      artifact: { type: 'string', describe: 'Any signed file, verified with --bundle (instead of --tarball)' },
      bundle: { type: 'string', describe: 'The Sigstore bundle over --artifact' },
      'certificate-identity': { type: 'string', describe: 'The signing certificate\'s identity (SAN) to require, exactly (with --dist: for publishers other than GitHub and GitLab, e.g. a Google service account\'s e-mail)' },
      'certificate-oidc-issuer': { type: 'string', describe: 'The signing certificate\'s OIDC issuer to require, exactly' },
      key: { type: 'string', describe: 'PEM public key, for a bundle signed with a key instead of a certificate' },
      'index-url': { type: 'string', describe: 'With pypi:NAME: the PEP 691 simple index to read (default: PIP_INDEX_URL, else pip\'s configuration files, else https://pypi.org/simple/)' },
      'digest-only': { type: 'boolean', describe: 'With pypi:NAME: accept a version the index does not pin, its files checked against the digests the PyPI index states only (exit 0 when they hold)' },
      python: { type: 'boolean', describe: 'With --installed: the MCS distributions of a Python environment instead (give a venv folder, a site-packages folder or an interpreter; default python3 on PATH), each compared file by file with its pinned wheel' },
      'dist-dir': { type: 'string', describe: 'With --installed --python: a folder of the pinned wheel files, checked against the pins, to compare offline instead of downloading them (--index-url or pip\'s configuration)' },
      'allow-pth': { type: 'string', repeatable: true, describe: 'With --installed --python: a startup file at the site-packages root (NAME.pth, sitecustomize.py, usercustomize.py) you have read and accept as it is; any other one no verified MCS distribution installs fails the check (may be given more than once)' },
    },
    examples: [
      ['$0 verify mcs-driver-csv@^1', 'fetch the highest pinned 1.x and verify it against the index'],
      ['$0 verify --installed', 'every MCS package in ./node_modules'],
      ['$0 verify --installed --python .venv', 'every MCS distribution in a venv, file by file against its pinned wheel'],
      ['$0 verify mcs-driver-csv --trusted-root shipped', 'with the trust roots shipped with mcs-pkg, no TUF network access'],
      ['$0 verify --tarball pkg.tgz --attestations att.json --package NAME@1.0.0 --source-repo github.com/OWNER/REPO', 'check a download against its source repository'],
      ['$0 verify --tarball pkg.tgz --package NAME@1.0.0 --integrity sha512-... --packument packument.json', 'check a download against its lockfile integrity and the registry signature'],
      ['$0 verify pypi:mcs-driver-csv', 'the newest pinned version\'s files from PyPI (or --index-url), against their pinned digests and PEP 740 attestations'],
      ['$0 verify --dist mcs_driver_csv-0.1.4-py3-none-any.whl --provenance csv.provenance --package pypi:mcs-driver-csv@0.1.4', 'check a PyPI file against the index pins and its PEP 740 attestations'],
      ['$0 verify --artifact SHA256SUMS --bundle SHA256SUMS.sigstore.json --certificate-identity URI --certificate-oidc-issuer URL', 'check any file signed with Sigstore'],
    ],
    load: () => import('./commands/verify.js'),
  },
  {
    path: ['load'],
    describe: 'Load a driver by name or capability through the gate, and show what it tells a model',
    positionals: [{ name: 'query', describe: 'A package name (mcs-driver-csv), with a version or semver range (mcs-driver-csv@1.2.0, mcs-driver-csv@^1) and an ecosystem (npm:NAME, pypi:NAME), or a capability (csv)', required: true }],
    options: LOAD_OPTIONS,
    examples: [
      ['$0 load csv --config \'{"baseDir": "./data"}\'', 'the best acceptable CSV driver, instantiated'],
      ['$0 load mcs-driver-csv@1.2.0', 'exactly that version, if the index pins it and the policy accepts it'],
      ['$0 load pypi:mcs-driver-csv --grant-read ./data', 'a Python driver: its wheels and their locked dependencies verified, run in the Python host'],
    ],
    load: () => import('./commands/load.js'),
  },
  {
    path: ['call'],
    describe: 'Run one tool of a tool driver through the driver host and print its result',
    positionals: [
      { name: 'query', describe: 'The driver, as for load', required: true },
      { name: 'tool', describe: 'The tool to run (see the tools load lists)', required: true },
    ],
    options: { ...LOAD_OPTIONS, args: { type: 'string', describe: 'The tool\'s arguments: a JSON object, or @FILE (default {})' } },
    examples: [['$0 call csv list_csv_files --config \'{"baseDir": "./data"}\' --grant-read ./data', 'list the CSV files the CSV driver sees in ./data']],
    load: () => import('./commands/call.js'),
  },
  {
    path: ['cache', 'ls'],
    describe: 'List the verified drivers in the cache (ecosystem:name@version, digest, folder)',
    positionals: [],
    options: {},
    load: () => cacheAction('ls'),
  },
  {
    path: ['cache', 'verify'],
    describe: 'Re-hash every cached driver against what was verified; exit 1 if any changed',
    positionals: [],
    options: {},
    load: () => cacheAction('verify'),
  },
  {
    path: ['cache', 'clean'],
    describe: 'Remove every cached driver and kept tarball (the next load fetches and verifies again); the installed index and trust metadata stay',
    positionals: [],
    options: {},
    load: () => cacheAction('clean'),
  },
  {
    path: ['update'],
    describe: 'Update the local index from a signed snapshot (a folder or an https URL)',
    positionals: [],
    options: {
      from: { type: 'string', describe: 'Snapshot folder or http(s) URL (holding snapshot.json, its content file and the root files); default: the source of the last update' },
      root: { type: 'string', describe: 'The index root to trust on the first update (root.json); later, another root than the pinned one is refused unless --reset-root' },
      'reset-root': { type: 'boolean', describe: 'Forget the pinned index root and the stored snapshot version, and trust --root instead (switching to another index)' },
      'trusted-root': { type: 'string', describe: 'Sigstore trusted_root.json, or "shipped" for the copy shipped with mcs-pkg, for snapshots signed keylessly (default: through TUF)' },
    },
    examples: [
      ['$0 update --from https://example.org/mcs-index/ --root root.json', 'first update, pinning the index root'],
      ['$0 update', 'later updates, from the same source'],
    ],
    load: () => import('./commands/update.js'),
  },
  {
    path: ['serve'],
    describe: 'Serve the index read-only over HTTP: the JSON API (docs/api.md) and the web pages',
    positionals: [],
    options: {
      host: { type: 'string', default: '127.0.0.1', describe: 'Address to listen on (0.0.0.0 for every interface)' },
      port: { type: 'number', default: 8787, describe: 'Port to listen on (0: any free port)' },
      rate: { type: 'number', describe: 'Requests per second each client address may make (default 20, bursts of 60)' },
    },
    examples: [['$0 serve --port 8080', 'the installed (or embedded) index at http://127.0.0.1:8080/']],
    load: () => import('./commands/serve.js'),
  },
  {
    path: ['index', 'site'],
    describe: 'Write the web pages of the index as static files for any static host or CDN',
    positionals: [{ name: 'out', describe: 'Folder to write (new or empty)', required: true }],
    options: {},
    examples: [['$0 index site public/', 'a search page and one page per package']],
    load: () => import('./commands/index-site.js'),
  },
  {
    path: ['index', 'publish'],
    describe: 'Publish the index as a signed snapshot',
    positionals: [],
    options: {
      out: { type: 'string', describe: 'Folder to write the snapshot to' },
      root: { type: 'string', describe: 'The signed index root the keys belong to' },
      key: { type: 'string', repeatable: true, describe: 'A maintainer private key (PEM)' },
      keyless: { type: 'boolean', describe: 'Also sign with Sigstore as the publishing workflow the root pins (in CI: GitHub Actions OIDC)' },
      'identity-token': { type: 'string', describe: 'OIDC token for --keyless (default: $SIGSTORE_ID_TOKEN, else the CI provider\'s)' },
      'fulcio-url': { type: 'string', describe: 'Fulcio for --keyless (default: public-good Sigstore)' },
      'rekor-url': { type: 'string', describe: 'Rekor for --keyless (default: public-good Sigstore)' },
      'tsa-url': { type: 'string', describe: 'Timestamp authority for --keyless (default: none)' },
      'trusted-root': { type: 'string', describe: 'Sigstore trusted_root.json (or "shipped") the keyless signature is checked against before writing, as clients will (default: through TUF)' },
      'snapshot-version': { type: 'number', describe: 'Snapshot version (default: one more than the snapshot.json in --out; required for a folder without one)' },
      'expires-days': { type: 'number', describe: 'Days until the snapshot expires (default 30)' },
    },
    examples: [
      ['$0 index publish --index my-index --out site/ --root my-index/root.json --key a.pem --key b.pem --snapshot-version 1', 'the first snapshot, signed with two maintainer keys'],
      ['$0 index publish --index my-index --out site/ --root my-index/root.json --key a.pem --key b.pem', 'the next one, continuing from site/snapshot.json'],
      ['$0 index publish --index my-index --out site/ --root my-index/root.json --keyless --snapshot-version "$GITHUB_RUN_NUMBER"', 'in the publishing workflow, keylessly, from a fresh checkout'],
    ],
    load: () => import('./commands/index-publish.js'),
  },
  {
    path: ['index', 'keygen'],
    describe: 'Create a maintainer key pair for signing index snapshots',
    positionals: [],
    options: {
      out: { type: 'string', describe: 'Private key file to write (PEM, mode 0600); the public key goes to FILE.pub' },
      type: { type: 'string', choices: ['ed25519', 'ecdsa-p256'], describe: 'Key type (default ed25519)' },
    },
    load: () => import('./commands/index-keygen.js'),
  },
  {
    path: ['index', 'root'],
    describe: 'Write a signed index root: the maintainer keys and their threshold, optionally a publishing workflow that signs snapshots keylessly; signed by a threshold of the maintainers (and of the previous root, for a rotation)',
    positionals: [],
    options: {
      out: { type: 'string', describe: 'root.json to write' },
      member: { type: 'string', repeatable: true, describe: 'A maintainer key (PEM, public or private) the root lists, as FILE (named by its base name: alice.pem.pub is alice) or NAME=FILE; the name is who the audit log records the key signs are by' },
      sign: { type: 'string', repeatable: true, describe: 'A private key (PEM) to sign with (members, and the previous root\'s keys for a rotation)' },
      threshold: { type: 'number', describe: 'Maintainer signatures a new root needs (and a snapshot, unless --snapshot-threshold)' },
      'snapshot-threshold': { type: 'number', describe: 'Signatures a snapshot needs, maintainers and the workflow counted alike' },
      'keyless-repository': { type: 'string', describe: 'Publishing workflow\'s repository (OWNER/REPO)' },
      'keyless-workflow': { type: 'string', describe: 'Publishing workflow file (.github/workflows/publish.yml)' },
      'keyless-ref': { type: 'string', describe: 'Ref it runs on: exact (refs/heads/main), or a tag prefix (refs/tags/v*)' },
      'keyless-issuer': { type: 'string', describe: 'OIDC issuer (default: GitHub Actions)' },
      'keyless-repository-id': { type: 'string', describe: 'GitHub\'s numeric id of that repository (recommended: a renamed or re-registered name then does not match)' },
      'keyless-owner-id': { type: 'string', describe: 'GitHub\'s numeric id of its owner' },
      previous: { type: 'string', describe: 'For a rotation: the root this one replaces (it must sign the new one with its threshold)' },
      'root-version': { type: 'number', describe: 'Root version (default 1, or one more than --previous)' },
      'expires-days': { type: 'number', describe: 'Days until the root expires (default 365)' },
    },
    load: () => import('./commands/index-root.js'),
  },
  {
    path: ['index', 'add'],
    describe: 'Add a package from the registry: verify every version, read its static MCS metadata, pin digests, take the publisher from provenance (never runs its code)',
    positionals: [{ name: 'spec', describe: 'NAME or NAME@RANGE (npm), pypi:NAME or pypi:NAME@VERSION (PyPI)', required: true }],
    options: {
      ...AUTHOR_OPTIONS,
      yes: { type: 'boolean', describe: 'Write without asking (for scripts); otherwise the draft is shown for confirmation' },
      'max-versions': { type: 'number', describe: 'Pin at most this many of the newest versions (default 100)' },
      registry: { type: 'string', describe: 'Registry to read from (default: npm\'s configuration)' },
      ...PYPI_INDEX_OPTION,
      ...TRUST_ROOT_OPTIONS,
    },
    load: () => import('./commands/index-add.js'),
  },
  {
    path: ['index', 'discover'],
    describe: 'Find packages on the registry named by the MCS convention that the index does not have yet',
    positionals: [],
    options: {
      all: { type: 'boolean', describe: 'List the ones already indexed too' },
      registry: { type: 'string', describe: 'Registry to search (default: npm\'s configuration)' },
    },
    load: () => import('./commands/index-discover.js'),
  },
  {
    path: ['index', 'sync'],
    describe: 'Pin new registry versions of indexed packages; hold those that drop provenance or change publisher until --accept',
    positionals: [{ name: 'names', describe: 'Packages to sync: NAME (npm) or pypi:NAME (default: every npm entry)', variadic: true }],
    options: {
      accept: { type: 'string', repeatable: true, describe: 'NAME@VERSION of a held finding to add anyway (an identity change moves the pin)' },
      'dry-run': { type: 'boolean', describe: 'Show what would be added and held; write nothing (no --by/--reason needed)' },
      ...AUTHOR_OPTIONS,
      registry: { type: 'string', describe: 'Registry to read from (default: npm\'s configuration)' },
      ...PYPI_INDEX_OPTION,
      ...TRUST_ROOT_OPTIONS,
    },
    load: () => import('./commands/index-sync.js'),
  },
  {
    path: ['index', 'label'],
    describe: 'Set a package\'s label (Verified requires every live version to verify against the pinned publisher now)',
    positionals: [{ name: 'name', describe: 'Package name (or ecosystem:name)', required: true }, { name: 'value', describe: 'verified, reference or community', required: true }],
    options: {
      ...AUTHOR_OPTIONS,
      registry: { type: 'string', describe: 'Registry to verify against (default: npm\'s configuration)' },
      ...PYPI_INDEX_OPTION,
      ...TRUST_ROOT_OPTIONS,
    },
    load: () => editAction('label'),
  },
  {
    path: ['index', 'yank'],
    describe: 'Yank a version: loaders refuse it, with the reason',
    positionals: [{ name: 'spec', describe: 'NAME@VERSION', required: true }],
    options: {
      ...AUTHOR_OPTIONS,
    },
    load: () => editAction('yank'),
  },
  {
    path: ['index', 'deprecate'],
    describe: 'Mark a version deprecated (shown; still loadable)',
    positionals: [{ name: 'spec', describe: 'NAME@VERSION', required: true }],
    options: {
      ...AUTHOR_OPTIONS,
    },
    load: () => editAction('deprecate'),
  },
  {
    path: ['index', 'quarantine'],
    describe: 'Put a package on a security hold (loaders refuse it, search shows it), or --release it',
    positionals: [{ name: 'name', describe: 'Package name (or ecosystem:name)', required: true }],
    options: {
      ...AUTHOR_OPTIONS,
      release: { type: 'boolean', describe: 'Lift the hold' },
    },
    load: () => editAction('quarantine'),
  },
  {
    path: ['index', 'permissions'],
    describe: "Declare what a package's drivers need (the tags the host confines them to), replacing what was declared",
    positionals: [{ name: 'name', describe: 'Package name (or ecosystem:name)', required: true }],
    options: {
      permission: { type: 'string', repeatable: true, choices: PERMISSIONS, describe: 'A permission the drivers need (repeat for each)' },
      none: { type: 'boolean', describe: 'Declare that they need none' },
      ...AUTHOR_OPTIONS,
    },
    examples: [['$0 index permissions mcs-driver-csv --permission filesystem:read --index my-index --key alice.pem --reason "reads the folder it is given"', 'the csv driver reads files, nothing else']],
    load: () => editAction('permissions'),
  },
  {
    path: ['index', 'log'],
    describe: 'Show the audit log (of one package); --init starts it, --upgrade records fields a newer mcs-pkg tracks',
    positionals: [{ name: 'name', describe: 'Only this package' }],
    options: {
      init: { type: 'boolean', describe: 'Start the log from the entries as they are; later, log hand-written Community entries it does not know yet' },
      upgrade: { type: 'boolean', describe: 'Adopt the log into signing (vouching for its unsigned records, and for records by keys of a --previous-root), and record the fields this mcs-pkg tracks that the log never has; lists what it vouches for (review first)' },
      'previous-root': { type: 'string', repeatable: true, describe: 'With --upgrade: an index root the current root.json rotated from; records signed by its maintainer keys are checked against it and vouched for' },
      ...AUTHOR_OPTIONS,
    },
    load: () => editAction('log'),
  },
  {
    path: ['index', 'build'],
    describe: 'Rebuild the index database from index-data',
    positionals: [],
    options: {},
    load: () => import('./commands/index-build.js'),
  },
  {
    path: ['index', 'validate'],
    describe: 'Check every index-data file and the rules across files; exit 1 on problems',
    positionals: [],
    options: {
      root: { type: 'string', describe: 'The index root whose maintainer keys must have signed the audit log (default: root.json in the index folder)' },
      published: { type: 'string', describe: 'The snapshot folder the index is published into: the audit log must extend the one its snapshot.json signs' },
    },
    load: () => import('./commands/index-validate.js'),
  },
];

/** Descriptions of the command groups (the first word of two-word commands). */
export const GROUPS: Readonly<Record<string, string>> = {
  index: 'Maintain an index',
  cache: 'The cache of verified drivers',
};

/** The index editing commands share one module; each entry binds its action. */
async function editAction(action: 'label' | 'yank' | 'deprecate' | 'quarantine' | 'permissions' | 'log'): Promise<CommandModule> {
  const { default: edit } = await import('./commands/index-edit.js');
  return { default: (args: never, context: Context) => edit(args, context, action) };
}

/** The cache commands share one module; each entry binds its action. */
async function cacheAction(action: 'ls' | 'verify' | 'clean'): Promise<CommandModule> {
  const { default: cache } = await import('./commands/cache.js');
  return { default: (args: never, context: Context) => cache(args, context, action) };
}

/** The camelCase name a handler sees for a dashed flag (cache-dir -> cacheDir), as yargs does. */
export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Arguments as handlers see them: a repeatable option is a list whether it
 * was given once or more (one value is never split into characters); any
 * other option given twice is E_USAGE naming the flag (both parsers collect
 * repeated flags into a list, which no handler of a single value expects).
 */
export function normalizeArgs(spec: CommandSpec, args: Record<string, unknown>): Record<string, unknown> {
  const normalized = { ...args };
  for (const [flag, option] of Object.entries({ ...GLOBAL_OPTIONS, ...spec.options })) {
    const value = normalized[camelCase(flag)];
    if (option.repeatable && value !== undefined && !Array.isArray(value)) normalized[camelCase(flag)] = [value];
    if (!option.repeatable && Array.isArray(value)) {
      throw new McsError('E_USAGE', `--${flag} given twice (${value.map(String).join(', ')}); it takes one value (mcs-pkg ${spec.path.join(' ')} --help)`, {
        details: { flag: `--${flag}`, command: spec.path.join(' ') },
      });
    }
  }
  return normalized;
}
