import dns2 from 'dns2';
import { afterAll, beforeAll } from 'vitest';

type Behaviour = { txt: (string | string[])[]; a?: string[] } | { fail: 'servfail' | 'timeout' };

export type TestDns = {
  /** host:port of the server, for DNS_SERVERS or createTxtLookup. */
  readonly address: string;
  /** The TXT records a name answers with (an array is one record in several strings; none = the name exists with no TXT record). */
  setTxt: (name: string, ...values: (string | string[])[]) => void;
  /** The IPv4 addresses (A records) a name answers with. */
  setA: (name: string, ...addresses: string[]) => void;
  /** The name's lookups fail: SERVFAIL, or no answer at all. */
  fail: (name: string, how: 'servfail' | 'timeout') => void;
  /** Forget a name: NXDOMAIN. */
  remove: (name: string) => void;
  /** How many questions the server was asked for a name. */
  asked: (name: string) => number;
};

/**
 * A real DNS server on 127.0.0.1 (UDP and TCP, from npm dns2), for the whole test file: what Roster's
 * resolver asks is answered from a table the test fills. Unknown names are NXDOMAIN.
 */
export function useDnsServer(): TestDns {
  const { Packet } = dns2;
  const names = new Map<string, Behaviour>();
  const questions = new Map<string, number>();
  let address = '';
  const server = dns2.createServer({
    udp: true,
    tcp: true,
    handle: (request: any, send: (r: any) => void) => {
      const response = Packet.createResponseFromRequest(request);
      const [q] = request.questions;
      const name = String(q?.name ?? '').toLowerCase();
      questions.set(name, (questions.get(name) ?? 0) + 1);
      const b = names.get(name);
      if (b && 'fail' in b) {
        if (b.fail === 'timeout') return;
        response.header.rcode = 2;
      } else if (!b) {
        response.header.rcode = 3;
      } else if (q.type === Packet.TYPE.TXT) {
        for (const value of b.txt) response.answers.push({ name: q.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 1, data: value });
      } else if (q.type === Packet.TYPE.A) {
        for (const address of b.a ?? []) response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 1, address });
      }
      send(response);
    },
  });
  beforeAll(async () => {
    const a = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
    address = `127.0.0.1:${a.udp.port}`;
  });
  afterAll(async () => {
    await server.close();
  });
  return {
    get address() {
      return address;
    },
    setTxt: (name, ...values) => void names.set(name.toLowerCase(), { txt: values }),
    setA: (name, ...addresses) => void names.set(name.toLowerCase(), { txt: [], a: addresses }),
    fail: (name, how) => void names.set(name.toLowerCase(), { fail: how }),
    remove: (name) => void names.delete(name.toLowerCase()),
    asked: (name) => questions.get(name.toLowerCase()) ?? 0,
  };
}
