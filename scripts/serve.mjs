// serve.mjs - a tiny static file server for the repo (the page is /web/).
// Usage: node scripts/serve.mjs [port]   (binds 127.0.0.1; Ctrl-C stops it)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.prime': 'application/octet-stream',
  '.psmp': 'application/octet-stream', '.md': 'text/plain; charset=utf-8',
};

/** Returns an http.Server serving `dir` (default: the repo root). */
export function createServer(dir = root) {
  return http.createServer((req, res) => {
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (p === '/') { res.writeHead(302, { Location: '/web/' }); res.end(); return; }
    let file = path.join(dir, p);
    if (!file.startsWith(dir)) { res.writeHead(403); res.end('forbidden'); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404); res.end('not found'); return; }
      res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream',
        'Cache-Control': 'no-cache' });
      res.end(data);
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] || 8000);
  createServer().listen(port, '127.0.0.1', () => console.log(`serving ${root} on http://localhost:${port}/web/`));
}
