// docs/reference/errors.md is generated from the catalogue (scripts/gen-errors-doc.mjs):
// this fails when a code was added, moved or reworded without regenerating the page, and
// checks the catalogue gives every code a concern and both texts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { errorCatalogue, errors } from '../../src/errors.js';
// @ts-expect-error a plain .mjs script without type declarations
import { PAGE, render } from '../../scripts/gen-errors-doc.mjs';

describe('the errors reference page', () => {
  it('is what the catalogue renders (run node scripts/gen-errors-doc.mjs when this fails)', () => {
    const page = readFileSync(PAGE as string, 'utf8');
    assert.equal(page, (render as (e: unknown) => string)(errorCatalogue()), `${PAGE as string} is stale: run node scripts/gen-errors-doc.mjs`);
  });

  it('lists every code once, each with a concern, what it means and how to fix it', () => {
    const entries = errorCatalogue();
    assert.deepEqual(entries.map((e) => e.code).sort(), Object.keys(errors).sort());
    for (const e of entries) {
      assert.ok(e.concern, `${e.code} has no concern`);
      assert.ok(e.means.length > 10 && e.fix.length > 5, `${e.code} needs means and fix texts`);
    }
  });

  it('fails on a stale page: a reworded fix changes what is rendered', () => {
    const entries = errorCatalogue();
    const changed = entries.map((e, i) => (i === 0 ? { ...e, fix: `${e.fix} (changed)` } : e));
    assert.notEqual((render as (e: unknown) => string)(changed), (render as (e: unknown) => string)(entries));
  });
});
