// Creates the benchmark schema, permissions and data in a running Directus and writes
// <workdir>/bench.env.
//   node setup.mjs <workdir> <store> <server-pid>
//
// Data (the benchmark contract): the 100 authors are Directus users (directus_users, with
// first_name as their name and a password, in an "Author" role) so one of them can sign in;
// `posts` {id, title, body, views, published, author → directus_users}, 10,000 rows,
// readable and creatable by the Public policy; `owned`, the same 10,000 rows, readable only
// through the Author policy, whose read permission is filtered by
// {"author":{"_eq":"$CURRENT_USER"}}. W4 reads `owned` with the access token of authors[0]
// (from /auth/login), who owns 100 of the rows.
//
// Everything goes through Directus' REST API with the admin's static token: collections and
// fields through /collections, the relations through /relations, access through /policies,
// /permissions, /roles and /access, and the rows through POST /items/<collection> with arrays
// of CHUNK rows (well under the default 1 MB payload limit), so 10,000 rows take seconds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AUTHORS, CREATE_FIELDS, PASSWORD, POSTS, chunks, firstAuthorIds, jsonClient, packageVersion, postFields, run,
  writeBenchEnv, writeIds,
} from '../common.mjs';

const CHUNK = 1000;
const USER_REQUESTS = 4;
// The Public policy's id is fixed by the Directus migration that introduced policies.
const PUBLIC_POLICY = 'abf8a154-5b1c-4a46-ac9c-7300570f4f17';

const [workdir, store, pid] = process.argv.slice(2);
if (!workdir || !store || !pid) {
  console.error('usage: node setup.mjs <workdir> <store> <server-pid>');
  process.exit(2);
}
// config.mjs wrote the .env as KEY="value" lines with nothing to unescape.
const env = Object.fromEntries(
  readFileSync(join(workdir, '.env'), 'utf8').split('\n')
    .map((text) => text.match(/^([A-Z0-9_]+)="(.*)"$/))
    .filter(Boolean)
    .map((match) => [match[1], match[2]]),
);
const baseUrl = `http://127.0.0.1:${env.PORT}`;
const version = packageVersion(new URL('./node_modules/directus/package.json', import.meta.url));
const adminHeaders = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
const call = jsonClient(baseUrl, { headers: adminHeaders, expect: [200, 204] });

function recordCollection(collection) {
  return {
    collection,
    meta: { icon: 'article' },
    schema: {},
    fields: [
      {
        field: 'id', type: 'integer',
        meta: { hidden: true, interface: 'input', readonly: true },
        schema: { is_primary_key: true, has_auto_increment: true },
      },
      { field: 'title', type: 'string', meta: { interface: 'input', required: true }, schema: { is_nullable: false } },
      { field: 'body', type: 'text', meta: { interface: 'input-multiline' }, schema: {} },
      { field: 'views', type: 'integer', meta: { interface: 'input' }, schema: {} },
      { field: 'published', type: 'boolean', meta: { interface: 'boolean' }, schema: { default_value: false } },
      { field: 'author', type: 'uuid', meta: { interface: 'select-dropdown-m2o', special: ['m2o'] }, schema: {} },
    ],
  };
}

async function createSchema() {
  for (const collection of ['posts', 'owned']) {
    await call('POST', '/collections', { body: recordCollection(collection) });
    await call('POST', '/relations', {
      body: {
        collection, field: 'author', related_collection: 'directus_users',
        schema: { on_delete: 'SET NULL' },
      },
    });
  }

  await call('POST', '/permissions', {
    body: ['read', 'create'].map((action) => ({
      policy: PUBLIC_POLICY, collection: 'posts', action, fields: ['*'], permissions: {}, validation: {},
    })),
  });

  const policy = await call('POST', '/policies', {
    body: { name: 'Author', icon: 'badge', app_access: false, admin_access: false, enforce_tfa: false },
  });
  await call('POST', '/permissions', {
    body: {
      policy: policy.data.id, collection: 'owned', action: 'read', fields: ['*'],
      permissions: { author: { _eq: '$CURRENT_USER' } },
    },
  });
  const role = await call('POST', '/roles', { body: { name: 'Author', icon: 'edit' } });
  await call('POST', '/access', { body: { role: role.data.id, policy: policy.data.id } });
  return role.data.id;
}

// Inserts rows CHUNK at a time and returns their ids in order.
async function insert(collection, rows) {
  const ids = [];
  for (const chunk of chunks(rows, CHUNK)) {
    const answer = await call('POST', `/items/${collection}?fields=id`, { body: chunk });
    ids.push(...answer.data.map((item) => item.id));
  }
  return ids;
}

async function main() {
  const role = await createSchema();

  const users = [];
  for (let i = 0; i < AUTHORS; i++) {
    users.push({ email: `author${i}@example.com`, password: PASSWORD, first_name: `Author ${i}`, role });
  }
  // Directus hashes each password with argon2 (tens of milliseconds) one after the other within
  // a request; USER_REQUESTS concurrent requests let the hashing use both cores.
  const per = Math.ceil(AUTHORS / USER_REQUESTS);
  const answers = await Promise.all(Array.from({ length: USER_REQUESTS }, (_, k) =>
    call('POST', '/users?fields=id,email', { body: users.slice(k * per, (k + 1) * per) })));
  const byEmail = new Map(answers.flatMap((answer) => answer.data).map((user) => [user.email, user.id]));
  const authors = users.map((user) => byEmail.get(user.email));

  const rows = Array.from({ length: POSTS }, (_, i) => ({ ...postFields(i), author: authors[i % AUTHORS] }));
  const postIds = await insert('posts', rows);
  const ownedIds = await insert('owned', rows);
  const authIds = firstAuthorIds(ownedIds);

  const login = await call('POST', '/auth/login', {
    headers: {},
    body: { email: 'author0@example.com', password: PASSWORD },
  });
  const userHeaders = { Authorization: `Bearer ${login.data.access_token}` };

  // The rules must hold before anyone measures them: public reads and creates work, and an
  // owned row is visible to its author and to no one else.
  await call('GET', `/items/posts/${postIds[0]}`, { headers: {} });
  await call('GET', `/items/owned/${authIds[0]}`, { headers: userHeaders });
  await call('GET', `/items/owned/${authIds[0]}`, { headers: {}, expect: [403] });
  await call('GET', `/items/owned/${ownedIds[1]}`, { headers: userHeaders, expect: [403] });

  const { idsFile, authIdsFile } = writeIds(workdir, postIds, authIds);

  const createBody = { ...CREATE_FIELDS, author: authors[0] };
  writeBenchEnv(workdir, {
    NAME: `directus-${store}`,
    VERSION: `directus ${version}`,
    BASE_URL: baseUrl,
    PID: pid,
    HEADERS: '',
    IDS_FILE: idsFile,
    GET_PATH: '/items/posts/{id}',
    // The page and the total of the filtered items, as Socle's list returns them (totalItems):
    // Directus counts on request (meta=filter_count).
    LIST_PATH: '/items/posts?filter%5Bpublished%5D%5B_eq%5D=true&sort=-views&limit=20&meta=filter_count',
    CREATE_PATH: '/items/posts',
    CREATE_BODY: JSON.stringify(createBody),
    AUTH_HEADERS: `Authorization: Bearer ${login.data.access_token}`,
    AUTH_IDS_FILE: authIdsFile,
    AUTH_GET_PATH: '/items/owned/{id}',
    FLOOR_PATH: '/server/ping',
  });
  console.log(`directus: seeded ${authors.length} authors, ${postIds.length} posts, ${ownedIds.length} owned`);
}

run(main, 'directus: setup failed');
