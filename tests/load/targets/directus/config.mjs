// Writes the Directus configuration file (<workdir>/.env, Directus' documented configuration
// file, read by both `directus bootstrap` and `directus start`).
//   node config.mjs <workdir> <port> sqlite
//   node config.mjs <workdir> <port> postgres <postgres-url of the bench database>
//
// Production settings, per Directus' configuration reference; everything not named here keeps
// its default, in particular CACHE_ENABLED=false (no data cache: every read reaches the
// database), CACHE_SCHEMA=true (the schema snapshot is kept in memory), RATE_LIMITER_ENABLED=false
// and the pressure limiter as shipped.
// - LOG_LEVEL=warn: at the default "info" Directus logs one line per request;
// - TELEMETRY=false: this machine has no network beyond the package registry;
// - ACCESS_TOKEN_TTL=24h: W4's token comes from /auth/login once, at start, and must outlive a
//   whole benchmark run (the default, 15 minutes, may not); verifying a token costs the same
//   whatever its lifetime;
// - the temporary, upload and extension folders live in the workdir, not in node_modules or
//   the current directory.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [workdir, port, store, pgUrl] = process.argv.slice(2);
if (!workdir || !port || !['sqlite', 'postgres'].includes(store) || (store === 'postgres' && !pgUrl)) {
  console.error('usage: node config.mjs <workdir> <port> sqlite | postgres <postgres-url>');
  process.exit(2);
}

// The driver hands out libpq-style URLs whose server is a Unix socket directory given as a
// `host` query parameter (postgresql:///db?host=/dir&port=N&user=U); Directus takes the
// connection as separate DB_* settings, and node-postgres reads a host that starts with '/' as
// a socket directory.
function pgSettings(text) {
  const url = new URL(text);
  const q = url.searchParams;
  const database = q.get('dbname') || decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new Error(`no database name in ${text}`);
  const settings = {
    DB_CLIENT: 'pg',
    DB_HOST: q.get('host') || decodeURIComponent(url.hostname) || 'localhost',
    DB_PORT: q.get('port') || url.port || '5432',
    DB_DATABASE: database,
  };
  const user = q.get('user') || decodeURIComponent(url.username);
  if (user) settings.DB_USER = user;
  const password = q.get('password') || decodeURIComponent(url.password);
  if (password) settings.DB_PASSWORD = password;
  return settings;
}

const secret = () => randomBytes(24).toString('hex');
let database;
try {
  database = store === 'sqlite'
    ? { DB_CLIENT: 'sqlite3', DB_FILENAME: join(workdir, 'data.db') }
    : pgSettings(pgUrl);
} catch (error) {
  console.error(`directus: bad PostgreSQL URL: ${error.message}`);
  process.exit(1);
}

const settings = {
  HOST: '127.0.0.1',
  PORT: port,
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  KEY: secret(),
  SECRET: secret(),
  ...database,
  ADMIN_EMAIL: 'admin@example.com',
  ADMIN_PASSWORD: secret(),
  // The admin's static token: setup.mjs shapes the schema and seeds the data with it.
  ADMIN_TOKEN: secret(),
  LOG_LEVEL: 'warn',
  TELEMETRY: 'false',
  ACCESS_TOKEN_TTL: '24h',
  TEMP_PATH: join(workdir, 'tmp'),
  STORAGE_LOCAL_ROOT: join(workdir, 'uploads'),
  EXTENSIONS_PATH: join(workdir, 'extensions'),
  // Directus looks for extensions among the dependencies of this package.json (it has none).
  PACKAGE_FILE_LOCATION: dirname(fileURLToPath(import.meta.url)),
};
for (const folder of ['tmp', 'uploads', 'extensions']) mkdirSync(join(workdir, folder), { recursive: true });

// Values are written double-quoted; dotenv has no escape for a quote or a line break inside
// one, so a value holding either (a strange socket path, say) is refused rather than mangled.
const line = ([key, value]) => {
  if (/["\r\n]/.test(String(value))) {
    console.error(`directus: cannot write ${key} into .env: it holds a quote or a line break`);
    process.exit(1);
  }
  return `${key}="${value}"`;
};
writeFileSync(join(workdir, '.env'), `${Object.entries(settings).map(line).join('\n')}\n`, { mode: 0o600 });
