// The project data API driven by the official PocketBase JS SDK, unchanged: what an application
// team gets when it points `new PocketBase(url)` at https://host/p/<project>.
//
// Started by tests/sdk/run_sdk_test.sh, which imports fixtures/collections.json into a fresh
// project, starts socle-server and passes its project URL in SOCLE_URL. Each test works on
// records of its own (its own author, or ids it created), so the tests do not depend on one
// another's data.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import PocketBase, { ClientResponseError } from 'pocketbase';

const baseUrl = process.env.SOCLE_URL;
if (!baseUrl) {
  throw new Error('SOCLE_URL is not set: run this test through run_sdk_test.sh (ctest -R sdk)');
}

// Generous for one request, far below CTest's own timeout: a hung server fails the test that hit
// it instead of the whole run.
const kTimeout = { timeout: 30_000 };

function client() {
  const pb = new PocketBase(baseUrl);
  // The SDK cancels a pending request when an identical one starts; the tests never want that.
  pb.autoCancellation(false);
  return pb;
}

// Awaits `promise`, which must fail with a ClientResponseError of `status` carrying the server's
// error document; returns the error. `fromServer: false` is for the SDK's own errors (it answers
// getFirstListItem's empty page with a 404 of its making, in another shape).
async function failure(promise, status, { fromServer = true } = {}) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ClientResponseError, `expected a ClientResponseError, got ${error}`);
    assert.equal(error.status, status, JSON.stringify(error.response));
    if (!fromServer) return error;
    // Every error has PocketBase's shape: {status, message, data}.
    assert.equal(error.response.status, status);
    assert.equal(typeof error.response.message, 'string');
    assert.ok(error.response.message.length > 0);
    assert.equal(typeof error.response.data, 'object');
    assert.ok(error.response.data !== null);
    return error;
  }
  assert.fail(`expected a ${status} error, the request succeeded`);
}

async function newAuthor(pb, name) {
  return pb.collection('authors').create({ name });
}

