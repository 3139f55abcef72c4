// Authentication through the official PocketBase JS SDK, unchanged: records of the `members`
// auth collection sign up, sign in, refresh and change their password; rules read
// @request.auth; a superuser signs in through `_superusers` and manages collections.
//
// Started by tests/sdk/run_sdk_test.sh, which also creates the superuser whose credentials it
// passes in SOCLE_SUPERUSER_EMAIL and SOCLE_SUPERUSER_PASSWORD.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import PocketBase, { ClientResponseError } from 'pocketbase';

const baseUrl = process.env.SOCLE_URL;
const superuserEmail = process.env.SOCLE_SUPERUSER_EMAIL;
const superuserPassword = process.env.SOCLE_SUPERUSER_PASSWORD;
if (!baseUrl || !superuserEmail || !superuserPassword) {
  throw new Error('run this test through run_sdk_test.sh (ctest -R sdk)');
}

const kTimeout = { timeout: 30_000 };

function client() {
  const pb = new PocketBase(baseUrl);
  pb.autoCancellation(false);
  return pb;
}

async function failure(promise, status) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ClientResponseError, `expected a ClientResponseError, got ${error}`);
    assert.equal(error.status, status, JSON.stringify(error.response));
    assert.equal(error.response.status, status);
    assert.equal(typeof error.response.message, 'string');
    return error;
  }
  assert.fail(`expected a ${status} error, the request succeeded`);
}

// A member of its own, so that tests do not share accounts.
async function signUp(pb, name) {
  const email = `${name}-${randomBytes(6).toString('hex')}@example.com`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const record = await pb.collection('members').create({
    email,
    password,
    passwordConfirm: password,
    name,
  });
  return { email, password, record };
}

test('sign up, sign in, the auth store, refresh and sign out', kTimeout, async () => {
  const pb = client();
  const { email, password, record } = await signUp(pb, 'ann');
  assert.match(record.id, /^[a-z0-9]{15}$/);
  assert.equal(record.verified, false);
  assert.equal(record.password, undefined);
  assert.equal(record.tokenKey, undefined);
  // Another person's address is not shown to a guest.
  assert.equal(record.email, undefined);

  const auth = await pb.collection('members').authWithPassword(email, password);
  assert.equal(typeof auth.token, 'string');
  assert.equal(auth.record.id, record.id);
  assert.equal(auth.record.email, email);  // one's own address is shown
  assert.equal(auth.record.tokenKey, undefined);
  assert.ok(pb.authStore.isValid);
  assert.equal(pb.authStore.record.id, record.id);
  assert.equal(pb.authStore.isSuperuser, false);

  const refreshed = await pb.collection('members').authRefresh();
  assert.equal(refreshed.record.id, record.id);
  assert.equal(typeof refreshed.token, 'string');
  assert.equal(pb.authStore.token, refreshed.token);

  // The own record is readable with the token (viewRule id = @request.auth.id), not without.
  assert.equal((await pb.collection('members').getOne(record.id)).email, email);
  pb.authStore.clear();
  assert.equal(pb.authStore.isValid, false);
  await failure(pb.collection('members').getOne(record.id), 404);
  await failure(pb.collection('members').authRefresh(), 401);
});

test('a wrong password and an unknown address get the same answer', kTimeout, async () => {
  const pb = client();
  const { email } = await signUp(pb, 'bob');
  const wrong = await failure(pb.collection('members').authWithPassword(email, 'not-the-one'), 400);
  const unknown = await failure(
    pb.collection('members').authWithPassword('nobody-here@example.com', 'not-the-one'),
    400,
  );
  assert.deepEqual(wrong.response, unknown.response);
  assert.equal(pb.authStore.isValid, false);
});

test('rules with @request.auth.id: each member sees only their own notes', kTimeout, async () => {
  const ann = client();
  const bob = client();
  const a = await signUp(ann, 'ann');
  const b = await signUp(bob, 'bob');
  await ann.collection('members').authWithPassword(a.email, a.password);
  await bob.collection('members').authWithPassword(b.email, b.password);

  const note = await ann.collection('notes').create({ text: 'mine', owner: a.record.id });
  assert.equal(note.owner, a.record.id);
  // Creating a note for someone else is refused by the create rule (403, as every rule refusal).
  await failure(bob.collection('notes').create({ text: 'forged', owner: a.record.id }), 403);

  const annList = await ann.collection('notes').getFullList();
  assert.deepEqual(annList.map((n) => n.id), [note.id]);
  assert.deepEqual(await bob.collection('notes').getFullList(), []);
  await failure(bob.collection('notes').getOne(note.id), 404);
  const guest = client();
  assert.deepEqual(await guest.collection('notes').getFullList(), []);
  await failure(guest.collection('notes').create({ text: 'anon', owner: a.record.id }), 403);
});

test('a new password needs the old one and signs the other sessions out', kTimeout, async () => {
  const pb = client();
  const { email, password, record } = await signUp(pb, 'cleo');
  await pb.collection('members').authWithPassword(email, password);
  const oldToken = pb.authStore.token;
  const next = `new-${randomBytes(9).toString('base64url')}`;

  const refused = await failure(
    pb.collection('members').update(record.id, { password: next, passwordConfirm: next }),
    400,
  );
  assert.equal(refused.response.data.oldPassword.code, 'validation_invalid_old_password');

  await pb.collection('members').update(record.id, {
    oldPassword: password,
    password: next,
    passwordConfirm: next,
  });
  // The token issued before the change no longer opens anything.
  const stale = client();
  stale.authStore.save(oldToken, record);
  await failure(stale.collection('members').authRefresh(), 401);
  await failure(stale.collection('notes').getFullList(), 401);

  await failure(pb.collection('members').authWithPassword(email, password), 400);
  const again = await pb.collection('members').authWithPassword(email, next);
  assert.equal(again.record.id, record.id);
});

test('auth methods, and a password reset request answers alike for any address', kTimeout,
  async () => {
    const pb = client();
    const methods = await pb.collection('members').listAuthMethods();
    assert.equal(methods.password.enabled, true);
    assert.deepEqual(methods.password.identityFields, ['email']);
    assert.equal(methods.oauth2.enabled, false);
    const { email } = await signUp(pb, 'dan');
    assert.equal(await pb.collection('members').requestPasswordReset(email), true);
    assert.equal(
      await pb.collection('members').requestPasswordReset('nobody-here@example.com'),
      true,
    );
    await failure(pb.collection('members').requestPasswordReset('not-an-address'), 400);
  });

test('a superuser signs in through _superusers and manages collections', kTimeout, async () => {
  const pb = client();
  await failure(pb.collections.getList(1, 10), 401);
  const auth = await pb.collection('_superusers').authWithPassword(superuserEmail,
    superuserPassword);
  assert.equal(auth.record.email, superuserEmail);
  assert.ok(pb.authStore.isSuperuser);
  const collections = await pb.collections.getFullList();
  const names = collections.map((c) => c.name);
  assert.ok(names.includes('members'));
  assert.ok(names.includes('notes'));
  const members = collections.find((c) => c.name === 'members');
  assert.equal(members.type, 'auth');
  assert.deepEqual(members.passwordAuth.identityFields, ['email']);

  // A superuser sees every member and their addresses, and bypasses the rules.
  const member = await signUp(client(), 'eve');
  const seen = await pb.collection('members').getOne(member.record.id);
  assert.equal(seen.email, member.email);
  // A member's token does not open the collection routes.
  const plain = client();
  await plain.collection('members').authWithPassword(member.email, member.password);
  await failure(plain.collections.getList(1, 10), 401);
});
