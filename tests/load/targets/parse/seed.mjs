// Creates the benchmark schema and data in a running Parse Server and writes <workdir>/bench.env.
//   node seed.mjs <workdir> <config.json> <server-pid>
//
// Data (the benchmark contract): 100 authors, which are Parse users (_User with a `name`) so
// one of them can sign in; 10,000 `posts` {title, body, views, published, author →
// _User; indexed on published and views descending, as the list workload reads them}, public
// read and create through class-level permissions; and `owned`, the same 10,000
// rows where each object's ACL lets only its author read it. W4 reads `owned` with the session
// token of authors[0], who owns 100 of them; the class-level permissions of `owned` allow a
// public get, so it is the per-object ACL alone that answers 404 to anyone else.
//
// Everything goes through Parse's REST API with the master key, in /batch requests of
// BATCH_SIZE sub-requests, which Parse runs concurrently: 10,000 objects take seconds.
import { readFileSync } from 'node:fs';
import {
  AUTHORS, CREATE_FIELDS, PASSWORD, POSTS, chunks, firstAuthorIds, jsonClient, packageVersion, postFields, run,
  writeBenchEnv, writeIds,
} from '../common.mjs';

const BATCH_SIZE = 500;

const [workdir, configPath, pid] = process.argv.slice(2);
if (!workdir || !configPath || !pid) {
  console.error('usage: node seed.mjs <workdir> <config.json> <server-pid>');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const version = packageVersion(new URL('./node_modules/parse-server/package.json', import.meta.url));
const baseUrl = `http://127.0.0.1:${config.port}`;
const api = `${baseUrl}${config.mountPath}`;
const appHeaders = { 'X-Parse-Application-Id': config.appId };
const masterHeaders = { ...appHeaders, 'X-Parse-Master-Key': config.masterKey };

const call = jsonClient(api, { headers: masterHeaders, expect: [200, 201] });

// Runs sub-requests through /batch and returns each one's `success` object, in order.
async function batch(requests) {
  const results = [];
  for (const chunk of chunks(requests, BATCH_SIZE)) {
    const answers = await call('POST', '/batch', { body: { requests: chunk } });
    answers.forEach((answer, i) => {
      if (!answer.success) {
        throw new Error(`batch ${chunk[i].method} ${chunk[i].path} failed: ${JSON.stringify(answer.error)}`);
      }
      results.push(answer.success);
    });
  }
  return results;
}

const pointer = (objectId) => ({ __type: 'Pointer', className: '_User', objectId });
const publicCrud = { '*': true };
const nobody = {};
const recordFields = {
  title: { type: 'String', required: true },
  body: { type: 'String' },
  views: { type: 'Number' },
  published: { type: 'Boolean' },
  author: { type: 'Pointer', targetClass: '_User' },
};

// A record class: public get/find/count, `create` as given, nothing else public. PostgreSQL
// index names are unique per schema, so each class names its own.
async function createRecordClass(className, create) {
  await call('POST', `/schemas/${className}`, {
    body: {
      className,
      fields: recordFields,
      indexes: { [`${className}_list`]: { published: 1, views: -1 } },
      classLevelPermissions: {
        get: publicCrud, find: publicCrud, count: publicCrud, create,
        update: nobody, delete: nobody, addField: nobody, protectedFields: {},
      },
    },
  });
}

async function createSchema() {
  // _User exists from the server's first start; it only gains the authors' `name`.
  await call('PUT', '/schemas/_User', { body: { className: '_User', fields: { name: { type: 'String' } } } });
  await createRecordClass('posts', publicCrud);
  await createRecordClass('owned', nobody);
}

function record(i, authorId) {
  return { ...postFields(i), author: pointer(authorId) };
}

async function main() {
  await createSchema();

  const authorRequests = [];
  for (let i = 0; i < AUTHORS; i++) {
    authorRequests.push({
      method: 'POST',
      path: `${config.mountPath}/users`,
      body: { username: `author${i}`, password: PASSWORD, name: `Author ${i}` },
    });
  }
  const authors = (await batch(authorRequests)).map((user) => user.objectId);

  const postRequests = [];
  const ownedRequests = [];
  for (let i = 0; i < POSTS; i++) {
    const authorId = authors[i % AUTHORS];
    postRequests.push({ method: 'POST', path: `${config.mountPath}/classes/posts`, body: record(i, authorId) });
    ownedRequests.push({
      method: 'POST',
      path: `${config.mountPath}/classes/owned`,
      body: { ...record(i, authorId), ACL: { [authorId]: { read: true } } },
    });
  }
  const postIds = (await batch(postRequests)).map((object) => object.objectId);
  const ownedIds = (await batch(ownedRequests)).map((object) => object.objectId);
  const authIds = firstAuthorIds(ownedIds);

  // The W4 user signs in like any client: username and password, no master key.
  const login = await call('POST', '/login', {
    headers: appHeaders,
    body: { username: 'author0', password: PASSWORD },
  });
  const sessionHeaders = { ...appHeaders, 'X-Parse-Session-Token': login.sessionToken };

  // The rules must hold before anyone measures them: public reads and creates work, and an
  // owned record is visible to its author and to no one else.
  await call('GET', `/classes/posts/${postIds[0]}`, { headers: appHeaders });
  await call('GET', `/classes/owned/${authIds[0]}`, { headers: sessionHeaders });
  await call('GET', `/classes/owned/${authIds[0]}`, { headers: appHeaders, expect: [404] });
  await call('GET', `/classes/owned/${ownedIds[1]}`, { headers: sessionHeaders, expect: [404] });

  const { idsFile, authIdsFile } = writeIds(workdir, postIds, authIds);

  const where = encodeURIComponent(JSON.stringify({ published: true }));
  const createBody = { ...CREATE_FIELDS, author: pointer(authors[0]) };
  writeBenchEnv(workdir, {
    NAME: 'parse-postgres',
    VERSION: `parse-server ${version}`,
    BASE_URL: baseUrl,
    PID: pid,
    HEADERS: `X-Parse-Application-Id: ${config.appId}`,
    IDS_FILE: idsFile,
    GET_PATH: `${config.mountPath}/classes/posts/{id}`,
    // The page and the total, as Socle's list returns them (totalItems): Parse counts on
    // request (count=1).
    LIST_PATH: `${config.mountPath}/classes/posts?where=${where}&order=-views&limit=20&count=1`,
    CREATE_PATH: `${config.mountPath}/classes/posts`,
    CREATE_BODY: JSON.stringify(createBody),
    AUTH_HEADERS: `X-Parse-Session-Token: ${login.sessionToken}`,
    AUTH_IDS_FILE: authIdsFile,
    AUTH_GET_PATH: `${config.mountPath}/classes/owned/{id}`,
    FLOOR_PATH: `${config.mountPath}/health`,
  });
  console.log(`parse: seeded ${authors.length} authors, ${postIds.length} posts, ${ownedIds.length} owned`);
}

run(main, 'parse: seeding failed');
