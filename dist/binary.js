'use strict';
// The action's shim: find or fetch the jit-policy binary, run it, exit with
// its code. All logic is Go (`jit-policy action run|post`); this file only
// obtains the binary, in this order:
//   1. the `binary` input (INPUT_BINARY) — never any other environment
//      variable, which an earlier step could set through GITHUB_ENV;
//   2. a release download for this runner's OS/arch, verified against the
//      SHA-256 checksums pinned below in PINNED (not the release's own
//      checksum file, which whoever controls the release also controls);
//   3. `go build ./cmd/jit-policy` in the action's own folder, with a `go`
//      found only in trusted places (the runner's tool cache, where
//      actions/setup-go installs Go, then /usr/local/go/bin/go and
//      /usr/bin/go; never PATH, which an earlier step can extend through
//      GITHUB_PATH) and run in an environment of the shim's own (buildEnv),
//      not the step's: GOFLAGS, GOPROXY, GOSUMDB, GOTOOLCHAIN, GOENV, CC and
//      the like from GITHUB_ENV never reach the build. Linux and macOS only.
//      This closes injection through GITHUB_ENV and GITHUB_PATH; an earlier
//      step that runs code of its own can replace any file the runner's
//      user may write (the tool cache included), which no action can stop:
//      pin a release, or give the `binary` input, where that matters.
// The main step records the binary's path and SHA-256 in its GITHUB_STATE;
// the post step runs only that file, after checking both.
// Plain Node (CommonJS, no dependencies, no build step); runs on Node 20+.

const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// PINNED maps a release tag to the SHA-256 of each platform's binary, as in
// the release's SHA256SUMS (scripts/release.sh / .goreleaser.yaml). It is
// empty until the first release: then every run falls back to `go build`.
// Adding a release means adding its checksums here and tagging the commit.
const PINNED = Object.freeze({
  // 'v1.0.0': {'linux-amd64': '<sha256>', 'linux-arm64': '…', 'darwin-amd64': '…', 'darwin-arm64': '…'},
});

// RELEASES is where release binaries are downloaded from (tests pass another
// base to resolveBinary; no environment variable can change it).
const RELEASES = 'https://github.com/jit-policy/jit-policy/releases/download';
const ACTION_ROOT = path.join(__dirname, '..');
const TEMP_PREFIX = 'jit-policy-action-';
const MAX_DOWNLOAD = 256 << 20;

// platform returns this runner's release platform, e.g. "linux-amd64".
function platform() {
  const osName = {linux: 'linux', darwin: 'darwin'}[process.platform];
  const arch = {x64: 'amd64', arm64: 'arm64'}[process.arch];
  return osName && arch ? `${osName}-${arch}` : '';
}

// compareVersions orders "v1.2.3"-like versions numerically, field by field.
function compareVersions(a, b) {
  const num = (v) => v.replace(/^v/, '').split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const x = num(a);
  const y = num(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  }
  return 0;
}

// newestPinned returns the highest pinned version, '' when none is pinned.
function newestPinned(pinned) {
  return Object.keys(pinned).sort(compareVersions).pop() || '';
}

// tempDir makes a fresh folder for a binary under RUNNER_TEMP.
function tempDir(env) {
  return fs.mkdtempSync(path.join(env.RUNNER_TEMP || os.tmpdir(), TEMP_PREFIX));
}

// exeName is the binary's file name on this OS.
function exeName() {
  return process.platform === 'win32' ? 'jit-policy.exe' : 'jit-policy';
}

