package dev.meshwork.supervisor.internal;

import static dev.meshwork.api.lifecycle.LifecycleState.BACKOFF;
import static dev.meshwork.api.lifecycle.LifecycleState.DEGRADED;
import static dev.meshwork.api.lifecycle.LifecycleState.FAILED;
import static dev.meshwork.api.lifecycle.LifecycleState.RUNNING;
import static dev.meshwork.api.lifecycle.LifecycleState.STARTING;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPED;
import static dev.meshwork.api.lifecycle.LifecycleState.STOPPING;
import static dev.meshwork.api.lifecycle.LifecycleState.SWITCHING;

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
 *  from \ to   STARTING RUNNING DEGRADED BACKOFF FAILED STOPPING STOPPED SWITCHING
 *  STOPPED        x
 *  STARTING                x              x       x       x
 *  RUNNING        x                 x     x       x       x                 x
 *  DEGRADED       x        x              x       x       x                 x
 *  BACKOFF        x                                       x
 *  FAILED         x                                       x
 *  STOPPING                                                        x
 *  SWITCHING      x        x        x                     x
 * </pre>
 * RUNNING/DEGRADED → STARTING is an explicit restart (or a reload that fell back to one): the old
 * process is retired and the new one waits for it to be gone. RUNNING/DEGRADED → SWITCHING is
 * the blue/green restart: the old process serves on while the new one starts on the other port;
 * SWITCHING → RUNNING is its success (or its failure from RUNNING), SWITCHING → DEGRADED its
 * failure from DEGRADED, SWITCHING → STARTING the old process dying meanwhile.
 */
public final class Transitions {

    private static final Map<LifecycleState, Set<LifecycleState>> ALLOWED = new EnumMap<>(LifecycleState.class);

    static {
        ALLOWED.put(STOPPED, EnumSet.of(STARTING));
        ALLOWED.put(STARTING, EnumSet.of(RUNNING, BACKOFF, FAILED, STOPPING));
        ALLOWED.put(RUNNING, EnumSet.of(STARTING, DEGRADED, BACKOFF, FAILED, STOPPING, SWITCHING));
        ALLOWED.put(DEGRADED, EnumSet.of(STARTING, RUNNING, BACKOFF, FAILED, STOPPING, SWITCHING));
        ALLOWED.put(BACKOFF, EnumSet.of(STARTING, STOPPING));
        ALLOWED.put(FAILED, EnumSet.of(STARTING, STOPPING));
        ALLOWED.put(STOPPING, EnumSet.of(STOPPED));
        ALLOWED.put(SWITCHING, EnumSet.of(STARTING, RUNNING, DEGRADED, STOPPING));
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
