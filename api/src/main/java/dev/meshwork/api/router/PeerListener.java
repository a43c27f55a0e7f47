package dev.meshwork.api.router;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Learns of peers coming and going and of channel changes. A whiteboard service: register it
 * and the router finds it.
 *
 * <p><b>Threading:</b> called off the I/O threads, in order, one event at a time; must not block
 * for long. An exception is logged and does not affect the router or other listeners.
 */
@ConsumerType
@FunctionalInterface
public interface PeerListener {

    void onPeerEvent(PeerEvent event);
}
