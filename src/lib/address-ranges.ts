import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ErrorCodes, SwitchyardError } from './errors.js';

/** One address range: a network address and how many leading bits of it must match. */
export interface AddressRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Reads `10.0.0.0/8`, `fd00::/8` or a bare address (a range of one), or says what is wrong with
 * the text, in words a configuration error can quote.
 */
export function parseAddressRange(text: string): AddressRange | string {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) return `"${address}" is not an IPv4 or IPv6 address`;
  const max = family === 'ipv4' ? 32 : 128;
  if (slash === -1) return { address, prefix: max, family };
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) {
    return `"/${bits}" is not a prefix length from 0 to ${max} for an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`;
  }
  return { address, prefix: Number(bits), family };
}

/**
 * A set of address ranges that answers "is this address in one of them" for IPv4 and IPv6, with
 * IPv4-mapped IPv6 addresses (what a dual-stack socket reports for IPv4 peers) matched as IPv4.
 * Node's BlockList does the matching; this only names the use and checks the input.
 */
export class AddressRanges {
  readonly #list = new BlockList();
  /** The ranges as given, for pictures of the configuration. */
  readonly ranges: readonly string[];

  constructor(ranges: readonly string[]) {
    this.ranges = [...ranges];
    for (const text of ranges) {
      const range = parseAddressRange(text);
      if (typeof range === 'string') {
        throw new SwitchyardError(ErrorCodes.ERR_INVALID_ADDRESS, `address range "${text}": ${range}`);
      }
      this.#list.addSubnet(range.address, range.prefix, range.family);
    }
  }

  /** True when `address` (IPv4 or IPv6 text) is inside one of the ranges. */
  has(address: string): boolean {
    if (isIPv4(address)) return this.#list.check(address, 'ipv4');
    if (isIPv6(address)) return this.#list.check(address, 'ipv6');
    return false;
  }
}

/**
 * A listener's address rules: `deny` ranges refuse, and when `allow` ranges are given only
 * addresses in them are let in. Deny wins over allow, so a range can be carved out of an allowed one.
 */
export class AddressRules {
  readonly #allow: AddressRanges | undefined;
  readonly #deny: AddressRanges | undefined;

  constructor(allow: readonly string[], deny: readonly string[]) {
    this.#allow = allow.length === 0 ? undefined : new AddressRanges(allow);
    this.#deny = deny.length === 0 ? undefined : new AddressRanges(deny);
  }

  /** True when the rules let `address` in. */
  admits(address: string): boolean {
    if (this.#deny?.has(address) === true) return false;
    return this.#allow === undefined || this.#allow.has(address);
  }
}
