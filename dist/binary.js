'use strict';
// The action's shim: find or fetch the jit-policy binary, run it, exit with
// its code. All logic is Go (`jit-policy action run|post`); this file only
// obtains the binary, in this order:
//   1. the `binary` input (INPUT_BINARY) — never any other environment
//      variable, which an earlier step could set through GITHUB_ENV;
//   2. a release download for this runner's OS/arch, verified against the
//      SHA-256 checksums pinned below in PINNED (not the release's own
//      checksum file, which whoever controls the release also controls);
//   3. `go build ./cmd/jit-policy` in the action's own folder, when `go` is
//      on PATH.
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

// newestPinned returns the highest pinned version, '' when none is pinned.
function newestPinned(pinned) {
  const num = (v) => v.replace(/^v/, '').split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  return Object.keys(pinned).sort((a, b) => {
    const x = num(a);
    const y = num(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
    }
    return 0;
  }).pop() || '';
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

// onPath returns the path of an executable named name on PATH, or ''.
function onPath(env, name) {
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of process.platform === 'win32' ? ['.exe', ''] : ['']) {
      const file = path.join(dir, name + ext);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        if (fs.statSync(file).isFile()) return file;
      } catch {
        // not here
      }
    }
  }
  return '';
}

// build compiles ./cmd/jit-policy from the action's own folder with go.
function build(env, goBin) {
  const file = path.join(tempDir(env), exeName());
  console.log(`::group::go build ./cmd/jit-policy (no pinned release; building from ${ACTION_ROOT})`);
  const r = childProcess.spawnSync(goBin, ['build', '-o', file, './cmd/jit-policy'], {
    cwd: ACTION_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'],
  });
  console.log('::endgroup::');
  if (r.error) throw new Error(`go build: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`go build ./cmd/jit-policy failed (exit ${r.status})`);
  return file;
}

// resolveBinary obtains the binary for the main step (see the top of this
// file for the order) and returns its absolute path.
async function resolveBinary(env, pinned = PINNED, base = RELEASES) {
  const input = (env.INPUT_BINARY || '').trim();
  if (input) {
    const file = path.resolve(env.GITHUB_WORKSPACE || process.cwd(), input);
    fs.accessSync(file, fs.constants.X_OK);
    if (!fs.statSync(file).isFile()) throw new Error(`binary ${file} is not a file`);
    return file;
  }
  const version = (env.INPUT_VERSION || '').trim() || newestPinned(pinned);
  if (version) return download(env, version, pinned, base);
  const goBin = onPath(env, 'go');
  if (goBin) return build(env, goBin);
  throw new Error('no jit-policy binary: no release checksums are pinned in this action yet, and go is not on PATH (install Go, or give the binary input)');
}

// appendState records name=value in the step's GITHUB_STATE file; the post
// step reads it as STATE_<name>.
function appendState(env, name, value) {
  if (!env.GITHUB_STATE) throw new Error('GITHUB_STATE is not set: not running as a GitHub Actions step');
  if (/[\r\n]/.test(value)) throw new Error(`state ${name}: the value holds a line break`);
  fs.appendFileSync(env.GITHUB_STATE, `${name}=${value}\n`);
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
  PINNED, platform, newestPinned, resolveBinary, recordBinary, trustedBinary, run, errorCommand, onPath,
};
