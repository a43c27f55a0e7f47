package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.transport.Connection;

/**
 * What this node relayed recently: duplicate suppression for relayed copies, and the way back for
 * the target's acks.
 *
 * <p>A copy is keyed by its source and id (the source of a relayed envelope is the authenticated
 * peer it came from, so one peer cannot shadow another's ids). A second copy is dropped while the
 * first is still on its way, i.e. while the connection it was written on is open: that is a loop,
 * a replay or an impatient re-send, and the target answers the first. Once that connection is gone
 * the copy may have been lost with it, so the origin's re-send is forwarded again. An ack is sent
 * back only when it comes from the node the copy was relayed to, on its own link.
 *
 * <p>Bounded like every {@link DedupWindow}. Not thread-safe: owned by the core, under its lock.
 */
final class RelayLog {

    private record Forward(Channel out, Connection on) {
    }

    private final DedupWindow<Forward> copies;
    private final DedupWindow<Link> ackRoutes;

    RelayLog(long windowNanos, int capacity) {
        this.copies = new DedupWindow<>(windowNanos, capacity);
        this.ackRoutes = new DedupWindow<>(windowNanos, capacity);
    }

    /**
     * Records that the copy {@code source/id} from {@code back} goes out on {@code out}.
     *
     * @return false when an earlier copy is still on its way (drop this one)
     */
    boolean forward(NodeId source, String id, NodeId target, Link back, Channel out, long now) {
        String key = source.value() + "/" + id;
        Forward before = copies.get(key, now);
        if (before != null && before.out().isOpen() && before.out().connection == before.on()) {
            return false;
        }
        Forward f = new Forward(out, out.connection);
        if (!copies.add(key, f, now)) {
            copies.put(key, f);
        }
        String route = target.value() + "/" + id;
        if (!ackRoutes.add(route, back, now)) {
            ackRoutes.put(route, back);
        }
        return true;
    }

    /** The link to send back an ack that {@code from} sent for {@code id} on its own link, or null. */
    Link ackRoute(NodeId from, String id, long now) {
        return ackRoutes.get(from.value() + "/" + id, now);
    }
}
