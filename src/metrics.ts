import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, Registry } from 'prom-client';

/** Which surface a request path belongs to, as the metrics label it. */
export function surfaceOf(path: string): string {
  const first = path.split('/')[1] ?? '';
  if (first === 'scim') return 'scim';
  if (first === 'api') return 'api';
  if (first === 'slack') return 'slack';
  if (first === 'invites' || first === 'consent' || first === 'slack-link') return 'pages';
  if (first === 'healthz' || first === 'metrics') return 'ops';
  return 'other';
}

/**
 * This process's request and job metrics (prom-client), in a registry of its own (several Roster
 * instances may share a process in tests). /metrics prints them after Roster's own gauges.
 */
export function createMetrics() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'roster_http_requests_total',
    help: 'HTTP requests this process answered, by surface and status class.',
    labelNames: ['surface', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'roster_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by surface.',
    labelNames: ['surface'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [registry],
  });
  const jobRuns = new Counter({
    name: 'roster_job_runs_total',
    help: 'Job runs in this process, by job and outcome (ok, failed).',
    labelNames: ['job', 'outcome'] as const,
    registers: [registry],
  });
  const jobSeconds = new Histogram({
    name: 'roster_job_run_duration_seconds',
    help: 'How long each job run took, by job.',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });

  /** Counts and times every request (express middleware, first in the chain). */
  const track = (surface: string, res: ServerResponse) => {
    const stop = latency.startTimer({ surface });
    res.once('finish', () => {
      stop();
      requests.inc({ surface, status: `${Math.floor(res.statusCode / 100)}xx` });
    });
  };
  const http = (req: Request, res: Response, next: NextFunction) => {
    track(surfaceOf(req.path), res);
    next();
  };

  /** Times one job run: call the returned function with how it ended. */
  const jobStarted = (job: string) => {
    const stop = jobSeconds.startTimer({ job });
    return (outcome: 'ok' | 'failed') => {
      stop();
      jobRuns.inc({ job, outcome });
    };
  };

  return { http, track, jobStarted, text: () => registry.metrics() };
}

export type Metrics = ReturnType<typeof createMetrics>;
