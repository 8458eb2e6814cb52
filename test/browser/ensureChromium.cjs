// The browser test needs Debian's Chromium. A developer installs it once (README); CI runs as root on a
// machine that may be new, so there this installs it, and the dashboard's browser test runs instead of
// being skipped. Anywhere else it only says what is missing: a test command does not change a laptop.
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');

const CHROMIUM = '/usr/bin/chromium';
const mayInstall = process.env.CI === 'true' && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');

if (existsSync(CHROMIUM)) process.exit(0);
if (!mayInstall) {
  console.warn(
    `No Chromium at ${CHROMIUM}: the dashboard's browser test will be skipped (apt-get install -y chromium).`,
  );
  process.exit(0);
}
console.log(`No Chromium at ${CHROMIUM}: installing Debian's chromium for the browser test (CI, as root).`);
const apt = (args) =>
  execFileSync('apt-get', args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
apt(['update', '-qq']);
apt(['install', '-y', '-qq', 'chromium']);
if (!existsSync(CHROMIUM)) {
  console.error(`apt-get installed chromium, but ${CHROMIUM} is still missing.`);
  process.exit(1);
}
