// Placeholder web service: answers /healthz with 200 and everything else with a small JSON body.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ placeholder: true, method: req.method, url: req.url, host: req.headers.host }) + '\n');
});
server.listen(Number(process.env.PORT ?? 3000), '0.0.0.0');
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
