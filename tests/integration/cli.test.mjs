// cli.test.mjs - the hearth command line: version, help, bad options, a
// port that another server already listens on.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HEALTH_BODY, HEARTH_BIN, run, tmpDir, withHearth } from './lib.mjs';

describe('command line', { concurrency: 4 }, () => {
	test('hearth --version prints "hearth 0.1.0"', async () => {
		const r = await run(HEARTH_BIN, ['--version']);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(r.stdout, 'hearth 0.1.0\n');
	});

	test('hearth --help exits 0 and mentions serve', async () => {
		const r = await run(HEARTH_BIN, ['--help']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /\bserve\b/);
		assert.match(r.stdout, /--http/);
	});

	test('hearth without arguments exits 2 with usage on stderr', async () => {
		const r = await run(HEARTH_BIN, []);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /serve/);
	});

	test('an unknown option exits 2 with a message', async () => {
		const r = await run(HEARTH_BIN, ['serve', '--dir', tmpDir(), '--bogus-option']);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /--bogus-option/);
		const r2 = await run(HEARTH_BIN, ['frobnicate']);
		assert.equal(r2.code, 2);
		assert.match(r2.stderr, /frobnicate/);
	});

	test('a bad --workers value exits 2 with a message', async () => {
		for (const v of ['abc', '-1', '2x', '']) {
			const r = await run(HEARTH_BIN, ['serve', '--dir', tmpDir(), '--http', '127.0.0.1:0', '--workers', v]);
			assert.equal(r.code, 2, `--workers '${v}': exit ${r.code} ${r.stderr}`);
			assert.match(r.stderr, /workers/, `--workers '${v}'`);
		}
		const r = await run(HEARTH_BIN, ['serve', '--dir', tmpDir(), '--workers']);
		assert.equal(r.code, 2, 'missing value');
		assert.match(r.stderr, /workers/);
	});

	test('a port another server listens on: the second server exits 1 and takes no connections', async () => {
		await withHearth([], async (srv) => {
			// started on port 0: the banner names the port the kernel picked
			assert.ok(srv.stderr.includes(`listening on http://127.0.0.1:${srv.port} (port ${srv.port})`), srv.stderr);
			const r = await run(HEARTH_BIN, ['serve', '--http', `127.0.0.1:${srv.port}`, '--dir', tmpDir(), '--quiet']);
			assert.equal(r.code, 1, `second server: exit ${r.code} ${r.stderr}`);
			assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: Address already in use/);
			for (let i = 0; i < 20; i++) {
				const res = await fetch(`http://127.0.0.1:${srv.port}/api/health`, { headers: { connection: 'close' } });
				assert.equal(await res.text(), HEALTH_BODY);
			}
		});
	});

	test('bad sizes, durations and log formats exit 2', async () => {
		for (const args of [
			['--max-body', 'lots'],
			['--header-timeout', '5 minutes'],
			['--log-format', 'xml'],
			['--http', 'nonsense'],
		]) {
			const r = await run(HEARTH_BIN, ['serve', '--dir', tmpDir(), ...args]);
			assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
			assert.ok(r.stderr.length > 0);
		}
	});
});
