package dev.meshwork.transport.multichannel.internal.secure;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.meshwork.api.NodeId;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Optional;

/**
 * Fuzzes the inbound side of the secure channel with the real classes: arbitrary bytes as the
 * responder's message 2 (read by an initiator), as the initiator's message 3 (read by a responder),
 * as the payload inside an honestly encrypted message 2 or 3 ({@link HandshakePayloads#verify}), and
 * as a transport message opened by the {@link FrameProtection} of a completed handshake.
 *
 * <p>The properties: the only exceptions are the declared refusals ({@link HandshakeException},
 * {@link ProtectionException}); a fuzzed input is never accepted (it would need a forged Poly1305
 * tag or Ed25519 signature); and a message over a bound (4 KiB handshake message, 64 KiB transport
 * message, a chunk over the maximum frame size) is refused having allocated less than that bound,
 * i.e. before it is read.
 *
 * <p>{@code ./mvnw verify} fuzzes it for a few seconds in its own fork (the pom's
 * {@code fuzz-secure} execution: Jazzer fuzzes one test per JVM). A longer run:
 * {@code JAZZER_FUZZ=1 ./mvnw -pl transport-multichannel -am verify -Dtest=SecureChannelFuzzTest -Djazzer.max_duration=30m}.
 */
class SecureChannelFuzzTest {

    /** The receiving FrameProtection's maximum frame, small so fuzzed lengths reach the oversized-frame refusal. */
    private static final int MAX_FRAME = 4096;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final Ed25519Identity ALPHA = Ed25519Identity.ephemeral(NodeId.of("alpha"));
    private static final Ed25519Identity BETA = Ed25519Identity.ephemeral(NodeId.of("beta"));
    private static final NoiseStaticKey ALPHA_KEY = NoiseStaticKey.generate();
    private static final NoiseStaticKey BETA_KEY = NoiseStaticKey.generate();
    private static final byte[] ALPHA_PAYLOAD = HandshakePayloads.build(ALPHA, ALPHA_KEY.publicKey(), Optional.of(NodeId.of("beta")));
    private static final byte[] BETA_PAYLOAD = HandshakePayloads.build(BETA, BETA_KEY.publicKey(), Optional.empty());

    static {
        // the first run of each refusal's string concatenation links it (allocating far more than
        // the refusal itself); link them here so the measured runs count only the refusal
        try {
            initiatorAwaitingMessage2().read(new byte[NoiseHandshake.MAX_MESSAGE_BYTES + 1]);
        } catch (HandshakeException expected) {
            // linked
        }
        for (int length : new int[] {FrameProtection.MAX_MESSAGE_BYTES + 1, MAX_FRAME + 100}) {
            try {
                completedReceiver().open(new byte[length]);
            } catch (HandshakeException | ProtectionException expected) {
                // linked
            }
        }
    }

    @FuzzTest(maxDuration = "10s")
    void fuzzedInboundBytesAreRefusedWithinTheirBounds(FuzzedDataProvider data) throws Exception {
        int target = data.consumeInt(0, 4);
        boolean oversize = data.consumeBoolean();
        byte[] bytes = data.consumeRemainingAsBytes();
        switch (target) {
            case 0 -> handshakeMessageRefused(initiatorAwaitingMessage2(), grow(bytes, oversize, NoiseHandshake.MAX_MESSAGE_BYTES));
            case 1 -> handshakeMessageRefused(responderAwaitingMessage3(), grow(bytes, oversize, NoiseHandshake.MAX_MESSAGE_BYTES));
            case 2 -> payloadRefused(bytes, false);
            case 3 -> payloadRefused(bytes, true);
            default -> transportMessageRefused(grow(bytes, oversize, FrameProtection.MAX_MESSAGE_BYTES));
        }
    }

    /** Lets the fuzzer reach past a bound that libFuzzer's default input length (4096) would not. */
    private static byte[] grow(byte[] bytes, boolean oversize, int bound) {
        return oversize ? Arrays.copyOf(bytes, bytes.length + bound + 1) : bytes;
    }

