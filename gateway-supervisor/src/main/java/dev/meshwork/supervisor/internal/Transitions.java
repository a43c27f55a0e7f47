package dev.meshwork.supervisor.internal;

import static dev.meshwork.api.lifecycle.LifecycleState.BACKOFF;
import static dev.meshwork.api.lifecycle.LifecycleState.DEGRADED;
import static dev.meshwork.api.lifecycle.LifecycleState.FAILED;
import static dev.meshwork.api.lifecycle.LifecycleState.RUNNING;
import static dev.meshwork.api.lifecycle.LifecycleState.STARTING;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPED;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPING;

import dev.meshwork.api.lifecycle.LifecycleState;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The edges {@link GatewaySupervisor} may take, written down once so that a transition the
 * diagram does not have fails loudly instead of becoming a new, undocumented behaviour.
 *
 * <pre>
 *  from \ to   STARTING RUNNING DEGRADED BACKOFF FAILED STOPPING STOPPED
 *  STOPPED        x
 *  STARTING                x              x       x       x
 *  RUNNING        x                 x     x       x       x
 *  DEGRADED       x        x              x       x       x
 *  BACKOFF        x                                       x
 *  FAILED         x                                       x
 *  STOPPING                                                        x
 * </pre>
 * RUNNING/DEGRADED → STARTING is an explicit restart (or a reload that fell back to one): the old
 * process is retired and the new one waits for it to be gone.
 */
public final class Transitions {

    private static final Map<LifecycleState, Set<LifecycleState>> ALLOWED = new EnumMap<>(LifecycleState.class);

    static {
        ALLOWED.put(STOPPED, EnumSet.of(STARTING));
        ALLOWED.put(STARTING, EnumSet.of(RUNNING, BACKOFF, FAILED, STOPPING));
        ALLOWED.put(RUNNING, EnumSet.of(STARTING, DEGRADED, BACKOFF, FAILED, STOPPING));
        ALLOWED.put(DEGRADED, EnumSet.of(STARTING, RUNNING, BACKOFF, FAILED, STOPPING));
        ALLOWED.put(BACKOFF, EnumSet.of(STARTING, STOPPING));
        ALLOWED.put(FAILED, EnumSet.of(STARTING, STOPPING));
        ALLOWED.put(STOPPING, EnumSet.of(STOPPED));
    }

    private Transitions() {
    }

    public static boolean allowed(LifecycleState from, LifecycleState to) {
        return ALLOWED.get(from).contains(to);
    }

    public static Set<LifecycleState> from(LifecycleState state) {
        return Set.copyOf(ALLOWED.get(state));
    }
}
