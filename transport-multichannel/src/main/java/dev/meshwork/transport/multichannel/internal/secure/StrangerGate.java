package dev.meshwork.transport.multichannel.internal.secure;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * Caps the connections that have not authenticated yet: in total and per remote address, so
 * strangers that open connections and never finish the handshake cannot exhaust memory or crowd
 * out honest peers. A connection is admitted with a {@link Ticket} when it arrives and gives it
 * back when it authenticates or closes; one over either cap is closed at once and never gets a
 * handshake state. The caps are read on every admission, so a settings change applies at once.
 * Thread-safe.
 */
public final class StrangerGate {

    private final IntSupplier maxTotal;
    private final IntSupplier maxPerAddress;
    private final Map<InetAddress, Integer> perAddress = new HashMap<>();
    private int total;

    public StrangerGate(IntSupplier maxTotal, IntSupplier maxPerAddress) {
        this.maxTotal = maxTotal;
        this.maxPerAddress = maxPerAddress;
    }

    /** One admitted unauthenticated connection; {@link #release} is idempotent. */
    public final class Ticket {
        private final InetAddress address;
        private boolean released;

        private Ticket(InetAddress address) {
            this.address = address;
        }

        public void release() {
            synchronized (StrangerGate.this) {
                if (released) {
                    return;
                }
                released = true;
                total--;
                perAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
            }
        }
    }

    /** Why a connection was not admitted; null fields on admission. */
    public record Admission(Ticket ticket, String refusal, String counter) {
        public boolean admitted() {
            return ticket != null;
        }
    }

    /** Admits a connection from {@code address} (null: an address the transport does not know, e.g. in memory). */
    public synchronized Admission admit(InetAddress address) {
        if (total >= maxTotal.getAsInt()) {
            return new Admission(null, total + " connections are already handshaking (node limit)",
                    "refused.handshakeLimit");
        }
        int fromThere = perAddress.getOrDefault(address, 0);
        if (fromThere >= maxPerAddress.getAsInt()) {
            return new Admission(null, fromThere + " connections from " + address + " are already handshaking",
                    "refused.handshakeLimitPerAddress");
        }
        total++;
        perAddress.put(address, fromThere + 1);
        return new Admission(new Ticket(address), null, null);
    }

    /** Connections admitted and not yet released. */
    public synchronized int pending() {
        return total;
    }
}
