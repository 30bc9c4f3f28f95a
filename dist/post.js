'use strict';
// Post step of the jit-policy action (post-if: always()): run
// `jit-policy action post` with the binary the main step recorded, which
// revokes exactly the leases in the main step's state. When the main step
// recorded no binary it never ran jit-policy, so nothing was issued.
const b = require('./binary.js');

async function post() {
  const env = process.env;
  const file = b.trustedBinary(env);
  if (!file) {
    console.log('jit-policy: the main step obtained no binary and issued nothing; nothing to revoke');
    return 0;
  }
  return b.run(file, ['action', 'post'], env);
}

post().then((code) => process.exit(code), (err) => {
  console.log(b.errorCommand(`jit-policy action post: ${err.message}`));
  process.exit(1);
});
