// tests/integration/sdk.mjs - the official PocketBase JS SDK (tests/node_modules)
// pointed at a hearth started by lib.mjs.
//
// Kept apart from lib.mjs so the HTTP-engine tests do not need the SDK.
// Auto-cancellation is switched off: the tests fire identical requests
// concurrently on purpose, and the SDK would abort all but the last.

import assert from 'node:assert/strict';
import PocketBase, { ClientResponseError } from 'pocketbase';

export { PocketBase, ClientResponseError };

/** A client for srv with no auth (a guest). */
export function guest(srv) {
	const pb = new PocketBase(srv.url);
	pb.autoCancellation(false);
	return pb;
}

/** A client for srv logged in as its superuser (srv from startHearthData). */
export async function admin(srv) {
	const pb = guest(srv);
	await pb.collection('_superusers').authWithPassword(srv.email, srv.password);
	return pb;
}

/**
 * Awaits promise, which must reject with a ClientResponseError of the given
 * status; returns the error. The error body must be the dialect's shape.
 */
export async function rejects(promise, status, message) {
	let err;
	try {
		await promise;
	} catch (e) {
		err = e;
	}
	assert.ok(err, `expected a ${status} error, but the call succeeded`);
	assert.ok(err instanceof ClientResponseError, `not a ClientResponseError: ${err?.stack}`);
	assert.equal(err.status, status, `status; response: ${JSON.stringify(err.response)}`);
	assert.deepEqual(Object.keys(err.response).sort(), ['data', 'message', 'status'], JSON.stringify(err.response));
	assert.ok(err.response.data && typeof err.response.data === 'object' && !Array.isArray(err.response.data));
	assert.equal(err.response.status, status);
	if (message !== undefined) assert.equal(err.response.message, message);
	return err;
}

/** Asserts err.response.data[key].code === code (key may be 'a.b.c'). */
export function fieldCode(err, key, code) {
	let d = err.response.data;
	for (const k of key.split('.')) {
		assert.ok(d && typeof d === 'object' && k in d, `no data.${key} in ${JSON.stringify(err.response)}`);
		d = d[k];
	}
	assert.equal(d.code, code, `data.${key}: ${JSON.stringify(d)}`);
	assert.equal(typeof d.message, 'string');
	return d;
}

/** Records the HTTP status of every response the client receives. */
export function recordStatuses(pb) {
	const seen = [];
	pb.afterSend = (response, data) => {
		seen.push(response.status);
		return data;
	};
	return seen;
}
