package dev.meshwork.transport.ws.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A hand-rolled WebSocket client over a plain socket, so tests can send what no well-behaved
 * library would: reserved opcodes, huge declared lengths, bad UTF-8, garbage.
 */
final class RawWsClient implements AutoCloseable {

    final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    RawWsClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(5000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Sends the upgrade request and returns the response head. */
    String upgrade(String path, String subprotocol) throws IOException {
        return upgrade(path, subprotocol, "");
    }

    /** Sends the upgrade request with extra header lines (each ending in CRLF) and returns the response head. */
    String upgrade(String path, String subprotocol, String extraHeaders) throws IOException {
        String key = Base64.getEncoder().encodeToString("0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
        String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
                + (subprotocol == null ? "" : "Sec-WebSocket-Protocol: " + subprotocol + "\r\n") + extraHeaders + "\r\n";
        writeRaw(request.getBytes(StandardCharsets.US_ASCII));
        return readHead();
    }

    String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Writes one masked client frame; {@code declaredLength} may lie about the payload. */
    void writeFrame(int firstByte, byte[] payload, long declaredLength) throws IOException {
        writeRaw(frameBytes(firstByte, payload, declaredLength));
    }

    /** The bytes of one masked client frame, for writing several in one go with {@link #writeRaw}. */
    static byte[] frameBytes(int firstByte, byte[] payload, long declaredLength) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(firstByte);
        if (declaredLength < 126) {
            frame.write(0x80 | (int) declaredLength);
        } else if (declaredLength <= 0xFFFF) {
            frame.write(0x80 | 126);
            frame.write((int) (declaredLength >> 8));
            frame.write((int) declaredLength);
        } else {
            frame.write(0x80 | 127);
            for (int i = 7; i >= 0; i--) {
                frame.write((int) (declaredLength >> (8 * i)));
            }
        }
        byte[] mask = {1, 2, 3, 4};
        frame.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        return frame.toByteArray();
    }

    void writeFrame(int firstByte, byte[] payload) throws IOException {
        writeFrame(firstByte, payload, payload.length);
    }

    /** A server frame: opcode and payload. */
    record ServerFrame(int opcode, byte[] payload) {
        int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
        }
    }

    /** Reads the next frame, or null at end of stream. */
    ServerFrame readFrame() throws IOException {
        int b0 = in.read();
        if (b0 < 0) {
            return null;
        }
        int b1 = in.readUnsignedByte();
        long len = b1 & 0x7F;
        if (len == 126) {
            len = in.readUnsignedShort();
        } else if (len == 127) {
            len = in.readLong();
        }
        byte[] payload = new byte[(int) len];
        in.readFully(payload);
        return new ServerFrame(b0 & 0x0F, payload);
    }

    /** Reads frames until a close frame (returning its code) or the end of the stream (returning -1). */
    int awaitCloseCode() throws IOException {
        while (true) {
            ServerFrame f;
            try {
                f = readFrame();
            } catch (java.io.EOFException | java.net.SocketException e) {
                return -1;
            }
            if (f == null) {
                return -1;
            }
            if (f.opcode() == 0x8) {
                return f.closeCode();
            }
        }
    }

    /** Whether the server closed the socket (read returns end of stream) within the socket timeout. */
    boolean awaitEndOfStream() throws IOException {
        try {
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
