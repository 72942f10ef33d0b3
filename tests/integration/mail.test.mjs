// mail.test.mjs - how hearth delivers mail (README "Mail"): the outbox
// folder without SMTP, fallback to the outbox when the SMTP server is
// unreachable, --smtp credentials, settings.smtp overriding the flag with
// its password never shown, settings.meta in From and templates,
// RFC 2047 subjects, refusal of header injection, and the --smtp flag's
// validation and help text.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { HEARTH_BIN, run, sleep, startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin, guest } from './sdk.mjs';
import { linkToken, parseMail, startSmtpSink } from './smtp_sink.mjs';

const LIMIT = { timeout: UNDER_ASAN ? 180000 : 60000 };
const PW = 'password123';

async function usersCollection(su) {
	// replaces the default users collection of a fresh data dir
	await su.collections.delete('users').catch((e) => {
		if (e.status !== 404) throw e;
	});
	await su.collections.create({ name: 'users', type: 'auth', createRule: '', fields: [{ name: 'name', type: 'text' }] });
}

async function signUp(srv, email) {
	return guest(srv).collection('users').create({ email, password: PW, passwordConfirm: PW, name: 'Zoë <b>&' });
}

/** The .eml files of the outbox (waits up to 15 s for at least n). */
async function outbox(dir, n = 1) {
	const box = path.join(dir, 'outbox');
	const deadline = Date.now() + 15000;
	for (;;) {
		const files = fs.existsSync(box) ? fs.readdirSync(box).filter((f) => f.endsWith('.eml')).sort() : [];
		if (files.length >= n) return files.map((f) => path.join(box, f));
		if (Date.now() > deadline) throw new Error(`outbox has ${files.length} of ${n} messages`);
		await sleep(20);
	}
}

async function stderrMatching(srv, re) {
	const deadline = Date.now() + 10000;
	while (!re.test(srv.stderr) && Date.now() < deadline) await sleep(20);
	assert.match(srv.stderr, re);
}

function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
	});
}

