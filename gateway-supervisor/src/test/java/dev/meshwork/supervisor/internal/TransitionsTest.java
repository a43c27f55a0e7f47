package dev.meshwork.supervisor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.lifecycle.LifecycleState;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TransitionsTest {

    @Test
    void theTableIsTheDiagram() {
        assertEquals(Set.of(LifecycleState.STARTING), Transitions.from(LifecycleState.STOPPED));
        assertEquals(Set.of(LifecycleState.STOPPED), Transitions.from(LifecycleState.STOPPING));
        assertTrue(Transitions.allowed(LifecycleState.FAILED, LifecycleState.STARTING), "FAILED is never a dead end");
        assertFalse(Transitions.allowed(LifecycleState.STOPPED, LifecycleState.RUNNING));
        assertFalse(Transitions.allowed(LifecycleState.BACKOFF, LifecycleState.RUNNING));
        for (LifecycleState s : LifecycleState.values()) {
            if (s != LifecycleState.STOPPED && s != LifecycleState.STOPPING) {
                assertTrue(Transitions.allowed(s, LifecycleState.STOPPING), "stop is possible from " + s);
            }
        }
    }

    @Test
    void switchingIsEnteredFromALiveGatewayAndLeftToEveryOutcome() {
        for (LifecycleState s : LifecycleState.values()) {
            boolean live = s == LifecycleState.RUNNING || s == LifecycleState.DEGRADED;
            assertEquals(live, Transitions.allowed(s, LifecycleState.SWITCHING), "blue/green restart from " + s);
        }
        assertEquals(Set.of(LifecycleState.RUNNING, LifecycleState.DEGRADED, LifecycleState.STARTING, LifecycleState.STOPPING),
                Transitions.from(LifecycleState.SWITCHING));
    }
}
