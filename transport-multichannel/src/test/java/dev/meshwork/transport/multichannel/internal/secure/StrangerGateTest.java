package dev.meshwork.transport.multichannel.internal.secure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class StrangerGateTest {

    @Test
    void capsTotalAndPerAddressAndReleasesOnce() throws Exception {
        StrangerGate gate = new StrangerGate(() -> 3, () -> 2);
        InetAddress a = InetAddress.getByName("10.0.0.1");
        InetAddress b = InetAddress.getByName("10.0.0.2");
        var a1 = gate.admit(a);
        assertTrue(gate.admit(a).admitted());
        var a3 = gate.admit(a);
        assertFalse(a3.admitted());
        assertEquals("refused.handshakeLimitPerAddress", a3.counter());
        assertTrue(gate.admit(b).admitted());
        var b2 = gate.admit(b);
        assertEquals("refused.handshakeLimit", b2.counter());
        a1.ticket().release();
        a1.ticket().release();
        assertEquals(2, gate.pending(), "released once");
        assertTrue(gate.admit(b).admitted());
    }
}
