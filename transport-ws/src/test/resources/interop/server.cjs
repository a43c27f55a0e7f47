// A Node.js `ws` server for the Meshwork client. Prints one JSON line per event.
// argv: size limit (maxPayload), base64 of a message exactly at the limit
const { WebSocketServer } = require('ws');
const limit = Number(process.argv[2]);
const atLimit = Buffer.from(process.argv[3], 'base64');
const out = (o) => console.log(JSON.stringify(o));
const wss = new WebSocketServer({
  host: '127.0.0.1', port: 0, maxPayload: limit,
  handleProtocols: (protocols) => (protocols.has('meshwork.v1') ? 'meshwork.v1' : false),
});
wss.on('listening', () => out({ event: 'listening', port: wss.address().port }));
wss.on('connection', (ws) => {
  ws.ping(Buffer.from('xyz'));
  ws.on('pong', (data) => out({ event: 'pong', data: data.toString() }));
  ws.on('message', (data) => {
    if (data.length === 2) {
      ws.close(4001, 'node-bye');
    } else if (data.length === 5) {
      ws.send(atLimit);
      ws.send(Buffer.alloc(limit + 1));
    } else {
      ws.send(data, { binary: true });
    }
  });
  ws.on('error', (e) => out({ event: 'error', message: e.message }));
  ws.on('close', (code, reason) => out({ event: 'close', code, reason: reason.toString() }));
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
