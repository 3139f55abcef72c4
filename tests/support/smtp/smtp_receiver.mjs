#!/usr/bin/env node
// A local SMTP receiver for the mail adapter's tests: it accepts mail on 127.0.0.1 and keeps
// every message it is given, so that a test can check what a client really put on the wire.
//
//   node smtp_receiver.mjs --out DIR [--security plain|starttls|tls] [--cert PEM --key PEM]
//        [--user NAME --password SECRET] [--auth-methods PLAIN,LOGIN] [--allow-insecure-auth]
//        [--refuse-recipient ADDRESS]... [--size BYTES] [--port N]
//
// --security plain   no TLS at all (STARTTLS is not offered);
//            starttls plain connection that offers STARTTLS with --cert/--key;
//            tls      implicit TLS from the first byte (as on port 465) with --cert/--key.
// With --user and --password, AUTH is offered (the methods of --auth-methods, PLAIN and LOGIN by
// default) and required before MAIL; other credentials are refused with 535. On a connection
// without TLS, AUTH is accepted only with --allow-insecure-auth. A recipient named by
// --refuse-recipient is refused with 550. --size advertises and enforces a SIZE limit.
//
// Once listening it prints "smtp-receiver listening on 127.0.0.1:PORT". For each message it
// writes DIR/NNNNNN.eml (the message's bytes as received, after SMTP dot-unstuffing) and then
// DIR/NNNNNN.json ({from, to, secure, auth, clientHostname}: the envelope and the session),
// each through a temporary file and a rename, and then prints "smtp-receiver stored NNNNNN".
// It stops on SIGTERM or SIGINT.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';

function fail(message) {
  process.stderr.write(`smtp-receiver: ${message}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      out: { type: 'string' },
      security: { type: 'string', default: 'plain' },
      cert: { type: 'string' },
      key: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'auth-methods': { type: 'string', default: 'PLAIN,LOGIN' },
      'allow-insecure-auth': { type: 'boolean', default: false },
      'refuse-recipient': { type: 'string', multiple: true, default: [] },
      size: { type: 'string' },
      port: { type: 'string', default: '0' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail(error.message);
}

if (!args.out) fail('--out DIR is required');
if (!['plain', 'starttls', 'tls'].includes(args.security)) {
  fail(`unknown --security ${args.security} (plain, starttls or tls)`);
}
const withTls = args.security !== 'plain';
if (withTls && (!args.cert || !args.key)) fail(`--security ${args.security} needs --cert and --key`);
if ((args.user === undefined) !== (args.password === undefined)) {
  fail('--user and --password go together');
}
const withAuth = args.user !== undefined;
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${args.port}`);
let size;
if (args.size !== undefined) {
  size = Number(args.size);
  if (!Number.isInteger(size) || size <= 0) fail(`bad --size ${args.size}`);
}

fs.mkdirSync(args.out, { recursive: true });
const refused = new Set(args['refuse-recipient'].map((address) => address.toLowerCase()));
let stored = 0;

// Written whole or not at all: a test that sees the file sees all of it.
function writeAtomically(file, data) {
  const temporary = `${file}.tmp`;
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}

const options = {
  secure: args.security === 'tls',
  hideSTARTTLS: args.security === 'plain',
  authOptional: !withAuth,
  allowInsecureAuth: args['allow-insecure-auth'],
  authMethods: args['auth-methods'].split(',').map((method) => method.trim()).filter(Boolean),
  disabledCommands: withAuth ? [] : ['AUTH'],
  logger: false,
  banner: 'socle test receiver',
  onAuth(auth, session, callback) {
    if (auth.username === args.user && auth.password === args.password) {
      callback(null, { user: { username: auth.username, method: auth.method } });
      return;
    }
    const error = new Error('Authentication credentials invalid');
    error.responseCode = 535;
    callback(error);
  },
  onRcptTo(address, session, callback) {
    if (refused.has(address.address.toLowerCase())) {
      const error = new Error(`Mailbox ${address.address} unavailable`);
      error.responseCode = 550;
      callback(error);
      return;
    }
    callback();
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('error', callback);
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        const error = new Error('Message exceeds the size limit');
        error.responseCode = 552;
        callback(error);
        return;
      }
      stored += 1;
      const name = String(stored).padStart(6, '0');
      try {
        writeAtomically(path.join(args.out, `${name}.eml`), Buffer.concat(chunks));
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          secure: Boolean(session.secure),
          auth: session.user ? { username: session.user.username, method: session.user.method } : null,
          clientHostname: session.hostNameAppearsAs || '',
        };
        writeAtomically(path.join(args.out, `${name}.json`), JSON.stringify(envelope, null, 2));
      } catch (error) {
        callback(error);
        return;
      }
      process.stdout.write(`smtp-receiver stored ${name}\n`);
      callback(null, `Stored as ${name}`);
    });
  },
};
if (size !== undefined) options.size = size;
if (withTls) {
  options.key = fs.readFileSync(args.key);
  options.cert = fs.readFileSync(args.cert);
}

const server = new SMTPServer(options);
server.on('error', (error) => process.stderr.write(`smtp-receiver: ${error.message}\n`));
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`smtp-receiver listening on 127.0.0.1:${server.server.address().port}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  // Connections a test left open must not keep the receiver alive.
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
