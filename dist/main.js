'use strict';
// Main step of the jit-policy action: obtain the binary, record it for the
// post step, run `jit-policy action run` and exit with its code.
const b = require('./binary.js');

async function main() {
  const env = process.env;
  // Blank first, so that if obtaining the binary fails, no binary record
  // can come from a later step's GITHUB_ENV (STATE_binary-*).
  b.clearBinaryRecord(env);
  const file = await b.resolveBinary(env);
  b.recordBinary(env, file);
  return b.run(file, ['action', 'run'], env);
}

main().then((code) => process.exit(code), (err) => {
  console.log(b.errorCommand(`jit-policy action: ${err.message}`));
  process.exit(1);
});
