// Installs a packed switchyardjs into a new project without the network: the project gets a
// package-lock.json made from this repository's own lock (the same versions, resolved URLs
// and integrity hashes, for the packages the chosen roots reach), and `npm ci --offline`
// takes every tarball from npm's cache, which this repository's `npm ci` filled. A missing
// tarball fails the install with ENOTCACHED, and the test says to run `npm ci` first.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optional?: boolean;
  [key: string]: unknown;
}

/** The entry that `dep` required from the package at `from` resolves to, as Node resolves it (nearest node_modules up). */
function resolveIn(packages: Record<string, LockEntry>, from: string, dep: string): string | undefined {
  let at = from;
  for (;;) {
    const candidate = at === '' ? `node_modules/${dep}` : `${at}/node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (at === '') return undefined;
    const cut = at.lastIndexOf('/node_modules/');
    at = cut < 0 ? '' : at.slice(0, cut);
  }
}

export interface Project {
  /** package.json of the new project. */
  readonly packageJson: Record<string, unknown>;
  /** package-lock.json for it. */
  readonly lock: Record<string, unknown>;
}

/**
 * package.json + package-lock.json for a project depending on the tarball (installed as
 * node_modules/switchyardjs) and on `extra` packages at the versions of this repo's lock.
 */
export function offlineProject(root: string, tarball: string, extra: { dependencies: string[]; devDependencies?: string[] }): Project {
  const repoLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }>; bin: Record<string, string>; engines: Record<string, string> };
  const packages = repoLock.packages;
  const out: Record<string, LockEntry> = {};
  const queue: string[] = [];
  const take = (from: string, dep: string, optional: boolean) => {
    const path = resolveIn(packages, from, dep);
    if (!path) {
      if (optional) return;
      throw new Error(`${dep} (needed by ${from || 'the project'}) is not in package-lock.json`);
    }
    if (out[path]) return;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = packages[path]! as LockEntry & { dev?: unknown; devOptional?: unknown; peer?: unknown };
    out[path] = entry;
    queue.push(path);
  };
  const version = (name: string) => {
    const v = packages[`node_modules/${name}`]?.version;
    if (!v) throw new Error(`${name} is not in package-lock.json`);
    return v;
  };
  const tgz = readFileSync(tarball);
  const dependencies: Record<string, string> = { switchyardjs: `file:${tarball}` };
  for (const name of extra.dependencies) dependencies[name] = version(name);
  const devDependencies: Record<string, string> = {};
  for (const name of extra.devDependencies ?? []) devDependencies[name] = version(name);
  out['node_modules/switchyardjs'] = {
    version: ours.version,
    resolved: `file:${tarball}`,
    integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}`,
    license: 'MIT',
    dependencies: ours.dependencies,
    bin: ours.bin,
    engines: ours.engines,
    peerDependencies: ours.peerDependencies,
    peerDependenciesMeta: ours.peerDependenciesMeta,
  };
  for (const dep of Object.keys(ours.dependencies)) take('node_modules/switchyardjs', dep, false);
  for (const name of [...extra.dependencies, ...(extra.devDependencies ?? [])]) take('', name, false);
  while (queue.length > 0) {
    const path = queue.shift()!;
    const e = out[path]!;
    for (const dep of Object.keys(e.dependencies ?? {})) take(path, dep, false);
    for (const dep of Object.keys(e.optionalDependencies ?? {})) take(path, dep, true);
    for (const [dep] of Object.entries(e.peerDependencies ?? {})) if (!e.peerDependenciesMeta?.[dep]?.optional) take(path, dep, true);
  }
  const packageJson = { name: 'my-services', version: '1.0.0', private: true, type: 'module', dependencies, devDependencies };
  const lock = {
    name: 'my-services',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'my-services', version: '1.0.0', dependencies, devDependencies }, ...out },
  };
  return { packageJson, lock };
}
