// Writes the Parse Server configuration file that the parse-server CLI reads.
//   node config.mjs <config.json> <port> <workdir> <postgres-url of the bench database>
//
// Production settings, per Parse Server's deployment and security guides:
// - no verbose logging: logLevel "warn" (requests are logged at "verbose"/"info" otherwise, one
//   line per request, which would measure the logger rather than the server);
// - allowClientClassCreation false and enableAnonymousUsers false: only the master key shapes
//   the schema (target.sh creates the classes through the schema API), no anonymous sign-up;
// - the master key is random per run and, by Parse's default masterKeyIps, usable from
//   loopback only;
// - caches at their defaults (the schema cache and the in-memory session/role cache); object
//   reads are not cached by Parse Server, so GET by id always reaches PostgreSQL.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [configPath, port, workdir, pgUrl] = process.argv.slice(2);
if (!configPath || !port || !workdir || !pgUrl) {
  console.error('usage: node config.mjs <config.json> <port> <workdir> <postgres-url>');
  process.exit(2);
}

// The driver hands out libpq-style URLs whose server is a Unix socket directory given as a
// `host` query parameter (postgresql:///db?host=/dir&port=N&user=U). Parse's URI parser only
// reads the URL's authority, so the connection is spelled out in databaseOptions, which the
// PostgreSQL adapter passes to node-postgres over whatever the URI said; node-postgres takes
// a host that starts with '/' as a socket directory.
function pgConnection(text) {
  const url = new URL(text);
  const q = url.searchParams;
  const database = q.get('dbname') || decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new Error(`no database name in ${text}`);
  const port = q.get('port') || url.port || '5432';
  const connection = {
    host: q.get('host') || decodeURIComponent(url.hostname) || 'localhost',
    port: Number.parseInt(port, 10),
    database,
  };
  const user = q.get('user') || decodeURIComponent(url.username);
  if (user) connection.user = user;
  const password = q.get('password') || decodeURIComponent(url.password);
  if (password) connection.password = password;
  return connection;
}

let connection;
try {
  connection = pgConnection(pgUrl);
} catch (error) {
  console.error(`parse: bad PostgreSQL URL: ${error.message}`);
  process.exit(1);
}

const config = {
  appId: 'bench',
  masterKey: randomBytes(24).toString('hex'),
  port: Number.parseInt(port, 10),
  host: '127.0.0.1',
  mountPath: '/parse',
  serverURL: `http://127.0.0.1:${port}/parse`,
  // The adapter is chosen by the URI's scheme; the connection itself is databaseOptions'.
  databaseURI: `postgres://localhost:${connection.port}/${encodeURIComponent(connection.database)}`,
  databaseOptions: connection,
  logLevel: 'warn',
  verbose: false,
  logsFolder: join(workdir, 'logs'),
  allowClientClassCreation: false,
  enableAnonymousUsers: false,
};
writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
