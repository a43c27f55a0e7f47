package dev.meshwork.transport.multichannel.internal.secure;

import com.southernstorm.noise.protocol.CipherState;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

/**
 * The transport phase of the secure channel: every serialised {@code Frame} is encrypted and
 * authenticated with the per-direction key of the Noise handshake and its implicit nonce counter
 * (ChaCha20-Poly1305, nonce = number of messages sent before in that direction), so a message that
 * was altered, truncated, reordered, replayed or injected fails to decrypt.
 *
 * <p>Chunking: a Noise transport message is at most {@value #MAX_MESSAGE_BYTES} bytes, a frame may be
 * up to the configured maximum frame size (1 MiB by default). Each frame is cut into chunks of at
 * most {@value #MAX_CHUNK_BYTES} bytes; each chunk travels as one transport message whose plaintext
 * is one flag byte ({@link #MORE} or {@link #LAST}) followed by the chunk. The flag is inside the
 * authenticated plaintext, so chunk boundaries cannot be forged either. A receiver refuses a frame
 * whose chunks add up to more than its maximum frame size before it stores the chunk that would
 * pass it. One frame's chunks are never interleaved with another's: {@link #seal} returns all the
 * messages of one frame, which the caller writes in order before the next frame.
 *
 * <pre>
 *   transport message = ChaChaPoly(k, n++, ad = empty, flag || chunk)      (chunk + 17 bytes)
 *   flag              = 0x00 LAST (the frame ends with this chunk) | 0x01 MORE
 * </pre>
 *
 * <p>Not thread-safe: one thread (or one lock) seals, and the connection's ordered events open.
 * After any failure the connection must be closed: the receiving nonce no longer matches the peer's.
 */
public final class FrameProtection {

    /** Noise's limit on one message. */
    public static final int MAX_MESSAGE_BYTES = 65_535;
    /** Poly1305 tag length. */
    public static final int TAG_BYTES = 16;
    /** Largest chunk of a frame in one message: the limit less the tag and the flag byte. */
    public static final int MAX_CHUNK_BYTES = MAX_MESSAGE_BYTES - TAG_BYTES - 1;
    public static final byte LAST = 0x00;
    public static final byte MORE = 0x01;

    private final CipherState sender;
    private final CipherState receiver;
    private final int maxFrameBytes;
    private final List<byte[]> partial = new ArrayList<>();
    private int partialBytes;

    FrameProtection(CipherState sender, CipherState receiver, int maxFrameBytes) {
        this.sender = sender;
        this.receiver = receiver;
        this.maxFrameBytes = maxFrameBytes;
    }

    /**
     * Encrypts one serialised frame.
     *
     * @return the transport messages that carry it, to be written in this order
     * @throws IllegalArgumentException when the frame exceeds the maximum frame size
     */
    public List<byte[]> seal(byte[] frame) {
        if (frame.length > maxFrameBytes) {
            throw new IllegalArgumentException("frame of " + frame.length + " bytes exceeds " + maxFrameBytes);
        }
        List<byte[]> out = new ArrayList<>(frame.length / MAX_CHUNK_BYTES + 1);
        int offset = 0;
        do {
            int n = Math.min(MAX_CHUNK_BYTES, frame.length - offset);
            boolean last = offset + n == frame.length;
            byte[] plain = new byte[n + 1 + TAG_BYTES];
            plain[0] = last ? LAST : MORE;
            System.arraycopy(frame, offset, plain, 1, n);
            try {
                int len = sender.encryptWithAd(null, plain, 0, plain, 0, n + 1);
                if (len != plain.length) {
                    throw new IllegalStateException("ciphertext of " + len + " bytes, expected " + plain.length);
                }
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("encryption failed", e);
            }
            out.add(plain);
            offset += n;
        } while (offset < frame.length);
        return out;
    }

    /**
     * Decrypts one transport message.
     *
     * @return the serialised frame when this message completed one, or null when it was a chunk
     *         with more to come
     * @throws ProtectionException when the message fails authentication, is malformed, or would
     *         make a frame larger than the maximum; the connection must then be closed
     */
    public byte[] open(byte[] message) throws ProtectionException {
        if (message.length < TAG_BYTES + 1 || message.length > MAX_MESSAGE_BYTES) {
            throw new ProtectionException("refused.decrypt", "transport message of " + message.length + " bytes (must be "
                    + (TAG_BYTES + 1) + ".." + MAX_MESSAGE_BYTES + ")");
        }
        int chunk = message.length - TAG_BYTES - 1;
        if (partialBytes + chunk > maxFrameBytes) {
            throw new ProtectionException("refused.oversizedFrame", "frame larger than " + maxFrameBytes + " bytes");
        }
        byte[] plain = new byte[message.length - TAG_BYTES];
        try {
            receiver.decryptWithAd(null, message, 0, plain, 0, message.length);
        } catch (GeneralSecurityException | IllegalArgumentException | IllegalStateException e) {
            throw new ProtectionException("refused.decrypt", "transport message does not decrypt (altered, truncated, reordered, "
                    + "replayed or injected)");
        }
        byte flag = plain[0];
        if (flag != LAST && flag != MORE) {
            throw new ProtectionException("refused.decrypt", "unknown chunk flag " + flag);
        }
        byte[] data = java.util.Arrays.copyOfRange(plain, 1, plain.length);
        if (flag == MORE) {
            partial.add(data);
            partialBytes += data.length;
            return null;
        }
        if (partial.isEmpty()) {
            return data;
        }
        byte[] frame = new byte[partialBytes + data.length];
        int offset = 0;
        for (byte[] p : partial) {
            System.arraycopy(p, 0, frame, offset, p.length);
            offset += p.length;
        }
        System.arraycopy(data, 0, frame, offset, data.length);
        partial.clear();
        partialBytes = 0;
        return frame;
    }

    /** Forgets the keys. */
    public void destroy() {
        sender.destroy();
        receiver.destroy();
        partial.clear();
    }
}
