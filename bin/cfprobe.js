#!/usr/bin/env node
// Checks the Node version before loading anything that might fail on an older one.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 3)) {
  process.stderr.write(
    `error: cfprobe needs Node.js 20.3 or newer; this is ${process.versions.node}.\n` +
      "hint: install Node 20 LTS (https://nodejs.org) or switch with `nvm use 20`.\n",
  );
  process.exit(3);
}

const { main } = await import("../dist/cli.js");
// Exit explicitly: idle keep-alive sockets must not hold the process open after the command is done.
process.exit(await main(process.argv.slice(2)));
