package dev.meshwork.api.lifecycle;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Learns of every transition of every supervised gateway. A whiteboard service.
 *
 * <p><b>Threading:</b> called on the supervisor's thread, in order; must not block. An exception
 * is logged and does not affect supervision.
 */
@ConsumerType
@FunctionalInterface
public interface LifecycleListener {

    void onLifecycleEvent(LifecycleEvent event);
}
