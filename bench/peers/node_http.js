// bench/peers/node_http.js - the Node.js peer of bench/run.sh: the same
// routes as bench/bench.c on Node's own http module, no npm packages.
//
//   node node_http.js PORT PUBLIC_DIR     (listens on 127.0.0.1:PORT only)
//
//   GET /plaintext  "Hello, World!" as text/plain
//   GET /json       {"message":"Hello, World!"}, JSON.stringify per request
//   GET /<file>     a file under PUBLIC_DIR: fs.stat, then a read stream
//                   piped into the response (what serve-static does at its
//                   core), with Content-Length and a type by extension
//
// It is the plain way to write this in Node, not a tuned one: one process,
// no cluster, no file cache. Two settings differ from Node's defaults, both
// so the idle keep-alive workload measures memory and not a timer:
// keepAliveTimeout (default 5 s) is raised to nginx's 75 s, and
// headersTimeout must then stay above it.
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');

const port = Number(process.argv[2]);
const root = path.resolve(process.argv[3] || '.');
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node node_http.js PORT PUBLIC_DIR');
  process.exit(2);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.bin': 'application/octet-stream',
};

function notFound(res) {
  res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': '9' });
  res.end('Not Found');
}

function serveFile(req, res, urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath);
  } catch (e) {
    return notFound(res);
  }
  // Resolve inside root; anything that climbs out is a 404.
  const file = path.join(root, path.normalize('/' + rel));
  if (!file.startsWith(root + path.sep)) return notFound(res);
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) return notFound(res);
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      'Content-Length': String(st.size),
      'Last-Modified': st.mtime.toUTCString(),
    });
    if (req.method === 'HEAD') return res.end();
    const stream = fs.createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
}

const server = http.createServer((req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': '0' });
    return res.end();
  }
  const q = req.url.indexOf('?');
  const urlPath = q < 0 ? req.url : req.url.slice(0, q);
  if (urlPath === '/plaintext') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '13', Server: 'node' });
    return res.end('Hello, World!');
  }
  if (urlPath === '/json') {
    const body = JSON.stringify({ message: 'Hello, World!' });
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      Server: 'node',
    });
    return res.end(body);
  }
  serveFile(req, res, urlPath);
});

server.keepAliveTimeout = 75 * 1000;
server.headersTimeout = 80 * 1000;
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  console.error(`node ${process.version}: port ${port}, public ${root}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
