// The compiled server applies the same committed SQL migrations: copy them next to dist/db/migrate.js.
import { cpSync, rmSync } from 'node:fs';

rmSync('dist/db/migrations', { recursive: true, force: true });
cpSync('src/db/migrations', 'dist/db/migrations', { recursive: true });
