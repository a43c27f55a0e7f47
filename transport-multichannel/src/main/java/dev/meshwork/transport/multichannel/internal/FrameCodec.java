package dev.meshwork.transport.multichannel.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.api.wire.WireConstants;

/**
 * The one place where the bytes of a transport message become a protobuf {@link Frame} and back.
 *
 * <p>Transports move opaque messages (api.transport 2.0.0); the core decodes them here. The size
 * cap is checked before the parser sees a byte, and anything that does not decode is a typed
 * {@link FailureCode#PROTOCOL_VIOLATION}: the caller closes the connection and dispatches nothing
 * further from it.
 *
 * <pre>
 *   Transport --byte[]--&gt; Session --&gt; FrameCodec.decode --&gt; Frame --&gt; dispatch
 *   write(Frame) --&gt; FrameCodec.encode --byte[]--&gt; Connection.send
 * </pre>
 *
 * <p>One instance per connection, so that a codec with per-connection state (the secure channel's
 * decryption) can take its place without touching the callers. Not thread-safe: used under the
 * core's lock.
 */
final class FrameCodec {

    /** Room for an envelope's ids, topic and headers beside a payload of the largest size. */
    static final int ENVELOPE_OVERHEAD_BYTES = 64 * 1024;

    private final int maxFrameBytes;

    FrameCodec(int maxFrameBytes) {
        if (maxFrameBytes < 1) {
            throw new IllegalArgumentException("maxFrameBytes must be positive: " + maxFrameBytes);
        }
        this.maxFrameBytes = maxFrameBytes;
    }

    /** The largest frame a node with these settings accepts: a full payload and its envelope, and never below the wire default. */
    static int limitFor(RouterSettings settings) {
        return Math.max(WireConstants.DEFAULT_MAX_FRAME_BYTES, settings.maxPayloadBytes() + ENVELOPE_OVERHEAD_BYTES);
    }

    int maxFrameBytes() {
        return maxFrameBytes;
    }

    /**
     * Decodes one received message.
     *
     * @throws PermanentException {@link FailureCode#PAYLOAD_TOO_LARGE} above the cap (not parsed),
     *                            {@link FailureCode#PROTOCOL_VIOLATION} when the bytes are no frame
     */
    Frame decode(byte[] message) throws PermanentException {
        if (message.length > maxFrameBytes) {
            throw new PermanentException(FailureCode.PAYLOAD_TOO_LARGE,
                    "frame of " + message.length + " bytes exceeds the limit of " + maxFrameBytes);
        }
        try {
            return Frame.parseFrom(message);
        } catch (InvalidProtocolBufferException e) {
            throw new PermanentException(FailureCode.PROTOCOL_VIOLATION, "undecodable frame: " + e.getMessage());
        }
    }

    /**
     * The bytes of one frame, handed over to {@code Connection.send} (which may keep the array).
     * Static while frames leave in the clear; the secure channel makes it per connection.
     */
    static byte[] encode(Frame frame) {
        return frame.toByteArray();
    }
}