test('create with JSON and with FormData, then getOne', kTimeout, async () => {
  const pb = client();
  const author = await newAuthor(pb, 'Ada');
  assert.match(author.id, /^[a-z0-9]{15}$/);
  assert.equal(author.collectionName, 'authors');
  assert.equal(author.collectionId, 'pbc_sdk_authors');

  const post = await pb.collection('posts').create({
    title: 'Hello',
    body: '<p>Hi there</p>',
    views: 1,
    published: true,
    tags: ['news', 'tech'],
    author: author.id,
  });
  assert.match(post.id, /^[a-z0-9]{15}$/);
  assert.equal(post.collectionName, 'posts');
  assert.equal(post.title, 'Hello');
  assert.equal(post.body, '<p>Hi there</p>');
  assert.equal(post.views, 1);
  assert.equal(post.published, true);
  assert.deepEqual(post.tags, ['news', 'tech']);
  assert.equal(post.author, author.id);
  assert.match(post.created, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(post.updated, post.created);

  // A form, as a browser <form> or a file upload would send it: values are strings and a
  // multiple select repeats its key.
  const form = new FormData();
  form.append('title', 'From a form');
  form.append('views', '3');
  form.append('published', 'true');
  form.append('tags', 'news');
  form.append('tags', 'sport');
  form.append('author', author.id);
  const formPost = await pb.collection('posts').create(form);
  assert.equal(formPost.title, 'From a form');
  assert.equal(formPost.views, 3);
  assert.equal(formPost.published, true);
  assert.deepEqual(formPost.tags, ['news', 'sport']);
  assert.equal(formPost.author, author.id);

  // Absent values are the types' zero values, as in PocketBase.
  const bare = await pb.collection('posts').create({ title: 'Bare' });
  assert.equal(bare.body, '');
  assert.equal(bare.views, 0);
  assert.equal(bare.published, false);
  assert.deepEqual(bare.tags, []);
  assert.equal(bare.author, '');

  // A client may choose the id.
  const chosen = await pb.collection('authors').create({ id: 'chosenauthor001', name: 'Chosen' });
  assert.equal(chosen.id, 'chosenauthor001');

  assert.deepEqual(await pb.collection('posts').getOne(post.id), post);
  await failure(pb.collection('posts').getOne('nosuchrecord000'), 404);
});

test('getList filters, sorts, pages and skips the total', kTimeout, async () => {
  const pb = client();
  const author = await newAuthor(pb, 'Lister');
  for (const views of [10, 20, 30, 40, 50]) {
    await pb.collection('posts').create({
      title: `list ${views}`,
      views,
      published: views % 20 === 0,
      author: author.id,
    });
  }
  const mine = pb.filter('author = {:author}', { author: author.id });

  const first = await pb.collection('posts').getList(1, 2, {
    filter: `${mine} && views >= 20`,
    sort: '-views',
  });
  assert.equal(first.page, 1);
  assert.equal(first.perPage, 2);
  assert.equal(first.totalItems, 4);
  assert.equal(first.totalPages, 2);
  assert.deepEqual(first.items.map((p) => p.views), [50, 40]);

  const second = await pb.collection('posts').getList(2, 2, {
    filter: `${mine} && views >= 20`,
    sort: '-views',
  });
  assert.deepEqual(second.items.map((p) => p.views), [30, 20]);

  const skipped = await pb.collection('posts').getList(1, 2, {
    filter: `${mine} && views >= 20`,
    sort: 'views',
    skipTotal: true,
  });
  assert.equal(skipped.totalItems, -1);
  assert.equal(skipped.totalPages, -1);
  assert.deepEqual(skipped.items.map((p) => p.views), [20, 30]);

  // Several sort terms, a bound boolean, text operators, any-of on a multiple select.
  const published = await pb.collection('posts').getList(1, 10, {
    filter: pb.filter('author = {:author} && published = {:published}', {
      author: author.id,
      published: true,
    }),
    sort: '-published,views',
  });
  assert.deepEqual(published.items.map((p) => p.views), [20, 40]);

  const like = await pb.collection('posts').getList(1, 10, {
    filter: `${mine} && (title ~ "list 1" || title = "list 50")`,
    sort: 'title',
  });
  assert.deepEqual(like.items.map((p) => p.title), ['list 10', 'list 50']);

  await pb.collection('posts').create({
    title: 'tagged',
    tags: ['tech', 'misc'],
    author: author.id,
  });
  const tagged = await pb.collection('posts').getList(1, 10, {
    filter: `${mine} && tags ?= "misc"`,
  });
  assert.deepEqual(tagged.items.map((p) => p.title), ['tagged']);

  const none = await pb.collection('posts').getList(1, 10, { filter: `${mine} && views > 1000` });
  assert.equal(none.totalItems, 0);
  assert.deepEqual(none.items, []);
});

test('getFullList pages through everything; getFirstListItem finds one', kTimeout, async () => {
  const pb = client();
  const author = await newAuthor(pb, 'Fuller');
  for (let i = 1; i <= 5; i++) {
    await pb.collection('posts').create({ title: `full ${i}`, views: i, author: author.id });
  }
  const mine = pb.filter('author = {:author}', { author: author.id });

  // batch 2: three requests, the last one short.
  const all = await pb.collection('posts').getFullList({ filter: mine, sort: 'views', batch: 2 });
  assert.deepEqual(all.map((p) => p.views), [1, 2, 3, 4, 5]);

  const third = await pb.collection('posts').getFirstListItem(`${mine} && views = 3`);
  assert.equal(third.title, 'full 3');

  const highest = await pb.collection('posts').getFirstListItem(mine, { sort: '-views' });
  assert.equal(highest.views, 5);

  await failure(pb.collection('posts').getFirstListItem(`${mine} && views = 99`), 404, {
    fromServer: false,
  });
});

test('expand follows relations, nested and back', kTimeout, async () => {
  const pb = client();
  const author = await newAuthor(pb, 'Grace');
  const post = await pb.collection('posts').create({ title: 'Expanded', author: author.id });
  const first = await pb.collection('comments').create({ post: post.id, text: 'first' });
  const second = await pb.collection('comments').create({ post: post.id, text: 'second' });

  const withAuthor = await pb.collection('posts').getOne(post.id, { expand: 'author' });
  assert.equal(withAuthor.expand.author.id, author.id);
  assert.equal(withAuthor.expand.author.name, 'Grace');

  const nested = await pb.collection('comments').getOne(first.id, { expand: 'post.author' });
  assert.equal(nested.expand.post.id, post.id);
  assert.equal(nested.expand.post.expand.author.name, 'Grace');

  const back = await pb.collection('posts').getOne(post.id, { expand: 'comments_via_post' });
  assert.deepEqual(
    back.expand.comments_via_post.map((c) => c.id).sort(),
    [first.id, second.id].sort(),
  );

  const listed = await pb.collection('comments').getList(1, 10, {
    filter: pb.filter('post = {:post}', { post: post.id }),
    sort: 'created,id',
    expand: 'post,post.author',
  });
  assert.equal(listed.items.length, 2);
  for (const comment of listed.items) {
    assert.equal(comment.expand.post.title, 'Expanded');
    assert.equal(comment.expand.post.expand.author.name, 'Grace');
  }

  // A relation left empty expands to nothing, without an error.
  const lonely = await pb.collection('posts').create({ title: 'No author' });
  const notExpanded = await pb.collection('posts').getOne(lonely.id, { expand: 'author' });
  assert.equal(notExpanded.expand?.author, undefined);

  // The returned record of a write can be expanded as well.
  const created = await pb.collection('comments').create(
    { post: post.id, text: 'third' },
    { expand: 'post' },
  );
  assert.equal(created.expand.post.id, post.id);
});

test('update sets values and applies the + and - modifiers', kTimeout, async () => {
  const pb = client();
  const post = await pb.collection('posts').create({
    title: 'Counter',
    views: 1,
    tags: ['news', 'tech'],
  });

  let updated = await pb.collection('posts').update(post.id, { 'views+': 5 });
  assert.equal(updated.views, 6);
  updated = await pb.collection('posts').update(post.id, { 'views-': 2 });
  assert.equal(updated.views, 4);

  updated = await pb.collection('posts').update(post.id, { 'tags+': 'sport' });
  assert.deepEqual(updated.tags, ['news', 'tech', 'sport']);
  updated = await pb.collection('posts').update(post.id, { 'tags-': ['news'] });
  assert.deepEqual(updated.tags, ['tech', 'sport']);

  updated = await pb.collection('posts').update(post.id, { title: 'Renamed', published: true });
  assert.equal(updated.title, 'Renamed');
  assert.equal(updated.published, true);
  // Fields the body leaves out keep their values.
  assert.equal(updated.views, 4);
  assert.deepEqual(updated.tags, ['tech', 'sport']);
  assert.equal(updated.created, post.created);
  assert.ok(updated.updated >= post.updated);

  assert.deepEqual(await pb.collection('posts').getOne(post.id), updated);
  await failure(pb.collection('posts').update('nosuchrecord000', { title: 'x' }), 404);
});

test('delete removes a record, cascades and clears optional references', kTimeout, async () => {
  const pb = client();
  const author = await newAuthor(pb, 'Doomed');
  const post = await pb.collection('posts').create({ title: 'To delete', author: author.id });
  const comments = [];
  for (const text of ['a', 'b']) {
    comments.push(await pb.collection('comments').create({ post: post.id, text }));
  }

  assert.equal(await pb.collection('posts').delete(post.id), true);
  await failure(pb.collection('posts').getOne(post.id), 404);
  // comments.post has cascadeDelete: the comments went with their post.
  for (const comment of comments) {
    await failure(pb.collection('comments').getOne(comment.id), 404);
  }
  const left = await pb.collection('comments').getList(1, 10, {
    filter: pb.filter('post = {:post}', { post: post.id }),
  });
  assert.equal(left.totalItems, 0);
  await failure(pb.collection('posts').delete(post.id), 404);

  // posts.author is optional and does not cascade: deleting the author empties it.
  const kept = await pb.collection('posts').create({ title: 'Orphan', author: author.id });
  await pb.collection('authors').delete(author.id);
  const orphan = await pb.collection('posts').getOne(kept.id);
  assert.equal(orphan.author, '');
});

test('a batch applies every request in one transaction', kTimeout, async () => {
  const pb = client();
  const existing = await pb.collection('posts').create({ title: 'Batch target', views: 1 });
  const doomed = await pb.collection('posts').create({ title: 'Batch victim' });

  const batch = pb.createBatch();
  batch.collection('authors').create({ id: 'batchauthor0001', name: 'Batched' });
  batch.collection('posts').create({ title: 'Batched post', author: 'batchauthor0001' });
  batch.collection('posts').update(existing.id, { 'views+': 1 });
  batch.collection('posts').delete(doomed.id);
  batch.collection('authors').upsert({ id: 'batchauthor0001', name: 'Batched again' });
  const results = await batch.send();

  assert.equal(results.length, 5);
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 204, 200]);
  assert.equal(results[0].body.id, 'batchauthor0001');
  assert.equal(results[1].body.author, 'batchauthor0001');
  assert.equal(results[2].body.views, 2);
  assert.equal(results[4].body.name, 'Batched again');

  assert.equal((await pb.collection('authors').getOne('batchauthor0001')).name, 'Batched again');
  await failure(pb.collection('posts').getOne(doomed.id), 404);
});

