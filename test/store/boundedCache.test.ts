// The bounded map behind the stores' in-memory read caches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedCache } from '../../src/store/boundedCache.js';

test('keeps values within both bounds and starts over when one would be passed', () => {
  const cache = new BoundedCache<string>(3, 10, (v) => v.length);
  cache.set('a', 'xxxx');
  cache.set('b', 'yyyy');
  assert.equal(cache.get('a'), 'xxxx');
  // Replacing a value frees its old weight first: 4 + 2 fits in 10.
  cache.set('a', 'zz');
  cache.set('c', 'qqqq');
  assert.deepEqual(['a', 'b', 'c'].map((k) => cache.get(k)), ['zz', 'yyyy', 'qqqq']);
  // A fourth entry passes the entry bound: the cache starts over with just that entry.
  cache.set('d', 'w');
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => cache.get(k)), [undefined, undefined, undefined, 'w']);
  // Passing the weight bound also starts over.
  cache.set('e', 'eeeeeeee');
  assert.deepEqual(['d', 'e'].map((k) => cache.get(k)), ['w', 'eeeeeeee']);
  cache.set('f', 'ff');
  assert.deepEqual(['d', 'e', 'f'].map((k) => cache.get(k)), [undefined, undefined, 'ff']);
});

test('a value heavier than the whole budget is not kept, and drops what the key held', () => {
  const cache = new BoundedCache<string>(10, 5, (v) => v.length);
  cache.set('k', 'abc');
  cache.set('k', 'way too long');
  assert.equal(cache.get('k'), undefined);
  cache.set('other', 'abcde');
  assert.equal(cache.get('other'), 'abcde');
  cache.delete('other');
  cache.set('x', 'abcde');
  assert.equal(cache.get('x'), 'abcde');
});
