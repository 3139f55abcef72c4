#!/usr/bin/env node
// Reads RFC 5322 message files with mailparser, an implementation independent of the one under
// test, and prints what a mail client would see, as one JSON array (one object per file):
//
//   node parse_mail.mjs FILE.eml...
//
// Each object: subject, from, to, cc, bcc, replyTo (lists of {name, address}), text, html
// (null when absent), messageId, date (ISO 8601, null when absent), headerNames (lower-case, in
// order, repeated as often as they occur), headers ({name: value} of the header lines as
// written, unfolded), contentType, and parts (the content type and transfer encoding of each
// leaf part), so that tests can check both the meaning and the shape of a message.
import fs from 'node:fs';
import process from 'node:process';
import { simpleParser } from 'mailparser';

function addresses(field) {
  if (!field) return [];
  const groups = Array.isArray(field) ? field : [field];
  const out = [];
  for (const group of groups) {
    for (const entry of group.value) {
      // A group (undisclosed-recipients:;) lists its members, here none.
      if (entry.group) {
        for (const member of entry.group) out.push({ name: member.name, address: member.address });
      } else {
        out.push({ name: entry.name, address: entry.address });
      }
    }
  }
  return out;
}

// The header fields of an entity ({name: value}, names lower-case, values unfolded) and its body.
function splitEntity(text) {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 4);
  const fields = [];
  for (const line of head.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { fields, body };
}

function field(fields, name) {
  const found = fields.find(([key]) => key === name);
  return found ? found[1] : null;
}

// The leaf parts' Content-Type and Content-Transfer-Encoding, found by walking the MIME tree of
// the raw text along its boundaries, since mailparser decodes them away.
function leafParts(text) {
  const { fields, body } = splitEntity(text);
  const contentType = field(fields, 'content-type') ?? 'text/plain';
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (!type.startsWith('multipart/')) {
    return [{ type, encoding: (field(fields, 'content-transfer-encoding') ?? '7bit').toLowerCase() }];
  }
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!boundary) throw new Error(`a ${type} without a boundary`);
  const delimiter = `--${boundary[1]}`;
  const lines = body.split('\r\n');
  const parts = [];
  let current = null;
  for (const line of lines) {
    if (line === delimiter || line === `${delimiter}--`) {
      if (current !== null) parts.push(...leafParts(current.join('\r\n')));
      current = line === delimiter ? [] : null;
      if (line !== delimiter) break;
    } else if (current !== null) {
      current.push(line);
    }
  }
  return parts;
}

async function describe(file) {
  const raw = fs.readFileSync(file);
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
  const text = raw.toString('latin1');
  const { fields } = splitEntity(text);
  const headers = Object.fromEntries(fields);
  const headerNames = fields.map(([name]) => name);
  return {
    subject: parsed.subject ?? null,
    from: addresses(parsed.from),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    bcc: addresses(parsed.bcc),
    replyTo: addresses(parsed.replyTo),
    text: parsed.text ?? null,
    html: parsed.html === false || parsed.html === undefined ? null : parsed.html,
    messageId: parsed.messageId ?? null,
    date: parsed.date ? parsed.date.toISOString() : null,
    headerNames,
    headers,
    contentType: parsed.headers.get('content-type')?.value ?? null,
    parts: leafParts(text),
  };
}

const files = process.argv.slice(2);
try {
  const described = [];
  for (const file of files) described.push(await describe(file));
  process.stdout.write(JSON.stringify(described));
} catch (error) {
  process.stderr.write(`parse_mail: ${error.message}\n`);
  process.exit(1);
}