    private static void handshakeMessageRefused(NoiseHandshake reader, byte[] message) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        try {
            reader.read(message);
        } catch (HandshakeException e) {
            if (message.length > NoiseHandshake.MAX_MESSAGE_BYTES) {
                refusedBeforeRead(before, NoiseHandshake.MAX_MESSAGE_BYTES, message.length, e.getMessage());
                if (!reader.mustRead()) {
                    throw new AssertionError("an oversized message changed the handshake state");
                }
            }
            return;
        }
        throw new AssertionError("a fuzzed handshake message of " + message.length + " bytes authenticated");
    }

    /** The fuzzed bytes travel as the payload of an honest message 2 (or 3) and reach HandshakePayloads. */
    private static void payloadRefused(byte[] payload, boolean inMessage3) throws HandshakeException {
        NoiseHandshake initiator = NoiseHandshake.initiator(ALPHA_KEY);
        NoiseHandshake responder = NoiseHandshake.responder(BETA_KEY);
        responder.read(initiator.write(new byte[0]));
        byte[] read;
        NoiseHandshake reader;
        try {
            if (inMessage3) {
                initiator.read(responder.write(new byte[0]));
                read = responder.read(initiator.write(payload));
                reader = responder;
            } else {
                read = initiator.read(responder.write(payload));
                reader = initiator;
            }
        } catch (HandshakeException tooLargeToSend) {
            return;
        }
        if (!Arrays.equals(read, payload)) {
            throw new AssertionError("an honest handshake message did not carry its payload");
        }
        try {
            HandshakePayloads.verify(read, reader.remoteStaticKey());
        } catch (HandshakeException expected) {
            return;
        }
        throw new AssertionError("a fuzzed handshake payload was accepted as a certificate");
    }

    private static void transportMessageRefused(byte[] message) throws HandshakeException {
        FrameProtection receiver = completedReceiver();
        long before = THREADS.getCurrentThreadAllocatedBytes();
        try {
            receiver.open(message);
        } catch (ProtectionException e) {
            if (message.length > FrameProtection.MAX_MESSAGE_BYTES) {
                refusedBeforeRead(before, FrameProtection.MAX_MESSAGE_BYTES, message.length, e.getMessage());
            } else if (message.length - FrameProtection.TAG_BYTES - 1 > MAX_FRAME) {
                if (!e.counter().equals("refused.oversizedFrame")) {
                    throw new AssertionError("a chunk over the maximum frame was refused as " + e.counter());
                }
                refusedBeforeRead(before, MAX_FRAME, message.length, e.getMessage());
            }
            return;
        }
        throw new AssertionError("a fuzzed transport message of " + message.length + " bytes decrypted");
    }

    private static void refusedBeforeRead(long before, int bound, int length, String why) {
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        if (allocated >= bound) {
            throw new AssertionError("refusing " + length + " bytes (" + why + ") allocated " + allocated
                    + " bytes, not less than the bound " + bound);
        }
    }

    private static NoiseHandshake initiatorAwaitingMessage2() throws HandshakeException {
        NoiseHandshake initiator = NoiseHandshake.initiator(ALPHA_KEY);
        initiator.write(new byte[0]);
        return initiator;
    }

    private static NoiseHandshake responderAwaitingMessage3() throws HandshakeException {
        return responderAwaitingMessage3(NoiseHandshake.initiator(ALPHA_KEY));
    }

    private static NoiseHandshake responderAwaitingMessage3(NoiseHandshake initiator) throws HandshakeException {
        NoiseHandshake responder = NoiseHandshake.responder(BETA_KEY);
        responder.read(initiator.write(new byte[0]));
        initiator.read(responder.write(BETA_PAYLOAD));
        return responder;
    }

    /** The responder's FrameProtection after a real, certified handshake with the initiator. */
    private static FrameProtection completedReceiver() throws HandshakeException {
        NoiseHandshake initiator = NoiseHandshake.initiator(ALPHA_KEY);
        NoiseHandshake responder = responderAwaitingMessage3(initiator);
        HandshakePayloads.verify(responder.read(initiator.write(ALPHA_PAYLOAD)), responder.remoteStaticKey());
        initiator.split(MAX_FRAME).destroy();
        return responder.split(MAX_FRAME);
    }
}
