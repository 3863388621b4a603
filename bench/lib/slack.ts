import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';

export type BenchSlack = {
  /** The Web API base URL (SLACK_API_URL). */
  url: string;
  /** Where slash commands' response_url points. */
  responseUrl: string;
  /** Requests that reached it, by path, and `(new connections)`: a client that keeps its connections alive opens a handful per run. */
  counts: Record<string, number>;
  close: () => void;
};

/** A minimal stand-in for Slack's Web API and response_url, so slash commands run end to end. */
export async function fakeSlack(): Promise<BenchSlack> {
  const counts: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = (req.url ?? '').replace(/\?.*$/, '');
      counts[key] = (counts[key] ?? 0) + 1;
      res.setHeader('content-type', 'application/json');
      if (req.url?.includes('users.info')) {
        res.end(JSON.stringify({ ok: true, user: { id: 'UBENCH', name: 'bench', profile: { email: 'bench@example.com', display_name: 'Bench' } } }));
      } else res.end('{"ok":true}');
    });
  });
  server.on('connection', () => (counts['(new connections)'] = (counts['(new connections)'] ?? 0) + 1));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url: `${base}api/`, responseUrl: `${base}response`, counts, close: () => server.close() };
}

/** The Slack settings of a Roster talking to the fake. */
export function slackEnv(slack: BenchSlack): Record<string, string> {
  return { SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_API_URL: slack.url };
}

export type SignedRequest = { body: string; headers: Record<string, string> };

/**
 * `/org help` requests, each signed anew with its own trigger_id: Roster acts on a signed request once,
 * so the same signed body sent again would measure the replay refusal instead of the command.
 */
export function signedSlashCommands(responseUrl: string, teams: string[] = ['TBENCH']): () => SignedRequest {
  let nth = 0;
  return () => {
    const body = new URLSearchParams({
      command: '/org',
      text: 'help',
      // Spread over the workspaces (distribution: each request finds its own installation).
      team_id: teams[nth % teams.length]!,
      user_id: 'UBENCH',
      response_url: responseUrl,
      trigger_id: `t${nth++}`,
    }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const sig = 'v0=' + createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
    return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': sig, 'x-slack-request-timestamp': String(ts) } };
  };
}

/**
 * The Slack ack's ceiling, run as its own process (`node --input-type=module -e`): express 5, a POST
 * route that parses the same urlencoded body and answers 200 at once. Prints `ready` when listening.
 */
export const POST_CEILING_SOURCE = `
import express from 'express';
const app = express();
app.post('/slack/events', express.urlencoded({ extended: false }), (_req, res) => { res.status(200).end(); });
const s = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\\n'));
process.on('SIGTERM', () => s.close(() => process.exit(0)));
`;
