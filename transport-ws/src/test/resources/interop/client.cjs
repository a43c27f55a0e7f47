// Drives a Meshwork server with the Node.js `ws` client. Prints one JSON line per event.
// argv: url, base64 of a message exactly at the size limit, size of an over-limit message
// (the transport moves opaque bytes: none of these needs to be a protobuf Frame)
const WebSocket = require('ws');
const [url, atLimitB64, overSize] = process.argv.slice(2);
const out = (o) => console.log(JSON.stringify(o));
const atLimit = Buffer.from(atLimitB64, 'base64');
const small = Buffer.from([0x00, 0xff, 0x61, 0x00, 0x7f]); // any bytes, not a protobuf Frame
const closeMe = Buffer.from('close-me');

function echoAndLimits() {
  const ws = new WebSocket(url, 'meshwork.v1');
  let n = 0;
  ws.on('open', () => { out({ event: 'open', protocol: ws.protocol }); ws.send(small); });
  ws.on('message', (data, isBinary) => {
    n++;
    if (n === 1) {
      out({ event: 'echo', ok: isBinary && Buffer.compare(data, small) === 0 });
      // stay a little so the server's 100 ms pings reach us too
      setTimeout(() => ws.ping(Buffer.from('abc')), 300);
    } else if (n === 2) {
      out({ event: 'echoAtLimit', ok: isBinary && Buffer.compare(data, atLimit) === 0, size: data.length });
      ws.send(Buffer.alloc(Number(overSize)));
    }
  });
  ws.on('pong', (data) => { out({ event: 'pong', data: data.toString() }); ws.send(atLimit); });
  ws.on('close', (code, reason) => { out({ event: 'closeOverLimit', code, reason: reason.toString() }); clientCloses(); });
  ws.on('error', (e) => out({ event: 'error', message: e.message }));
}

function clientCloses() {
  const ws = new WebSocket(url, 'meshwork.v1');
  ws.on('open', () => ws.close(1000, 'node-bye'));
  ws.on('close', (code) => { out({ event: 'closedByNode', code }); serverCloses(); });
  ws.on('error', (e) => out({ event: 'error', message: e.message }));
}

function serverCloses() {
  const ws = new WebSocket(url, 'meshwork.v1');
  ws.on('open', () => ws.send(closeMe));
  ws.on('close', (code, reason) => { out({ event: 'closedByServer', code, reason: reason.toString() }); process.exit(0); });
  ws.on('error', (e) => out({ event: 'error', message: e.message }));
}

echoAndLimits();
