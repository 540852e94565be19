// The master-key sealer: AES-256-GCM bound to a context.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Sealer } from '../../src/crypto/masterKey.js';

test('a sealed value opens only with its context', () => {
  const sealer = Sealer.fromKey(randomBytes(32));
  const sealed = sealer.seal('hunter2', 'kvsecret/a');
  assert.ok(!sealed.includes('hunter2'));
  assert.equal(sealer.openText(sealed, 'kvsecret/a'), 'hunter2');
  assert.throws(() => sealer.openText(sealed, 'kvsecret/b'));
  // Sealing the same text twice gives different ciphertexts (fresh IV), each opening on its own.
  const again = sealer.seal('hunter2', 'kvsecret/a');
  assert.notEqual(again, sealed);
  assert.equal(sealer.openText(again, 'kvsecret/a'), 'hunter2');
});

test('a tampered or foreign sealed value does not open', () => {
  const sealer = Sealer.fromKey(randomBytes(32));
  const sealed = sealer.seal('value', 'ctx');
  const parts = sealed.split('.');
  const body = Buffer.from(parts[3]!, 'base64url');
  body[0] = body[0]! ^ 1;
  assert.throws(() => sealer.openText([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'ctx'));
  assert.throws(() => Sealer.fromKey(randomBytes(32)).openText(sealed, 'ctx'));
  assert.throws(() => sealer.openText('not-sealed', 'ctx'), /not a sealed value/);
});
