// Shared by the npm targets' seeding scripts (parse/seed.mjs, directus/setup.mjs): JSON calls to
// the server's REST API, the benchmark's data (the contract: README.md), and the files the
// driver reads (ids files, bench.env).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const POSTS = 10000;
export const AUTHORS = 100;
export const PASSWORD = 'bench-password-1';

// Returns call(method, path, { headers, body, expect }): a request to `${base}${path}` with an
// optional JSON body, answered by the parsed JSON (null when empty); an answer whose status is
// not in `expect` throws with the server's message.
export function jsonClient(base, { headers: defaultHeaders, expect: defaultExpect }) {
  return async function call(method, path, { headers = defaultHeaders, body, expect = defaultExpect } = {}) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!expect.includes(response.status)) {
      throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    }
    return text ? JSON.parse(text) : null;
  };
}

// The slices of `items` of at most `size` items, in order.
export function* chunks(items, size) {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

// The version in the package.json of an installed package, e.g. packageVersion(new URL(
// './node_modules/x/package.json', import.meta.url)).
export function packageVersion(packageJson) {
  return JSON.parse(readFileSync(packageJson, 'utf8')).version;
}

// Post i's fields other than its author: published when i is even, views (i * 7919) % 10000.
export function postFields(i) {
  return {
    title: `Post ${i}`,
    body: `Body of post ${i}`,
    views: (i * 7919) % 10000,
    published: i % 2 === 0,
  };
}

// W3's body, but for its author.
export const CREATE_FIELDS = { title: 'Load', body: 'Lorem ipsum dolor sit amet', views: 7, published: true };

// The first author's records among the owned ones, seeded in post order (author i % AUTHORS).
export function firstAuthorIds(ownedIds) {
  return ownedIds.filter((_, i) => i % AUTHORS === 0);
}

// Writes the ids files, one id a line, and returns their paths.
export function writeIds(workdir, postIds, authIds) {
  const idsFile = join(workdir, 'ids.txt');
  const authIdsFile = join(workdir, 'auth_ids.txt');
  writeFileSync(idsFile, `${postIds.join('\n')}\n`);
  writeFileSync(authIdsFile, `${authIds.join('\n')}\n`);
  return { idsFile, authIdsFile };
}

function quote(value) {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

// Writes <workdir>/bench.env: KEY='value' lines that bash sources.
export function writeBenchEnv(workdir, env) {
  const lines = Object.entries(env).map(([key, value]) => `${key}=${quote(value)}`);
  writeFileSync(join(workdir, 'bench.env'), `${lines.join('\n')}\n`);
}

// Runs main; a failure ends the process with status 1 and one line on stderr, which target.sh
// reports.
export function run(main, prefix) {
  main().catch((error) => {
    console.error(`${prefix}: ${error.message}`);
    process.exit(1);
  });
}
