/**
 * Stop PostgreSQL while Roster is under SCIM load, then start it again. While it is down every answer
 * must be a clean 503 SCIM error (never a 500, a 401 or a hang); afterwards Roster must serve again
 * without being restarted. Run: npm run resilience:pg
 */
import { rm } from 'node:fs/promises';
import { freePort, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { say, setup, startRoster, stopPostgresNow, stopProcess, waitHealthy } from './common.js';
async function main() {
    const env = await setup('pgdown');
    const port = await freePort();
    const roster = startRoster(env.url, port);
    await waitHealthy(port);
    await env.database.close();
    const base = `http://127.0.0.1:${port}/scim/v2`;
    const headers = { authorization: `Bearer ${env.token}`, 'content-type': 'application/scim+json' };
    let phase = 'before';
    const seen = { before: {}, down: {}, after: {} };
    let stop = false;
    let seq = 0;
    const workers = Array.from({ length: 8 }, async (_, w) => {
        while (!stop) {
            const p = phase;
            let key;
            try {
                const r = w % 2
                    ? await fetch(`${base}/Users?filter=${encodeURIComponent('userName eq "nobody@x.test"')}`, { headers, signal: AbortSignal.timeout(10_000) })
                    : await fetch(`${base}/Users`, { method: 'POST', headers, signal: AbortSignal.timeout(10_000), body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `u${seq++}@pgdown.test` }) });
                key = String(r.status);
                await r.text();
            }
            catch (err) {
                key = err.name === 'TimeoutError' ? 'timeout' : 'network error';
            }
            seen[p][key] = (seen[p][key] ?? 0) + 1;
            await new Promise((r) => setTimeout(r, 5));
        }
    });
    await new Promise((r) => setTimeout(r, 3000));
    say('stopping PostgreSQL');
    await stopPostgresNow(env.dir);
    phase = 'down';
    await new Promise((r) => setTimeout(r, 4000));
    say('starting PostgreSQL again');
    const again = await startEmbeddedPostgres({ dataDir: env.dir, port: env.pgPort });
    await new Promise((r) => setTimeout(r, 1000));
    phase = 'after';
    await new Promise((r) => setTimeout(r, 4000));
    stop = true;
    await Promise.all(workers);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status);
    for (const p of ['before', 'down', 'after'])
        say(`${p.padEnd(6)} ${JSON.stringify(seen[p])}`);
    const downOk = Object.keys(seen.down).every((k) => k === '503' || k === '201' || k === '200');
    const afterOk = (seen.after['201'] ?? 0) > 0 && (seen.after['200'] ?? 0) > 0 && !seen.after['500'];
    const ok = downOk && afterOk && health === 200 && !seen.before['500'];
    say(`during the outage only 503s: ${downOk ? 'yes' : 'no'} · recovered without a restart: ${afterOk && health === 200 ? 'yes' : 'no'} → ${ok ? 'PASS' : 'FAIL'}`);
    await stopProcess(roster);
    await again.stop();
    await rm(env.dir, { recursive: true, force: true });
    process.exit(ok ? 0 : 1);
}
main().catch((err) => {
    say(`failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
});
