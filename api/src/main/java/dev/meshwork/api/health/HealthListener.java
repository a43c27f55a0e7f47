package dev.meshwork.api.health;

import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Learns of events newly merged into the health document, local or replicated. A whiteboard
 * service.
 *
 * <p><b>Threading:</b> called on the health bundle's thread, in merge order; must not block.
 */
@ConsumerType
@FunctionalInterface
public interface HealthListener {

    void onHealthChanged(List<HealthEvent> newEvents);
}
