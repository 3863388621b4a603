// The HTTP stack's ceiling: a trivial express 5 route, run as its own process like Roster.
import express from 'express';
const app = express();
app.get('/ping', (_req, res) => {
    res.type('application/json').send('{"ok":true}');
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => {
    process.stdout.write('ready\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
