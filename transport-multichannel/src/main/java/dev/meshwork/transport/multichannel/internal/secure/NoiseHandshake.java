package dev.meshwork.transport.multichannel.internal.secure;

import com.southernstorm.noise.protocol.CipherStatePair;
import com.southernstorm.noise.protocol.HandshakeState;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * One side of a Noise XX handshake ({@value #PROTOCOL_NAME}, prologue {@code "meshwork/2"}), a thin
 * wrapper of noise-java's {@link HandshakeState} that bounds every message before it is read.
 *
 * <pre>
 *   XX:  -&gt; e                      message 1: initiator's ephemeral key, empty payload (32 bytes)
 *        &lt;- e, ee, s, es            message 2: responder's ephemeral and static key, its payload
 *        -&gt; s, se                   message 3: initiator's static key, its payload
 * </pre>
 *
 * <p>Noise itself gives forward secrecy (ephemeral-ephemeral DH) and mutual authentication of the
 * static X25519 keys; what those keys are worth is decided by the payloads ({@link HandshakePayloads}),
 * which certify them with the nodes' Ed25519 identities. The prologue enters the handshake hash, so a
 * peer speaking another protocol version (another prologue) fails at the first encrypted payload.
 *
 * <p>Memory: a handshake holds noise-java's state (X25519 key pairs, a SHA-256 symmetric state and a
 * cipher state: 1,873 bytes after GC for a responder waiting for message 3, measured by
 * {@code SecureChannelBench}) and no message buffer of its own between calls; a message
 * is read only once its length is known to be at most {@link #MAX_MESSAGE_BYTES}. Not thread-safe:
 * one connection's events drive it in order.
 */
public final class NoiseHandshake {

    /** The Noise protocol name; ChaChaPoly, not AESGCM: see docs/protocol.md (measured 3.5x faster on JDK 17). */
    public static final String PROTOCOL_NAME = "Noise_XX_25519_ChaChaPoly_SHA256";
    /** Mixed into the handshake hash before the first message: names the Meshwork protocol version. */
    public static final byte[] PROLOGUE = "meshwork/2".getBytes(StandardCharsets.US_ASCII);
    /** The largest handshake message accepted or sent, checked before it is read. */
    public static final int MAX_MESSAGE_BYTES = 4096;
    /** Length of message 1: an X25519 public key and an empty payload. */
    public static final int FIRST_MESSAGE_BYTES = 32;
    /** Length of an X25519 public key. */
    public static final int KEY_BYTES = 32;

    private final HandshakeState state;

    private NoiseHandshake(int role, NoiseStaticKey local) {
        try {
            state = new HandshakeState(PROTOCOL_NAME, role);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("noise-java lacks " + PROTOCOL_NAME, e);
        }
        state.setPrologue(PROLOGUE, 0, PROLOGUE.length);
        local.installInto(state.getLocalKeyPair());
        state.start();
    }

    public static NoiseHandshake initiator(NoiseStaticKey local) {
        return new NoiseHandshake(HandshakeState.INITIATOR, local);
    }

    public static NoiseHandshake responder(NoiseStaticKey local) {
        return new NoiseHandshake(HandshakeState.RESPONDER, local);
    }

    public boolean isInitiator() {
        return state.getRole() == HandshakeState.INITIATOR;
    }

    /** Whether it is this side's turn to write. */
    public boolean mustWrite() {
        return state.getAction() == HandshakeState.WRITE_MESSAGE;
    }

    /** Whether it is this side's turn to read. */
    public boolean mustRead() {
        return state.getAction() == HandshakeState.READ_MESSAGE;
    }

    /** Whether both sides' messages are done and {@link #split()} may be called. */
    public boolean isComplete() {
        return state.getAction() == HandshakeState.SPLIT;
    }

    /**
     * Writes the next handshake message carrying {@code payload}.
     *
     * @throws HandshakeException when the message would exceed {@link #MAX_MESSAGE_BYTES}
     */
    public byte[] write(byte[] payload) throws HandshakeException {
        if (!mustWrite()) {
            throw new HandshakeException("not this side's turn to write");
        }
        byte[] out = new byte[MAX_MESSAGE_BYTES];
        try {
            int n = state.writeMessage(out, 0, payload, 0, payload.length);
            return Arrays.copyOf(out, n);
        } catch (GeneralSecurityException | IllegalArgumentException | IllegalStateException e) {
            throw new HandshakeException("handshake message of " + payload.length + " payload bytes does not fit: " + e);
        }
    }

    /**
     * Reads the peer's next handshake message.
     *
     * @return its decrypted payload
     * @throws HandshakeException when the message is too long (before anything is allocated for it),
     *         malformed, or fails authentication (tampered, replayed into another handshake, another prologue)
     */
    public byte[] read(byte[] message) throws HandshakeException {
        if (!mustRead()) {
            throw new HandshakeException("not this side's turn to read");
        }
        if (message.length > MAX_MESSAGE_BYTES) {
            throw new HandshakeException("handshake message of " + message.length + " bytes exceeds " + MAX_MESSAGE_BYTES);
        }
        byte[] payload = new byte[message.length];
        try {
            int n = state.readMessage(message, 0, message.length, payload, 0);
            return Arrays.copyOf(payload, n);
        } catch (GeneralSecurityException | IllegalArgumentException | IllegalStateException e) {
            throw new HandshakeException("handshake message does not decrypt or authenticate ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    /** The peer's static X25519 public key, once the message carrying it was read. */
    public byte[] remoteStaticKey() {
        byte[] key = new byte[KEY_BYTES];
        state.getRemotePublicKey().getPublicKey(key, 0);
        return key;
    }

    /** The handshake hash: the same on both sides exactly when they saw the same transcript. */
    public byte[] handshakeHash() {
        return state.getHandshakeHash();
    }

    /** Ends the handshake: the per-direction transport keys, nonces starting at zero. */
    public FrameProtection split(int maxFrameBytes) {
        if (!isComplete()) {
            throw new IllegalStateException("handshake not complete");
        }
        CipherStatePair pair = state.split();
        state.destroy();
        return new FrameProtection(pair.getSender(), pair.getReceiver(), maxFrameBytes);
    }

    /** Forgets the keys of an abandoned handshake. */
    public void destroy() {
        state.destroy();
    }
}