test('a failing batch request rolls the whole batch back', kTimeout, async () => {
  const pb = client();
  const existing = await pb.collection('posts').create({ title: 'Untouched', views: 7 });

  const batch = pb.createBatch();
  batch.collection('authors').create({ id: 'rollbackauthor1', name: 'Never' });
  batch.collection('posts').update(existing.id, { views: 8 });
  batch.collection('posts').create({ views: 1 }); // no title: required
  const error = await failure(batch.send(), 400);

  // PocketBase names the request that failed and carries its own error response.
  const failed = error.response.data.requests?.['2'];
  assert.ok(failed, JSON.stringify(error.response));
  assert.equal(failed.code, 'batch_request_failed');
  assert.equal(failed.response.status, 400);
  assert.equal(failed.response.data.title.code, 'validation_required');

  await failure(pb.collection('authors').getOne('rollbackauthor1'), 404);
  assert.equal((await pb.collection('posts').getOne(existing.id)).views, 7);
});

test('rules: null is superusers only, a view rule hides records', kTimeout, async () => {
  const pb = client();
  // secrets has every rule null, and nobody is a superuser yet.
  await failure(pb.collection('secrets').getList(1, 10), 403);
  await failure(pb.collection('secrets').getFullList(), 403);
  await failure(pb.collection('secrets').create({ value: 'x' }), 403);

  // drafts: list and view only what is published; anyone may create and update.
  const visible = await pb.collection('drafts').create({ title: 'Visible', published: true });
  const hidden = await pb.collection('drafts').create({ title: 'Hidden', published: false });

  assert.equal((await pb.collection('drafts').getOne(visible.id)).title, 'Visible');
  await failure(pb.collection('drafts').getOne(hidden.id), 404);
  // Hidden records are out of lists too, whatever the filter asks for.
  const listed = await pb.collection('drafts').getFullList({ filter: 'published = false' });
  assert.deepEqual(listed, []);
  const all = await pb.collection('drafts').getFullList();
  assert.ok(all.some((d) => d.id === visible.id));
  assert.ok(!all.some((d) => d.id === hidden.id));
  // A record the caller cannot view cannot be updated or deleted either: it is not there.
  await failure(pb.collection('drafts').update(hidden.id, { title: 'Found' }), 404);
  await failure(pb.collection('drafts').delete(hidden.id), 404);
});

