package dev.meshwork.transport.multichannel.internal.secure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameProtectionTest {

    private static final int MAX = 1 << 20;

    private final FrameProtection[] sides = sides();

    private static FrameProtection[] sides() {
        try {
            NoisePair p = new NoisePair().run();
            return new FrameProtection[] {p.initiator.split(MAX), p.responder.split(MAX)};
        } catch (HandshakeException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @Test
    void framesTravelBothWaysInOrder() throws Exception {
        for (int i = 0; i < 5; i++) {
            byte[] f = random(100 + i);
            List<byte[]> m = sides[0].seal(f);
            assertEquals(1, m.size());
            assertEquals(f.length + 17, m.get(0).length, "one flag byte and the tag");
            assertArrayEquals(f, sides[1].open(m.get(0)));
            assertArrayEquals(f, sides[0].open(sides[1].seal(f).get(0)));
        }
        assertArrayEquals(new byte[0], sides[1].open(sides[0].seal(new byte[0]).get(0)), "an empty frame too");
    }

    @Test
    void aFrameAboveNoisesMessageLimitIsChunkedAndReassembled() throws Exception {
        byte[] f = random(MAX);
        List<byte[]> m = sides[0].seal(f);
        assertEquals(MAX / FrameProtection.MAX_CHUNK_BYTES + 1, m.size());
        m.forEach(x -> assertEquals(true, x.length <= FrameProtection.MAX_MESSAGE_BYTES));
        for (int i = 0; i < m.size() - 1; i++) {
            assertNull(sides[1].open(m.get(i)));
        }
        assertArrayEquals(f, sides[1].open(m.get(m.size() - 1)));
        byte[] exact = random(FrameProtection.MAX_CHUNK_BYTES);
        List<byte[]> one = sides[0].seal(exact);
        assertEquals(1, one.size());
        assertArrayEquals(exact, sides[1].open(one.get(0)));
    }

    @Test
    void aBitFlipFailsDecryption() {
        byte[] m = sides[0].seal(random(50)).get(0);
        m[10] ^= 0x20;
        assertThrows(ProtectionException.class, () -> sides[1].open(m));
    }

    @Test
    void aTruncatedMessageFails() {
        byte[] m = sides[0].seal(random(50)).get(0);
        assertThrows(ProtectionException.class, () -> sides[1].open(Arrays.copyOf(m, m.length - 1)));
        assertThrows(ProtectionException.class, () -> sides[1].open(new byte[3]));
    }

    @Test
    void reorderedMessagesFail() {
        byte[] first = sides[0].seal(random(10)).get(0);
        byte[] second = sides[0].seal(random(11)).get(0);
        assertThrows(ProtectionException.class, () -> sides[1].open(second));
    }

    @Test
    void aReplayedMessageFails() throws Exception {
        byte[] m = sides[0].seal(random(10)).get(0);
        sides[1].open(m);
        assertThrows(ProtectionException.class, () -> sides[1].open(m));
    }

    @Test
    void anInjectedMessageFromAnotherSessionFails() {
        FrameProtection[] other = sides();
        byte[] injected = other[0].seal(random(10)).get(0);
        assertThrows(ProtectionException.class, () -> sides[1].open(injected));
    }

    @Test
    void ownMessagesReflectedBackFail() {
        byte[] m = sides[0].seal(random(10)).get(0);
        assertThrows(ProtectionException.class, () -> sides[0].open(m), "per-direction keys");
    }

    @Test
    void chunksAddingUpAboveTheMaximumAreRefusedBeforeTheyAreKept() throws Exception {
        NoisePair p = new NoisePair().run();
        FrameProtection big = p.initiator.split(4 * FrameProtection.MAX_CHUNK_BYTES);
        FrameProtection small = p.responder.split(2 * FrameProtection.MAX_CHUNK_BYTES);
        List<byte[]> m = big.seal(random(3 * FrameProtection.MAX_CHUNK_BYTES));
        assertNull(small.open(m.get(0)));
        assertNull(small.open(m.get(1)));
        assertThrows(ProtectionException.class, () -> small.open(m.get(2)));
        assertThrows(IllegalArgumentException.class, () -> small.seal(new byte[2 * FrameProtection.MAX_CHUNK_BYTES + 1]));
    }
}
