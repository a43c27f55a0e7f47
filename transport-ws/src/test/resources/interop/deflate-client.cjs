// Drives a Meshwork server that offers permessage-deflate with the Node.js `ws` client, which
// compresses every message (threshold 0). Prints one JSON line per event.
// argv: url, base64 of a compressible Frame under the limit, size of a zero-filled message whose
// compressed form is far under the limit but whose inflated size is over it
const WebSocket = require('ws');
const [url, frameB64, bombSize] = process.argv.slice(2);
const out = (o) => console.log(JSON.stringify(o));
const frame = Buffer.from(frameB64, 'base64');

const ws = new WebSocket(url, 'meshwork.v1', { perMessageDeflate: { threshold: 0 } });
ws.on('open', () => { out({ event: 'open', extensions: ws.extensions }); ws.send(frame); });
ws.on('message', (data, isBinary) => {
  out({ event: 'echo', ok: isBinary && Buffer.compare(data, frame) === 0, size: data.length });
  ws.send(Buffer.alloc(Number(bombSize)));
});
ws.on('close', (code, reason) => { out({ event: 'closeOverLimit', code, reason: reason.toString() }); process.exit(0); });
ws.on('error', (e) => out({ event: 'error', message: e.message }));
