// auth_flows.test.mjs - the e-mail driven auth flows through the official SDK
// (DIALECT.md §11.3, §12.5-§12.9): verification, password reset, e-mail
// change, one-time passwords and impersonation, with hearth sending its
// mail over SMTP to a local sink (smtp_sink.mjs) from which the tests read
// the links, tokens and codes. Every error path of §12.5-§12.9 has a case.
//
// Mail is asynchronous: "no mail was sent" is checked with a marker - a
// later request that does send mail; the mail thread works in order, so
// once the marker's mail arrived, any earlier one would have too.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, sqlite, startHearthData, UNDER_ASAN } from './lib.mjs';
import { admin, fieldCode, guest, rejects } from './sdk.mjs';
import { linkToken, parseMail, startSmtpSink } from './smtp_sink.mjs';

const LIMIT = { timeout: UNDER_ASAN ? 240000 : 90000 };
const PW = 'password123';

function claims(token) {
	return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

describe('auth flows', LIMIT, () => {
	let srv, sink, su;
	let seq = 0;

	before(async () => {
		sink = await startSmtpSink();
		srv = await startHearthData(['--workers', '2', '--smtp', `smtp://127.0.0.1:${sink.port}`]);
		su = await admin(srv);
		// every request here comes from 127.0.0.1 and many of them fail on
		// purpose; the auth guard itself is tested in guard.test.mjs
		await su.settings.update({ authGuard: { perIP: { maxRequests: 100000, duration: 60 }, perIdentity: { maxRequests: 100000, duration: 300 } } });
		const auth = (name, extra = {}) =>
			su.collections.create({
				name,
				type: 'auth',
				createRule: '',
				viewRule: 'id = @request.auth.id',
				updateRule: 'id = @request.auth.id',
				fields: [{ name: 'name', type: 'text' }],
				...extra,
			});
		// a fresh data dir has the default users collection: start from ours
		await su.collections.delete('users');
		await auth('users');
		await auth('others');
		await auth('nopw', { passwordAuth: { enabled: false } });
		await auth('otpusers', { otp: { enabled: true, duration: 180, length: 6 } });
		await auth('mfausers', { otp: { enabled: true, length: 6 }, mfa: { enabled: true, rule: "name != 'single'" } });
	});

	after(async () => {
		await srv?.stop();
		await sink?.close();
	});

	/** A fresh user of coll: {record, email, pb (a client logged in as it)}. */
	async function user(coll = 'users', login = true) {
		const email = `u${++seq}-${Date.now()}@example.com`;
		const pb = guest(srv);
		const record = await pb.collection(coll).create({ email, password: PW, passwordConfirm: PW, name: `User ${seq}` });
		if (login) await pb.collection(coll).authWithPassword(email, PW);
		return { record, email, pb };
	}

	/** The first mail to `to` whose subject matches re, parsed. */
	async function mailTo(to, re = /./) {
		const m = await sink.waitFor((x) => x.to.includes(to) && re.test(parseMail(x.raw).subject));
		return { ...parseMail(m.raw), envelope: m };
	}

	function count(to) {
		return sink.messages.filter((x) => x.to.includes(to)).length;
	}

	/** Sends a mail that must arrive (a verification to a fresh user) and waits for it. */
	async function marker() {
		const u = await user('users', false);
		await guest(srv).collection('users').requestVerification(u.email);
		await mailTo(u.email);
	}

	test('verification: request, mail, confirm; the SDK updates its stored record', async () => {
		const u = await user();
		assert.equal(u.pb.authStore.record.verified, false);
		await u.pb.collection('users').requestVerification(u.email);
		const mail = await mailTo(u.email, /^Verify your hearth email$/);
		assert.equal(mail.envelope.from, 'no-reply@example.com');
		assert.equal(mail.headers.from, '"Support" <no-reply@example.com>');
		assert.equal(mail.headers.to, `<${u.email}>`);
		const token = linkToken(mail, 'verification');
		assert.ok(token, mail.html);
		assert.ok(mail.html.includes('http://127.0.0.1:8090/_/#/auth/confirm-verification/'));
		assert.ok(mail.text.includes(token), 'plain-text part carries the link');
		const c = claims(token);
		assert.deepEqual(Object.keys(c), ['collectionId', 'email', 'exp', 'id', 'type']);
		assert.equal(c.type, 'verification');
		assert.equal(c.email, u.email);
		assert.equal(c.id, u.record.id);

		assert.equal(await u.pb.collection('users').confirmVerification(token), true);
		assert.equal(u.pb.authStore.record.verified, true);
		const fresh = await u.pb.collection('users').getOne(u.record.id);
		assert.equal(fresh.verified, true);
		// the same token again: still valid, still 204 (verification rotates nothing)
		assert.equal(await guest(srv).collection('users').confirmVerification(token), true);
		// the auth token still works (tokenKey unchanged)
		await u.pb.collection('users').authRefresh();
	});

	test('verification mail: at most one per record per 2 minutes; none once verified; none for unknown addresses', async () => {
		const u = await user('users', false);
		const g = guest(srv).collection('users');
		await g.requestVerification(u.email);
		await mailTo(u.email);
		await g.requestVerification(u.email);
		await g.requestVerification('nobody-here@example.com');
		await marker();
		assert.equal(count(u.email), 1);
		assert.equal(count('nobody-here@example.com'), 0);
	});

	test('request-verification: validation, _superusers, non-auth and unknown collections', async () => {
		const g = guest(srv);
		let e = await rejects(g.collection('users').requestVerification('not-an-email'), 400,
			'An error occurred while validating the submitted data.');
		fieldCode(e, 'email', 'validation_is_email');
		e = await rejects(g.collection('users').requestVerification(''), 400);
		fieldCode(e, 'email', 'validation_required');
		await rejects(g.collection('_superusers').requestVerification(srv.email), 400, 'All superusers are verified by default.');
		await rejects(g.collection('_superusers').confirmVerification('x.y.z'), 400, 'All superusers are verified by default.');
		await rejects(g.collection('nope').requestVerification('a@example.com'), 404, 'Missing or invalid auth collection context.');
		await su.collections.create({ name: 'plainbase', type: 'base', fields: [{ name: 't', type: 'text' }] });
		await rejects(g.collection('plainbase').requestVerification('a@example.com'), 404, 'Missing or invalid auth collection context.');
		const r = await api(srv, 'POST', '/api/collections/users/request-verification', { body: { email: 5 } });
		assert.equal(r.status, 400);
		assert.equal(r.json.message, 'An error occurred while loading the submitted data.');
	});

	test('no enumeration: request-* answer the same for known and unknown addresses', async () => {
		const u = await user('users', false);
		for (const path of ['request-verification', 'request-password-reset']) {
			const a = await api(srv, 'POST', `/api/collections/users/${path}`, { body: { email: u.email } });
			const b = await api(srv, 'POST', `/api/collections/users/${path}`, { body: { email: 'ghost@example.com' } });
			assert.equal(a.status, 204);
			assert.equal(b.status, 204);
			assert.equal(a.text, '');
			assert.equal(b.text, '');
		}
		const o1 = await api(srv, 'POST', '/api/collections/otpusers/request-otp', { body: { email: 'ghost@example.com' } });
		assert.equal(o1.status, 200);
		assert.deepEqual(Object.keys(o1.json), ['otpId']);
		assert.match(o1.json.otpId, /^[a-z0-9]{15}$/);
	});

	test('confirm-verification: every token error', async () => {
		const u = await user();
		const v = await user('others');
		const g = guest(srv);
		await u.pb.collection('users').requestVerification(u.email);
		const token = linkToken(await mailTo(u.email, /Verify/), 'verification');
		await v.pb.collection('others').requestVerification(v.email);
		const otherToken = linkToken(await mailTo(v.email, /Verify/), 'verification');
		const w = await user();
		await w.pb.collection('users').requestPasswordReset(w.email);
		const resetToken = linkToken(await mailTo(w.email, /Reset/), 'password-reset');

		const bad = async (tok, code) => {
			const e = await rejects(g.collection('users').confirmVerification(tok), 400,
				'An error occurred while validating the submitted data.');
			fieldCode(e, 'token', code);
		};
		await bad('garbage', 'validation_invalid_token');
		await bad(u.pb.authStore.token, 'validation_invalid_token'); // an auth token
		await bad(resetToken, 'validation_invalid_token'); // another type
		await bad(otherToken, 'validation_token_collection_mismatch'); // another collection
		const parts = token.split('.');
		const sig = parts[2];
		const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
		await bad([parts[0], parts[1], flipped].join('.'), 'validation_invalid_token'); // tampered
		const forged = { ...claims(token), id: w.record.id };
		await bad([parts[0], Buffer.from(JSON.stringify(forged)).toString('base64url'), sig].join('.'), 'validation_invalid_token');
		let e = await rejects(g.collection('users').confirmVerification(''), 400);
		fieldCode(e, 'token', 'validation_required');
		// the record's e-mail changed since the token was issued
		await sqlite(srv.db, `UPDATE users SET email = 'moved-${u.record.id}@example.com' WHERE id = '${u.record.id}'`);
		await bad(token, 'validation_token_email_mismatch');
		// the token of the other collection is fine there
		assert.equal(await g.collection('others').confirmVerification(otherToken), true);
	});

	test('password reset: new password works, old one and every old token do not, token single use', async () => {
		const u = await user();
		const oldToken = u.pb.authStore.token;
		await guest(srv).collection('users').requestPasswordReset(u.email);
		const mail = await mailTo(u.email, /^Reset your hearth password$/);
		const token = linkToken(mail, 'password-reset');
		assert.ok(token, mail.html);
		assert.equal(claims(token).type, 'passwordReset');
		assert.equal(await guest(srv).collection('users').confirmPasswordReset(token, 'brand-new-pw', 'brand-new-pw'), true);
		// every earlier token is revoked
		const old = guest(srv);
		old.authStore.save(oldToken, u.pb.authStore.record);
		await rejects(old.collection('users').authRefresh(), 401);
		await rejects(guest(srv).collection('users').authWithPassword(u.email, PW), 400, 'Failed to authenticate.');
		const fresh = guest(srv);
		const auth = await fresh.collection('users').authWithPassword(u.email, 'brand-new-pw');
		assert.equal(auth.record.verified, true, 'the reset proved the address');
		// the reset token was used: tokenKey rotated
		const e = await rejects(guest(srv).collection('users').confirmPasswordReset(token, 'another-pw-1', 'another-pw-1'), 400);
		fieldCode(e, 'token', 'validation_invalid_token');
		await guest(srv).collection('users').authWithPassword(u.email, 'brand-new-pw');
	});

	test('password reset: validation and refusals', async () => {
		const g = guest(srv);
		let e = await rejects(g.collection('users').requestPasswordReset('nope'), 400);
		fieldCode(e, 'email', 'validation_is_email');
		e = await rejects(g.collection('users').requestPasswordReset(''), 400);
		fieldCode(e, 'email', 'validation_required');
		await rejects(g.collection('nopw').requestPasswordReset('a@example.com'), 400,
			'The collection is not configured to allow password authentication.');
		const u = await user('users', false);
		await g.collection('users').requestPasswordReset(u.email);
		const token = linkToken(await mailTo(u.email, /Reset/), 'password-reset');
		e = await rejects(g.collection('users').confirmPasswordReset(token, 'abcdefgh1', 'abcdefgh2'), 400);
		fieldCode(e, 'passwordConfirm', 'validation_values_mismatch');
		e = await rejects(g.collection('users').confirmPasswordReset(token, 'short', 'short'), 400);
		fieldCode(e, 'password', 'validation_length_out_of_range');
		e = await rejects(g.collection('users').confirmPasswordReset('', 'abcdefgh1', 'abcdefgh1'), 400);
		fieldCode(e, 'token', 'validation_required');
		e = await rejects(g.collection('users').confirmPasswordReset(token, '', ''), 400);
		fieldCode(e, 'password', 'validation_required');
		const v = await user('others', false);
		await g.collection('others').requestPasswordReset(v.email);
		const otherToken = linkToken(await mailTo(v.email, /Reset/), 'password-reset');
		e = await rejects(g.collection('users').confirmPasswordReset(otherToken, 'abcdefgh1', 'abcdefgh1'), 400);
		fieldCode(e, 'token', 'validation_token_collection_mismatch');
		// the failed attempts changed nothing: the token still works once
		assert.equal(await g.collection('users').confirmPasswordReset(token, 'abcdefgh1', 'abcdefgh1'), true);
		await g.collection('users').authWithPassword(u.email, 'abcdefgh1');
		// one reset mail per 2 minutes
		await g.collection('users').requestPasswordReset(u.email);
		await marker();
		assert.equal(sink.messages.filter((x) => x.to.includes(u.email) && /Reset/.test(parseMail(x.raw).subject)).length, 1);
	});

	test('e-mail change: mail to the new address, password checked, old tokens revoked, new address logs in', async () => {
		const u = await user();
		const newEmail = `changed-${u.record.id}@example.com`;
		await u.pb.collection('users').requestEmailChange(newEmail);
		const mail = await mailTo(newEmail, /^Confirm your hearth new email address$/);
		const token = linkToken(mail, 'email-change');
		const c = claims(token);
		assert.deepEqual(Object.keys(c), ['collectionId', 'email', 'exp', 'id', 'newEmail', 'type']);
		assert.equal(c.newEmail, newEmail);
		assert.equal(c.email, u.email);
		const g = guest(srv);
		let e = await rejects(g.collection('users').confirmEmailChange(token, 'wrong-password'), 400);
		fieldCode(e, 'password', 'validation_invalid_password');
		e = await rejects(g.collection('users').confirmEmailChange(token, ''), 400);
		fieldCode(e, 'password', 'validation_required');
		const oldToken = u.pb.authStore.token;
		assert.equal(await u.pb.collection('users').confirmEmailChange(token, PW), true);
		assert.equal(u.pb.authStore.token, '', 'the SDK cleared its auth store');
		const old = guest(srv);
		old.authStore.save(oldToken, null);
		await rejects(old.collection('users').authRefresh(), 401);
		await rejects(g.collection('users').authWithPassword(u.email, PW), 400);
		const auth = await g.collection('users').authWithPassword(newEmail, PW);
		assert.equal(auth.record.email, newEmail);
		assert.equal(auth.record.verified, true);
		e = await rejects(g.collection('users').confirmEmailChange(token, PW), 400);
		fieldCode(e, 'token', 'validation_invalid_token');
	});

	test('e-mail change: refusals and validation', async () => {
		const u = await user();
		const v = await user();
		const o = await user('others');
		const g = guest(srv);
		await rejects(g.collection('users').requestEmailChange('x@example.com'), 401,
			'The request requires valid record authorization token.');
		await rejects(o.pb.collection('users').requestEmailChange('x@example.com'), 403,
			'The request requires auth record from users collection.');
		await rejects(su.collection('_superusers').requestEmailChange('x@example.com'), 400,
			'All superusers can change their emails directly.');
		let e = await rejects(u.pb.collection('users').requestEmailChange('bad'), 400);
		fieldCode(e, 'newEmail', 'validation_is_email');
		e = await rejects(u.pb.collection('users').requestEmailChange(''), 400);
		fieldCode(e, 'newEmail', 'validation_required');
		e = await rejects(u.pb.collection('users').requestEmailChange(u.email), 400);
		fieldCode(e, 'newEmail', 'validation_invalid_new_email');
		e = await rejects(u.pb.collection('users').requestEmailChange(v.email), 400);
		fieldCode(e, 'newEmail', 'validation_invalid_new_email');
		// the address got taken between request and confirmation
		const target = `race-${u.record.id}@example.com`;
		await u.pb.collection('users').requestEmailChange(target);
		const token = linkToken(await mailTo(target), 'email-change');
		await g.collection('users').create({ email: target, password: PW, passwordConfirm: PW });
		e = await rejects(g.collection('users').confirmEmailChange(token, PW), 400);
		fieldCode(e, 'token', 'validation_invalid_token_email');
		// wrong type, other collection
		await u.pb.collection('users').requestVerification(u.email);
		const vt = linkToken(await mailTo(u.email, /Verify/), 'verification');
		e = await rejects(g.collection('users').confirmEmailChange(vt, PW), 400);
		fieldCode(e, 'token', 'validation_invalid_token');
		const ot = `other-${o.record.id}@example.com`;
		await o.pb.collection('others').requestEmailChange(ot);
		const otok = linkToken(await mailTo(ot), 'email-change');
		e = await rejects(g.collection('users').confirmEmailChange(otok, PW), 400);
		fieldCode(e, 'token', 'validation_token_collection_mismatch');
	});

	test('OTP: request, mailed code, auth-with-otp; unverified record becomes verified and its old password stops working', async () => {
		const u = await user('otpusers', false);
		const g = guest(srv);
		const methods = await g.collection('otpusers').listAuthMethods();
		assert.deepEqual(methods.otp, { enabled: true, duration: 180 });
		const { otpId } = await g.collection('otpusers').requestOTP(u.email);
		assert.match(otpId, /^[a-z0-9]{15}$/);
		const mail = await mailTo(u.email, /^OTP for hearth$/);
		const code = /<strong>(\d+)<\/strong>/.exec(mail.html)?.[1];
		assert.match(code, /^\d{6}$/);
		const auth = await g.collection('otpusers').authWithOTP(otpId, code);
		assert.equal(auth.record.id, u.record.id);
		assert.equal(auth.record.verified, true);
		assert.equal(claims(auth.token).refreshable, true);
		assert.equal(g.authStore.record.id, u.record.id);
		await g.collection('otpusers').authRefresh();
		// used once only
		await rejects(guest(srv).collection('otpusers').authWithOTP(otpId, code), 400, 'Invalid or expired OTP.');
		// pre-hijacking guard: the password set before the address was proven is gone
		await rejects(guest(srv).collection('otpusers').authWithPassword(u.email, PW), 400);
		// a verified record keeps its password
		const { otpId: id2 } = await g.collection('otpusers').requestOTP(u.email);
		const m2 = await sink.waitFor((x) => x.to.includes(u.email) && x.raw.includes(id2) === false && x !== mail.envelope);
		const code2 = /<strong>(\d+)<\/strong>/.exec(parseMail(m2.raw).html)[1];
		const a2 = await guest(srv).collection('otpusers').authWithOTP(id2, code2);
		assert.equal(a2.record.id, u.record.id);
	});

	test('OTP: wrong code, unknown id, other collection, disabled, too many attempts', async () => {
		const g = guest(srv);
		const u = await user('otpusers', false);
		await rejects(g.collection('users').requestOTP('a@example.com'), 403,
			'The collection is not configured to allow OTP authentication.');
		await rejects(g.collection('users').authWithOTP('abcdefghijklmno', '123456'), 403,
			'The collection is not configured to allow OTP authentication.');
		let e = await rejects(g.collection('otpusers').requestOTP('bad'), 400);
		fieldCode(e, 'email', 'validation_is_email');
		e = await rejects(g.collection('otpusers').authWithOTP('', ''), 400);
		fieldCode(e, 'otpId', 'validation_required');
		fieldCode(e, 'password', 'validation_required');
		const ghost = await g.collection('otpusers').requestOTP('ghost-otp@example.com');
		await rejects(g.collection('otpusers').authWithOTP(ghost.otpId, '123456'), 400, 'Invalid or expired OTP.');

		const { otpId } = await g.collection('otpusers').requestOTP(u.email);
		const code = /<strong>(\d+)<\/strong>/.exec((await mailTo(u.email, /OTP/)).html)[1];
		const wrong = code === '000000' ? '111111' : '000000';
		// another auth collection with OTP on does not accept it
		await su.collections.update('others', { otp: { enabled: true, duration: 180, length: 6 } });
		await rejects(g.collection('others').authWithOTP(otpId, code), 400, 'Invalid or expired OTP.');
		for (let i = 0; i < 5; i++) await rejects(g.collection('otpusers').authWithOTP(otpId, wrong), 400, 'Invalid or expired OTP.');
		// the 6th attempt inside the window is refused even with the right code
		await rejects(g.collection('otpusers').authWithOTP(otpId, code), 429,
			'Too many attempts, please try again later with a new OTP.');
	});

	test('OTP: past 9 live OTPs a request answers the newest otpId again and sends nothing', async () => {
		const u = await user('otpusers', false);
		const g = guest(srv);
		const ids = [];
		for (let i = 1; i <= 10; i++) {
			ids.push((await g.collection('otpusers').requestOTP(u.email)).otpId);
			await sink.waitFor(() => count(u.email) === i);
		}
		assert.equal(new Set(ids).size, 10);
		const again = await g.collection('otpusers').requestOTP(u.email);
		assert.equal(again.otpId, ids[9]);
		await marker();
		assert.equal(count(u.email), 10, 'no mail for the reused OTP');
		const live = await sqlite(srv.db, `SELECT count(*) FROM _otps WHERE recordRef = '${u.record.id}'`);
		assert.equal(live.trim(), '10');
		const last = sink.messages.filter((x) => x.to.includes(u.email)).at(-1);
		const code = /<strong>(\d+)<\/strong>/.exec(parseMail(last.raw).html)[1];
		const auth = await guest(srv).collection('otpusers').authWithOTP(again.otpId, code);
		assert.equal(auth.record.id, u.record.id);
		// one used: nine left, so the next request mints and mails a new one
		const fresh = await g.collection('otpusers').requestOTP(u.email);
		assert.ok(!ids.includes(fresh.otpId));
		await sink.waitFor(() => count(u.email) === 11);
	});

	/** The 401 {"mfaId"} answer of a first factor; returns the mfaId. */
	async function firstFactor(promise) {
		let err;
		await promise.catch((e) => (err = e));
		assert.ok(err, 'expected the first factor to be refused with 401');
		assert.equal(err.status, 401, JSON.stringify(err.response));
		assert.deepEqual(Object.keys(err.response), ['mfaId']);
		assert.match(err.response.mfaId, /^[a-z0-9]{15}$/);
		return err.response.mfaId;
	}

	/** Requests an OTP for email and reads its code from the mail. */
	async function otpCode(coll, email) {
		const n = count(email);
		const { otpId } = await guest(srv).collection(coll).requestOTP(email);
		const m = await sink.waitFor((x) => x.to.includes(email) && sink.messages.filter((y) => y.to.includes(email)).indexOf(x) === n);
		return { otpId, code: /<strong>(\d+)<\/strong>/.exec(parseMail(m.raw).html)[1] };
	}

	test('MFA: password then OTP, OTP then password; the session is used once', async () => {
		const u = await user('mfausers', false);
		const g = guest(srv);
		assert.deepEqual((await g.collection('mfausers').listAuthMethods()).mfa, { enabled: true, duration: 600 });
		assert.deepEqual((await g.collection('users').listAuthMethods()).mfa, { enabled: false, duration: 0 });
		const mfaId = await firstFactor(g.collection('mfausers').authWithPassword(u.email, PW));
		assert.equal(g.authStore.token, '');
		// the same method again does not complete it, and leaves the session usable
		await rejects(g.collection('mfausers').authWithPassword(u.email, PW, { mfaId }), 400,
			'A different authentication method is required.');
		const { otpId, code } = await otpCode('mfausers', u.email);
		const auth = await g.collection('mfausers').authWithOTP(otpId, code, { mfaId });
		assert.equal(auth.record.id, u.record.id);
		assert.equal(auth.record.verified, true);
		assert.equal(g.authStore.record.id, u.record.id);
		// used up
		const o2 = await otpCode('mfausers', u.email);
		await rejects(guest(srv).collection('mfausers').authWithOTP(o2.otpId, o2.code, { mfaId }), 400,
			'Invalid or expired MFA session.');
		// OTP first (the password survives the verification: it is the other factor), body key
		const o3 = await otpCode('mfausers', u.email);
		const id2 = await firstFactor(guest(srv).collection('mfausers').authWithOTP(o3.otpId, o3.code));
		const r = await api(srv, 'POST', '/api/collections/mfausers/auth-with-password', { body: { identity: u.email, password: PW, mfaId: id2 } });
		assert.equal(r.status, 200, r.text);
		assert.equal(r.json.record.id, u.record.id);
		assert.ok(r.json.token);
	});

	test('MFA: foreign, unknown and expired sessions; mfa.rule; superusers with OTP; collections without MFA', async () => {
		const a = await user('mfausers', false);
		const b = await user('mfausers', false);
		const g = guest(srv);
		const mfaId = await firstFactor(g.collection('mfausers').authWithPassword(a.email, PW));
		const { otpId, code } = await otpCode('mfausers', b.email);
		await rejects(g.collection('mfausers').authWithOTP(otpId, code, { mfaId }), 400, 'Invalid MFA session.');
		const o = await otpCode('mfausers', a.email);
		await rejects(g.collection('mfausers').authWithOTP(o.otpId, o.code, { mfaId: 'nosuchmfaid1234' }), 400,
			'Invalid or expired MFA session.');
		await sqlite(srv.db, `UPDATE _mfas SET expires = 1 WHERE id = '${mfaId}'`);
		const o2 = await otpCode('mfausers', a.email);
		await rejects(g.collection('mfausers').authWithOTP(o2.otpId, o2.code, { mfaId }), 400,
			'Invalid or expired MFA session.');
		// a record outside mfa.rule logs in with one factor
		const s = await user('mfausers', false);
		await su.collection('mfausers').update(s.record.id, { name: 'single' });
		const one = await guest(srv).collection('mfausers').authWithPassword(s.email, PW);
		assert.equal(one.record.id, s.record.id);
		// collections without MFA ignore an mfaId
		const plain = await user('users', false);
		const p = await guest(srv).collection('users').authWithPassword(plain.email, PW, { mfaId: 'whatever1234567' });
		assert.equal(p.record.id, plain.record.id);
		// _superusers with OTP on always have MFA on
		const suLogin = () => api(srv, 'POST', '/api/collections/_superusers/auth-with-password', { body: { identity: srv.email, password: srv.password } });
		assert.equal((await suLogin()).status, 200);
		await su.collections.update('_superusers', { otp: { enabled: true } });
		try {
			const r = await suLogin();
			assert.equal(r.status, 401, r.text);
			assert.match(r.json.mfaId, /^[a-z0-9]{15}$/);
		} finally {
			await su.collections.update('_superusers', { otp: { enabled: false } });
		}
		assert.equal((await suLogin()).status, 200);
	});

	test('impersonate: superusers only, non-refreshable token of the given duration', async () => {
		const u = await user();
		const before = Math.floor(Date.now() / 1000);
		const imp = await su.collection('users').impersonate(u.record.id, 100);
		const c = claims(imp.authStore.token);
		assert.equal(c.refreshable, false);
		assert.equal(c.type, 'auth');
		assert.equal(c.id, u.record.id);
		assert.ok(c.exp >= before + 100 && c.exp <= before + 110, `exp ${c.exp} vs ${before}`);
		assert.equal(imp.authStore.record.email, u.email);
		const refreshed = await imp.collection('users').authRefresh();
		assert.equal(refreshed.token, imp.authStore.token, 'non-refreshable tokens are echoed');
		const full = await su.collection('users').impersonate(u.record.id, 0);
		const fc = claims(full.authStore.token);
		assert.ok(fc.exp >= before + 432000 - 5, 'duration 0: the collection default');

		await rejects(guest(srv).collection('users').impersonate(u.record.id, 10), 401);
		await rejects(u.pb.collection('users').impersonate(u.record.id, 10), 403,
			'The authorized record is not allowed to perform this action.');
		await rejects(su.collection('users').impersonate('nosuchrecord123', 10), 404);
		const r = await api(srv, 'POST', `/api/collections/users/impersonate/${u.record.id}`, {
			token: su.authStore.token,
			body: { duration: -1 },
		});
		assert.equal(r.status, 400);
		assert.equal(r.json.data.duration.code, 'validation_min_greater_equal_than_required');
	});
});
