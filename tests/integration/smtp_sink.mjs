// smtp_sink.mjs - a small SMTP server for the tests (RFC 5321 subset, plain
// node:net): EHLO/HELO, AUTH PLAIN (when given credentials), MAIL, RCPT,
// DATA (with dot-unstuffing), RSET, NOOP, QUIT. Every accepted message is
// kept in sink.messages as {from, to, auth, raw}; parseMail() splits one
// into headers and decoded text/html parts so tests can read the links,
// tokens and codes a mail carries.

import net from 'node:net';
import { sleep } from './lib.mjs';

/**
 * Starts a sink on 127.0.0.1 (free port). opts.auth = {user, pass}
 * advertises AUTH PLAIN and requires it before MAIL.
 */
export function startSmtpSink(opts = {}) {
	const messages = [];
	const sockets = new Set();
	const server = net.createServer((sock) => {
		sockets.add(sock);
		sock.on('close', () => sockets.delete(sock));
		sock.on('error', () => {});
		let buf = '';
		let inData = false;
		let data = [];
		let cur = { from: null, to: [], auth: null };
		let authed = !opts.auth;
		let authUser = null;
		let pendingAuth = false;
		const say = (line) => sock.write(line + '\r\n');
		const checkPlain = (b64) => {
			const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
			if (parts[1] === opts.auth.user && parts[2] === opts.auth.pass) {
				authed = true;
				authUser = parts[1];
				say('235 2.7.0 accepted');
			} else {
				say('535 5.7.8 bad credentials');
			}
		};
		say('220 sink.test ESMTP ready');
		sock.setEncoding('latin1');
		sock.on('data', (chunk) => {
			buf += chunk;
			let i;
			while ((i = buf.indexOf('\r\n')) >= 0) {
				const line = buf.slice(0, i);
				buf = buf.slice(i + 2);
				if (inData) {
					if (line === '.') {
						inData = false;
						const raw = Buffer.from(data.join('\r\n') + '\r\n', 'latin1').toString('utf8');
						messages.push({ ...cur, auth: authUser, raw });
						cur = { from: null, to: [], auth: null };
						data = [];
						say('250 2.0.0 queued');
					} else {
						data.push(line.startsWith('.') ? line.slice(1) : line);
					}
					continue;
				}
				if (pendingAuth) {
					pendingAuth = false;
					checkPlain(line);
					continue;
				}
				const verb = line.split(' ')[0].toUpperCase();
				if (verb === 'EHLO') {
					const lines = ['250-sink.test', '250-8BITMIME'];
					if (opts.auth) lines.push('250-AUTH PLAIN');
					lines.push('250 SIZE 10485760');
					sock.write(lines.join('\r\n') + '\r\n');
				} else if (verb === 'HELO') {
					say('250 sink.test');
				} else if (verb === 'AUTH') {
					const [, mech, arg] = line.split(' ');
					if (!opts.auth || (mech || '').toUpperCase() !== 'PLAIN') {
						say('504 5.5.4 unsupported');
						continue;
					}
					if (arg) {
						checkPlain(arg);
					} else {
						pendingAuth = true; // the client waits for an empty challenge
						say('334 ');
					}
				} else if (verb === 'MAIL') {
					if (!authed) {
						say('530 5.7.0 authentication required');
						continue;
					}
					cur.from = (/<([^>]*)>/.exec(line) || [])[1] ?? null;
					say('250 2.1.0 ok');
				} else if (verb === 'RCPT') {
					cur.to.push((/<([^>]*)>/.exec(line) || [])[1] ?? null);
					say('250 2.1.5 ok');
				} else if (verb === 'DATA') {
					if (!cur.from || !cur.to.length) {
						say('503 5.5.1 need MAIL and RCPT');
						continue;
					}
					inData = true;
					say('354 end with <CRLF>.<CRLF>');
				} else if (verb === 'RSET') {
					cur = { from: null, to: [], auth: null };
					say('250 2.0.0 ok');
				} else if (verb === 'NOOP') {
					say('250 2.0.0 ok');
				} else if (verb === 'QUIT') {
					say('221 2.0.0 bye');
					sock.end();
				} else {
					say('502 5.5.2 unknown command');
				}
			}
		});
	});
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			resolve({
				port: server.address().port,
				messages,
				/** Waits for a message matching pred (default: any new one). */
				async waitFor(pred = () => true, ms = 15000) {
					const deadline = Date.now() + ms;
					for (;;) {
						const m = messages.find(pred);
						if (m) return m;
						if (Date.now() > deadline) throw new Error(`no matching mail within ${ms} ms (${messages.length} received)`);
						await sleep(20);
					}
				},
				close() {
					for (const s of sockets) s.destroy();
					return new Promise((r) => server.close(() => r()));
				},
			});
		});
	});
}

function decodeQP(s) {
	const bytes = [];
	const soft = s.replace(/=\r?\n/g, '');
	for (let i = 0; i < soft.length; i++) {
		if (soft[i] === '=' && /^[0-9A-F]{2}$/.test(soft.slice(i + 1, i + 3))) {
			bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
			i += 2;
		} else {
			bytes.push(...Buffer.from(soft[i], 'utf8'));
		}
	}
	return Buffer.from(bytes).toString('utf8');
}

/** Decodes RFC 2047 encoded-words ("B" encoding) in a header value. */
export function decodeHeader(v) {
	return v
		.replace(/\?=\s+=\?/g, '?==?')
		.replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_, b) => Buffer.from(b, 'base64').toString('utf8'));
}

/**
 * Splits a raw RFC 5322 message: {headers: {lower-case name: raw value},
 * headerLines, subject (decoded), text, html}.
 */
export function parseMail(raw) {
	const cut = raw.indexOf('\r\n\r\n');
	const head = raw.slice(0, cut);
	const body = raw.slice(cut + 4);
	const headerLines = head.split(/\r\n(?![ \t])/);
	const headers = {};
	for (const l of headerLines) {
		const c = l.indexOf(':');
		headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
	}
	const out = { headers, headerLines, subject: decodeHeader(headers.subject || ''), text: '', html: '' };
	const b = /boundary="([^"]+)"/.exec(headers['content-type'] || '');
	if (!b) return out;
	for (const part of body.split('--' + b[1])) {
		const pc = part.indexOf('\r\n\r\n');
		if (pc < 0) continue;
		const ph = part.slice(0, pc);
		const pb = part.slice(pc + 4);
		const decoded = /quoted-printable/i.test(ph) ? decodeQP(pb) : pb;
		if (/text\/plain/i.test(ph)) out.text = decoded;
		else if (/text\/html/i.test(ph)) out.html = decoded;
	}
	return out;
}

/** The token at the end of a ".../confirm-<what>/<token>" link in a mail. */
export function linkToken(mail, what) {
	const m = new RegExp(`confirm-${what}/([A-Za-z0-9_.-]+)`).exec(mail.html);
	return m ? m[1] : null;
}
