/**
 * How deeply a raw JSON text nests arrays and objects, scanned before it is parsed: a body of tens of
 * thousands of nested brackets is small, parses fine, and then overflows the stack of whatever walks it
 * recursively (ours, SCIMMY's), at ~300 ms of CPU for each such request. Brackets inside strings are
 * text. The scan is one pass over the bytes and stops at the first level too deep.
 */
export function jsonNestingExceeds(body: Uint8Array | string, maxDepth: number): boolean {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: the next byte is escaped (a quote or a backslash included)
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

/** Deeper than any SCIM resource or PatchOp (a PATCH value with emails is 5 levels). */
export const MAX_JSON_DEPTH = 32;

/** express.json's verify hook: runs on the raw body, before JSON.parse builds anything. */
export function refuseDeepJson(_req: unknown, _res: unknown, body: Buffer, encoding: string) {
  let text: Uint8Array | string = body;
  if (encoding && encoding !== 'utf-8') {
    try {
      text = new TextDecoder(encoding).decode(body);
    } catch {
      throw Object.assign(new Error(`Unsupported charset "${encoding}".`), { status: 415, type: 'charset.unsupported' });
    }
  }
  if (jsonNestingExceeds(text, MAX_JSON_DEPTH)) throw Object.assign(new Error('JSON nested too deeply'), { status: 400, type: 'entity.too.deep' });
}