test('errors have the PocketBase shape, keyed by field', kTimeout, async () => {
  const pb = client();

  // A filter that does not parse, and one on a field that does not exist.
  await failure(pb.collection('posts').getList(1, 10, { filter: 'title = ' }), 400);
  await failure(pb.collection('posts').getList(1, 10, { filter: 'nosuchfield = 1' }), 400);
  // Sorting by a field that does not exist.
  await failure(pb.collection('posts').getList(1, 10, { sort: '-nosuchfield' }), 400);

  // Validation: every failing field under data, with a code and a message.
  const invalid = await failure(
    pb.collection('posts').create({ body: 'no title', tags: ['news', 'nosuchtag'] }),
    400,
  );
  const data = invalid.response.data;
  assert.equal(data.title.code, 'validation_required');
  assert.equal(typeof data.title.message, 'string');
  assert.equal(typeof data.tags.code, 'string');
  assert.equal(typeof data.tags.message, 'string');
  assert.equal(data.body, undefined);

  // A relation to a record that does not exist.
  const dangling = await failure(
    pb.collection('posts').create({ title: 'x', author: 'nosuchauthor000' }),
    400,
  );
  assert.equal(typeof dangling.response.data.author.code, 'string');

  // An unknown collection is 404.
  await failure(pb.collection('nosuchcollection').getList(1, 10), 404);
});
