// The one check for outbound connections to places a peer named: an acomm request's
// `responsehook`, a Core-engine task's `callback_url` and `s3_host`. The wires require
// such addresses, so they are allowed by default; an operator who wants to confine a
// service lists the hosts, networks and socket folders it may reach, and everything else is
// refused with SY_ERR_OUTBOUND_REFUSED before any connection is made.
//
// Entries:
//   api.example.com        that host name exactly (case does not matter), any port
//   *.example.com          any host name under example.com (not example.com itself)
//   api.example.com:8080   that host name on that port only
//   10.0.0.5, ::1          that address (IP literals in URLs, and what host names resolve to)
//   10.0.0.0/8, fd00::/8   a network
//   unix:/run/acomm        unix sockets inside that folder (after resolving the path)
// A host name is allowed when it matches a name entry, or when every address it resolves to
// lies in an address/network entry. Resolution happens at the check; the connection made
// afterwards resolves again, so a DNS answer that changes in between is not caught (list
// addresses, or names you control, when that matters).

import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { resolve as resolvePath, sep } from 'node:path';
import { errors } from '../errors.js';

export interface OutboundAllowList {
  /** The entries as given, for logs and docs. */
  readonly entries: readonly string[];
  /**
   * Resolves when `target` (a URL: http(s)://, unix://, or a bare host[:port]) may be
   * reached; throws SY_ERR_OUTBOUND_REFUSED naming `what` and the setting otherwise.
   */
  check(target: string, what: string): Promise<void>;
}

interface NameEntry {
  readonly name: string;
  readonly suffix: boolean;
  readonly port: string | undefined;
}

/**
 * Builds the check from a setting's entries. Undefined or an empty list allows everything
 * (returns undefined, so callers skip the check). Throws SY_ERR_SETTINGS for an entry that
 * is none of the forms above, naming `setting`.
 */
export function outboundAllowList(entries: readonly string[] | undefined, setting: string): OutboundAllowList | undefined {
  if (!entries || entries.length === 0) return undefined;
  const names: NameEntry[] = [];
  const networks = new BlockList();
  let hasNetworks = false;
  const folders: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry.startsWith('unix:')) {
      const folder = entry.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
      if (!folder.startsWith('/')) throw new errors.SY_ERR_SETTINGS(`${setting}: ${JSON.stringify(raw)} needs an absolute folder, e.g. unix:/run/acomm`);
      folders.push(resolvePath(folder));
      continue;
    }
    const slash = entry.indexOf('/');
    if (slash > 0) {
      const address = entry.slice(0, slash);
      const prefix = Number(entry.slice(slash + 1));
      const family = isIP(address);
      if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new errors.SY_ERR_SETTINGS(`${setting}: ${JSON.stringify(raw)} is not a network; write it as 10.0.0.0/8 or fd00::/8`);
      }
      networks.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
      hasNetworks = true;
      continue;
    }
    const family = isIP(entry.replace(/^\[|\]$/g, ''));
    if (family !== 0) {
      networks.addAddress(entry.replace(/^\[|\]$/g, ''), family === 4 ? 'ipv4' : 'ipv6');
      hasNetworks = true;
      continue;
    }
    const match = /^(\*\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(\d{1,5}))?$/i.exec(entry);
    if (!match) {
      throw new errors.SY_ERR_SETTINGS(
        `${setting}: ${JSON.stringify(raw)} is not a host name, address, network or unix: folder (e.g. api.example.com, *.example.com, 10.0.0.0/8, unix:/run/acomm)`,
      );
    }
    names.push({ name: match[2]!.toLowerCase(), suffix: match[1] !== undefined, port: match[3] });
  }

  const refuse = (what: string, target: string): never => {
    throw new errors.SY_ERR_OUTBOUND_REFUSED(what, target, setting);
  };

  const inNetworks = (address: string): boolean => {
    const family = isIP(address);
    return hasNetworks && family !== 0 && networks.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };

  return {
    entries: [...entries],
    async check(target, what) {
      let url: URL;
      try {
        url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `tcp://${target}`);
      } catch {
        return refuse(what, target);
      }
      if (url.protocol === 'unix:') {
        const path = resolvePath(decodeURIComponent(url.pathname));
        if (folders.some((folder) => path.startsWith(folder.endsWith(sep) ? folder : folder + sep))) return;
        return refuse(what, target);
      }
      const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      const port = url.port;
      if (isIP(host) !== 0) {
        if (inNetworks(host)) return;
        return refuse(what, target);
      }
      for (const entry of names) {
        const nameMatches = entry.suffix ? host.endsWith(`.${entry.name}`) : host === entry.name;
        if (nameMatches && (entry.port === undefined || entry.port === port)) return;
      }
      if (hasNetworks) {
        let addresses: { address: string }[];
        try {
          addresses = await lookup(host, { all: true });
        } catch {
          return refuse(what, target);
        }
        if (addresses.length > 0 && addresses.every((a) => inNetworks(a.address))) return;
      }
      return refuse(what, target);
    },
  };
}
