import { createHash } from 'node:crypto';
import { escapeHtml } from './text.js';

/** Small helpers for Roster's server-rendered pages: escaping and one layout with inline CSS. */

/** A string already made safe for HTML; everything else is escaped when interpolated by `html`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

export { escapeHtml } from './text.js';

type Part = SafeHtml | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

/** Tagged template: interpolated values are escaped unless they are SafeHtml (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

const CSS = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f4f5f7;color:#1d1c1d;font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif}
main{max-width:560px;margin:0 auto;padding:32px 16px}
.card{background:#fff;border:1px solid #dddee1;border-radius:10px;padding:28px 24px}
.brand{font-size:14px;font-weight:700;letter-spacing:.04em;color:#616061;margin:0 0 16px;text-transform:uppercase}
h1{font-size:24px;line-height:1.3;margin:0 0 12px;overflow-wrap:anywhere}
p{margin:0 0 14px;overflow-wrap:anywhere}
dl{margin:20px 0;display:grid;grid-template-columns:auto 1fr;gap:8px 16px}
dt{color:#616061}
dd{margin:0;font-weight:600;overflow-wrap:anywhere}
form{margin:0}
label{display:block;font-weight:600;margin:20px 0 6px}
.hint{font-weight:400;color:#616061;font-size:14px}
input[type=text]{width:100%;font:inherit;padding:10px 12px;border:1px solid #b9babd;border-radius:6px}
input[type=text]:focus{outline:2px solid #1264a3;outline-offset:1px}
.actions{display:flex;flex-wrap:wrap;gap:12px;margin-top:20px}
button{font:inherit;font-weight:600;padding:11px 22px;border-radius:6px;cursor:pointer;border:1px solid transparent;min-width:120px}
button.primary{background:#1264a3;color:#fff}
button.primary:hover{background:#0b4f86}
button.secondary{background:#fff;color:#1d1c1d;border-color:#b9babd}
button.secondary:hover{background:#f4f5f7}
button:focus-visible{outline:2px solid #1264a3;outline-offset:2px}
.note{color:#616061;font-size:14px}
.decline{margin-top:28px;padding-top:20px;border-top:1px solid #eeeff1}
.error{background:#fdecec;border:1px solid #e8a6a6;color:#8a1c1c;border-radius:6px;padding:10px 12px;margin:0 0 16px}
.ok{color:#007a5a}
footer{color:#8d8d8f;font-size:12px;text-align:center;margin-top:20px}
@media (max-width:420px){.card{padding:22px 16px}button{flex:1 1 100%}}
`.trim();

/** The one stylesheet is inline; its hash lets the Content-Security-Policy allow it and nothing else. */
const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

/** No scripts, no external assets, forms only back to this site, never framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${STYLE_HASH}`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title} · Roster</title>
<style>${new SafeHtml(CSS)}</style>
</head>
<body>
<main>
<div class="card">
<p class="brand">Roster</p>
${body}
</div>
<footer>Roster · organization invites</footer>
</main>
</body>
</html>
`.value;
}