describe('mail delivery', LIMIT, () => {
	test('without SMTP every message lands in DATA_DIR/outbox as a complete .eml file', async () => {
		const srv = await startHearthData([]);
		try {
			const su = await admin(srv);
			await usersCollection(su);
			const u = await signUp(srv, 'box@example.com');
			await guest(srv).collection('users').requestVerification('box@example.com');
			const [file] = await outbox(srv.dir);
			assert.match(path.basename(file), /^\d+-[0-9a-f]{16}\.eml$/);
			assert.equal(fs.statSync(file).mode & 0o777, 0o600);
			const mail = parseMail(fs.readFileSync(file, 'utf8'));
			assert.equal(mail.headers.to, '<box@example.com>');
			const token = linkToken(mail, 'verification');
			assert.ok(token);
			assert.equal(fs.readdirSync(path.dirname(file)).filter((f) => f.endsWith('.tmp')).length, 0);
			// the token in the file works
			assert.equal(await guest(srv).collection('users').confirmVerification(token), true);
			assert.equal((await su.collection('users').getOne(u.id)).verified, true);
		} finally {
			await srv.stop();
		}
	});

	test('an unreachable SMTP server: the message falls back to the outbox and a line is logged', async () => {
		const port = await freePort();
		const srv = await startHearthData(['--smtp', `smtp://127.0.0.1:${port}`]);
		try {
			const su = await admin(srv);
			await usersCollection(su);
			await signUp(srv, 'fallback@example.com');
			await guest(srv).collection('users').requestPasswordReset('fallback@example.com');
			const [file] = await outbox(srv.dir);
			assert.ok(linkToken(parseMail(fs.readFileSync(file, 'utf8')), 'password-reset'));
			// the log line may reach the pipe after the file is renamed into place
			await stderrMatching(srv, /kept in the outbox/);
			assert.match(srv.stderr, /SMTP delivery to 127\.0\.0\.1:\d+ failed/);
		} finally {
			await srv.stop();
		}
	});

	test('--smtp credentials are used (AUTH PLAIN, percent-decoded)', async () => {
		const sink = await startSmtpSink({ auth: { user: 'bob', pass: 's@cret:1' } });
		const srv = await startHearthData(['--smtp', `smtp://bob:s%40cret%3A1@127.0.0.1:${sink.port}`]);
		try {
			const su = await admin(srv);
			await usersCollection(su);
			await signUp(srv, 'authd@example.com');
			await guest(srv).collection('users').requestVerification('authd@example.com');
			const m = await sink.waitFor((x) => x.to.includes('authd@example.com'));
			assert.equal(m.auth, 'bob');
			assert.ok(!fs.existsSync(path.join(srv.dir, 'outbox')) || fs.readdirSync(path.join(srv.dir, 'outbox')).length === 0);
		} finally {
			await srv.stop();
			await sink.close();
		}
	});

	test('settings.smtp, when enabled, wins over --smtp; its password is write-only; settings.meta shapes the mail', async () => {
		const flagSink = await startSmtpSink();
		const setSink = await startSmtpSink({ auth: { user: 'carol', pass: 'pw-from-settings' } });
		const srv = await startHearthData(['--smtp', `smtp://127.0.0.1:${flagSink.port}`]);
		try {
			const su = await admin(srv);
			await usersCollection(su);
			const s = await su.settings.update({
				meta: { appName: 'Ünïcode App', senderName: 'Équipe', senderAddress: 'team@example.org', appURL: 'https://app.example.org' },
				smtp: { enabled: true, host: '127.0.0.1', port: setSink.port, username: 'carol', password: 'pw-from-settings', tls: false },
			});
			assert.equal(s.smtp.password, undefined);
			assert.equal(s.smtp.username, 'carol');
			const got = await su.settings.getAll();
			assert.equal(got.smtp.password, undefined);
			assert.ok(!JSON.stringify(got).includes('pw-from-settings'));
			await signUp(srv, 'meta@example.com');
			await guest(srv).collection('users').requestVerification('meta@example.com');
			const m = await setSink.waitFor((x) => x.to.includes('meta@example.com'));
			assert.equal(m.auth, 'carol');
			assert.equal(m.from, 'team@example.org');
			const mail = parseMail(m.raw);
			assert.equal(mail.subject, 'Verify your Ünïcode App email');
			assert.match(mail.headers.subject, /^=\?UTF-8\?B\?/, 'non-ASCII subject is RFC 2047 encoded');
			assert.ok(/^[\x20-\x7e\r\n\t]*$/.test(mail.headerLines.join('\r\n')), 'headers are ASCII');
			assert.match(mail.headers.from, /^=\?UTF-8\?B\?.*\?= <team@example\.org>$/);
			assert.ok(mail.html.includes('https://app.example.org/_/#/auth/confirm-verification/'));
			assert.equal(flagSink.messages.length, 0);
			// disabled again: the flag's server is used
			await su.settings.update({ smtp: { enabled: false } });
			await signUp(srv, 'flag@example.com');
			await guest(srv).collection('users').requestVerification('flag@example.com');
			await flagSink.waitFor((x) => x.to.includes('flag@example.com'));
			// a host that would change the SMTP URL is not used: the flag's server is
			await su.settings.update({ smtp: { enabled: true, host: `127.0.0.1:${setSink.port}/x`, localName: 'a b' } });
			await signUp(srv, 'badhost@example.com');
			await guest(srv).collection('users').requestVerification('badhost@example.com');
			await flagSink.waitFor((x) => x.to.includes('badhost@example.com'));
			assert.equal(setSink.messages.filter((x) => x.to.includes('badhost@example.com')).length, 0);
		} finally {
			await srv.stop();
			await flagSink.close();
			await setSink.close();
		}
	});

	test('header injection through a template is refused; record values are HTML-escaped in bodies', async () => {
		const sink = await startSmtpSink();
		const srv = await startHearthData(['--smtp', `smtp://127.0.0.1:${sink.port}`]);
		try {
			const su = await admin(srv);
			await usersCollection(su);
			await su.collections.update('users', {
				verificationTemplate: { subject: 'Hi\r\nBcc: victim@example.net', body: '<p>{TOKEN}</p>' },
				resetPasswordTemplate: { subject: 'Reset for {RECORD:name}', body: '<p>{RECORD:name} {RECORD:email} [{RECORD:password}] [{RECORD:tokenKey}]</p>' },
			});
			await signUp(srv, 'inj@example.com');
			await guest(srv).collection('users').requestVerification('inj@example.com');
			await guest(srv).collection('users').requestPasswordReset('inj@example.com');
			const m = await sink.waitFor((x) => x.to.includes('inj@example.com'));
			const mail = parseMail(m.raw);
			assert.equal(sink.messages.length, 1, 'the verification mail was refused');
			assert.ok(!m.raw.includes('victim@example.net'));
			assert.equal(mail.subject, 'Reset for Zoë <b>&');
			assert.ok(mail.html.includes('Zoë &lt;b&gt;&amp; inj@example.com'), mail.html);
			assert.ok(mail.html.includes('[{RECORD:password}] [{RECORD:tokenKey}]'), 'secrets are no placeholders');
			assert.match(srv.stderr, /message refused/);
			assert.ok(!fs.existsSync(path.join(srv.dir, 'outbox')), 'a refused message is not stored either');
		} finally {
			await srv.stop();
			await sink.close();
		}
	});

	test('--smtp: invalid URLs are refused at start; --help documents it', async () => {
		for (const bad of ['http://x', 'smtp://', 'smtp://host:99999', 'smtp://host/path', 'smtps://host?starttls', 'smtp://ho st']) {
			const r = await run(HEARTH_BIN, ['serve', '--http', '127.0.0.1:0', '--dir', fs.mkdtempSync('/tmp/hearth-smtp-'), '--smtp', bad]);
			assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
			assert.match(r.stderr, /invalid value for --smtp/);
		}
		const h = await run(HEARTH_BIN, ['--help']);
		assert.match(h.stdout, /--smtp URL/);
	});
});
