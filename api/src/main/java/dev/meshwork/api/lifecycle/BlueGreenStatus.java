package dev.meshwork.api.lifecycle;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a gateway restarted blue/green stands: which of its two ports serves, and how its
 * switches went. Immutable.
 *
 * <p>Why in the status: with start-before-stop restarts the serving port changes with every
 * switch, so whoever routes traffic to the gateway (a proxy, a health check, an operator) must
 * be able to ask which port is live; a switch that failed leaves the old process serving and
 * must be visible, not only logged.
 *
 * @param activeColour      {@code blue} (the configured {@code port}) or {@code green} (the alternate port)
 * @param activePort        the port of the process that serves (or last served)
 * @param standbyPort       the other port: where the next process starts
 * @param candidatePid      the new process while a switch is under way
 * @param switches          switches that completed (the new process ready, the old one stopped)
 * @param failedSwitches    switches whose new process never became ready; the old one kept serving
 * @param lastSwitchFailure why the last failed switch failed, in plain words
 * @since 1.1
 */
public record BlueGreenStatus(String activeColour, int activePort, int standbyPort, OptionalLong candidatePid,
        int switches, int failedSwitches, Optional<String> lastSwitchFailure) {

    public BlueGreenStatus {
        Objects.requireNonNull(activeColour, "activeColour");
        Objects.requireNonNull(candidatePid, "candidatePid");
        Objects.requireNonNull(lastSwitchFailure, "lastSwitchFailure");
    }
}