// sha256File returns the hex SHA-256 of a file.
function sha256File(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// download fetches the pinned release binary of version and verifies it.
async function download(env, version, pinned, base) {
  const plat = platform();
  const sums = pinned[version];
  if (!sums) {
    throw new Error(`version ${version}: no checksums are pinned for it in this action (pinned: ${Object.keys(pinned).join(', ') || 'none'}); use the action tag of that release, or the binary input`);
  }
  if (!plat || !sums[plat]) {
    throw new Error(`version ${version} has no pinned binary for ${process.platform}/${process.arch}`);
  }
  const url = `${base}/${version}/jit-policy_${plat.replace('-', '_')}`;
  const resp = await fetch(url, {redirect: 'follow', signal: AbortSignal.timeout(120000)});
  if (!resp.ok) throw new Error(`download ${url}: HTTP ${resp.status}`);
  if (Number(resp.headers.get('content-length') || 0) > MAX_DOWNLOAD) {
    throw new Error(`download ${url}: larger than ${MAX_DOWNLOAD} bytes`);
  }
  const body = Buffer.from(await resp.arrayBuffer());
  if (body.length > MAX_DOWNLOAD) throw new Error(`download ${url}: larger than ${MAX_DOWNLOAD} bytes`);
  const got = crypto.createHash('sha256').update(body).digest('hex');
  if (got !== sums[plat]) {
    throw new Error(`download ${url}: SHA-256 ${got} does not match the pinned ${sums[plat]}`);
  }
  const file = path.join(tempDir(env), exeName());
  fs.writeFileSync(file, body, {mode: 0o755});
  return file;
}

// SYSTEM_GO are the fixed places a Go installed outside the tool cache is
// used from (the official tarball, then the distribution's package).
const SYSTEM_GO = Object.freeze(['/usr/local/go/bin/go', '/usr/bin/go']);

// SYSTEM_PATH is the build's PATH after the go binary's own folder.
const SYSTEM_PATH = Object.freeze(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);

// goCandidates lists, best first, the go binaries the shim may build with:
// the newest Go in the runner's tool cache (RUNNER_TOOL_CACHE/go/VERSION/ARCH,
// complete as actions/setup-go and the hosted images leave it), then
// SYSTEM_GO. PATH is never searched: an earlier step can put a folder in
// front of it through GITHUB_PATH. RUNNER_TOOL_CACHE is read from the
// environment, but the GitHub runner sets RUNNER_* from its runner context
// over whatever an earlier step wrote to GITHUB_ENV. Empty on Windows.
function goCandidates(env) {
  if (process.platform === 'win32') return [];
  const found = [];
  const cache = env.RUNNER_TOOL_CACHE || '';
  if (path.isAbsolute(cache)) {
    const root = path.join(cache, 'go');
    let versions = [];
    try {
      versions = fs.readdirSync(root).filter((v) => /^\d+\.\d+/.test(v));
    } catch {
      // no Go in the tool cache
    }
    for (const v of versions.sort(compareVersions).reverse()) {
      if (fs.existsSync(path.join(root, v, `${process.arch}.complete`))) {
        found.push(path.join(root, v, process.arch, 'bin', 'go'));
      }
    }
  }
  return found.concat(SYSTEM_GO);
}

// firstExecutable returns the first of files that is an executable regular
// file, '' when none is.
function firstExecutable(files) {
  for (const file of files) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return '';
}

// buildEnv is the whole environment of `go build`: nothing of the step's
// own, which an earlier step could fill through GITHUB_ENV (GOFLAGS with
// -toolexec, GOPROXY with GOSUMDB=off or GONOSUMDB/GOPRIVATE/GOINSECURE,
// GOTOOLCHAIN, GOENV, GOWORK, GOEXPERIMENT, GOROOT, CC/CGO_*, HOME, TMPDIR,
// XDG_*). HOME is the user's home from the password database (os.userInfo,
// not $HOME), so the module and build caches are Go's defaults under it.
function buildEnv(goBin, home) {
  return {
    HOME: home,
    PATH: [path.dirname(goBin), ...SYSTEM_PATH].join(path.delimiter),
    GOTOOLCHAIN: 'local',
    GOENV: 'off',
    GOWORK: 'off',
    CGO_ENABLED: '0',
    GOPROXY: 'https://proxy.golang.org,direct',
    GOSUMDB: 'sum.golang.org',
  };
}

// homeDir returns the user's home folder from the password database, or
// a fresh folder under RUNNER_TEMP when the user has none.
function homeDir(env) {
  try {
    const home = os.userInfo().homedir;
    if (home && path.isAbsolute(home)) return home;
  } catch {
    // no password database entry (e.g. an arbitrary container uid)
  }
  return tempDir(env);
}

// build compiles ./cmd/jit-policy from the action's own folder with goBin,
// in buildEnv and with its flags as arguments (GOFLAGS is not set).
function build(env, goBin) {
  const file = path.join(tempDir(env), exeName());
  console.log(`::group::go build ./cmd/jit-policy (no pinned release; building from ${ACTION_ROOT} with ${goBin})`);
  const r = childProcess.spawnSync(goBin,
    ['build', '-mod=readonly', '-trimpath', '-buildvcs=false', '-o', file, './cmd/jit-policy'], {
      cwd: ACTION_ROOT, env: buildEnv(goBin, homeDir(env)), stdio: ['ignore', 'inherit', 'inherit'],
    });
  console.log('::endgroup::');
  if (r.error) throw new Error(`go build: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`go build ./cmd/jit-policy with ${goBin} failed (exit ${r.status})`);
  return file;
}

// resolveBinary obtains the binary for the main step (see the top of this
// file for the order) and returns its absolute path.
// Tests pass goBins, the go binaries to try, in place of goCandidates(env).
async function resolveBinary(env, pinned = PINNED, base = RELEASES, goBins = goCandidates(env)) {
  const input = (env.INPUT_BINARY || '').trim();
  if (input) {
    const file = path.resolve(env.GITHUB_WORKSPACE || process.cwd(), input);
    fs.accessSync(file, fs.constants.X_OK);
    if (!fs.statSync(file).isFile()) throw new Error(`binary ${file} is not a file`);
    return file;
  }
  const version = (env.INPUT_VERSION || '').trim() || newestPinned(pinned);
  if (version) return download(env, version, pinned, base);
  const goBin = firstExecutable(goBins);
  if (goBin) return build(env, goBin);
  throw new Error('no jit-policy binary: no release checksums are pinned in this action yet, and no trusted Go was found ' +
    `(looked in ${goBins.join(', ') || 'nowhere (none is trusted on this OS)'}; $RUNNER_TOOL_CACHE/go/*/${process.arch}/bin/go is searched and PATH never is): ` +
    'run actions/setup-go before this action, install Go in /usr/local/go, or give the binary input');
}

// appendState records name=value in the step's GITHUB_STATE file; the post
// step reads it as STATE_<name>.
function appendState(env, name, value) {
  if (!env.GITHUB_STATE) throw new Error('GITHUB_STATE is not set: not running as a GitHub Actions step');
  if (/[\r\n]/.test(value)) throw new Error(`state ${name}: the value holds a line break`);
  fs.appendFileSync(env.GITHUB_STATE, `${name}=${value}\n`);
}

// clearBinaryRecord saves an empty binary record, which recordBinary
// overrides: the runner gives the post step the job's environment first and
// the saved state last, so a record this step never wrote could otherwise
// come from a later step's GITHUB_ENV.
function clearBinaryRecord(env) {
  appendState(env, 'binary-path', '');
  appendState(env, 'binary-sha256', '');
}

// recordBinary saves the binary's path and SHA-256 for the post step.
function recordBinary(env, file) {
  appendState(env, 'binary-path', file);
  appendState(env, 'binary-sha256', sha256File(file));
}

// trustedBinary returns the binary the main step recorded, '' when it
// recorded none (it failed before obtaining one, so issued nothing). It
// throws when the record does not check out: the path must be absolute and
// be either the `binary` input or a file in a folder the shim made under
// RUNNER_TEMP, and the file must still have the SHA-256 the main step saw.
function trustedBinary(env) {
  const file = env['STATE_binary-path'] || '';
  const sum = env['STATE_binary-sha256'] || '';
  if (!file && !sum) return '';
  if (!file || !sum || !path.isAbsolute(file)) throw new Error('the main step\'s binary record is incomplete');
  const input = (env.INPUT_BINARY || '').trim();
  const fromInput = input && path.resolve(env.GITHUB_WORKSPACE || process.cwd(), input) === file;
  const dir = path.dirname(file);
  const fromShim = path.basename(file) === exeName() && path.basename(dir).startsWith(TEMP_PREFIX) &&
    path.dirname(dir) === path.resolve(env.RUNNER_TEMP || os.tmpdir());
  if (!fromInput && !fromShim) throw new Error(`binary ${file} is neither the binary input nor one this action fetched`);
  if (sha256File(file) !== sum) throw new Error(`binary ${file} changed since the main step ran`);
  return file;
}

// run starts `jit-policy <args>` with inherited stdio and environment and
// resolves to its exit code (1 when it died of a signal).
function run(file, args, env) {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(file, args, {stdio: 'inherit', env});
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (signal) console.log(`::error::jit-policy ${args.join(' ')} died of ${signal}`);
      resolve(code === null ? 1 : code);
    });
  });
}

// errorCommand formats msg as one ::error:: workflow command.
function errorCommand(msg) {
  return `::error::${String(msg).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}`;
}

module.exports = {
  PINNED, platform, newestPinned, resolveBinary, clearBinaryRecord, recordBinary, trustedBinary, run, errorCommand,
  goCandidates, buildEnv,
};
