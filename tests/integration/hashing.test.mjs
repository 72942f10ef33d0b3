// hashing.test.mjs - argon2id runs at once are bounded process-wide
// (src/api/api.c, api_hash_slot_take): a storm of concurrent logins must
// not hold more than the bound's worth of hash memory (64 MiB each with
// the default parameters). Without the bound, libuv's four pool threads
// hash at once and peak RSS passes 256 MiB; with two workers the bound
// is two, so the peak stays well under 200 MiB. The peak is the kernel's
// VmHWM, so the check does not depend on timing. Skipped under ASan,
// whose allocator keeps freed blocks in quarantine.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { startHearthData, UNDER_ASAN } from './lib.mjs';

function peakMiB(pid) {
	const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
	return Number(m[1]) / 1024;
}

describe('password hashing', { timeout: 120000 }, () => {
	test('a login storm holds at most two hashes in memory at once', { skip: UNDER_ASAN && 'ASan quarantine keeps freed hash memory' }, async () => {
		const srv = await startHearthData(['--workers', '2']);
		try {
			const url = `${srv.url}/api/collections/_superusers/auth-with-password`;
			const storm = Array.from({ length: 12 }, (_, i) =>
				fetch(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ identity: `nobody${i}@example.com`, password: 'wrong password' }),
				}).then((r) => r.status),
			);
			const statuses = await Promise.all(storm);
			assert.deepEqual(statuses, Array(12).fill(400));
			const peak = peakMiB(srv.proc.pid);
			assert.ok(peak > 64, `a hash ran (peak ${peak.toFixed(0)} MiB)`);
			assert.ok(peak < 200, `peak RSS ${peak.toFixed(0)} MiB: more than two hashes at once`);
		} finally {
			await srv.stop();
		}
	});
});
