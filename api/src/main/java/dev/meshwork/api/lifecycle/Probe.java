package dev.meshwork.api.lifecycle;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Checks whether a gateway is ready or alive. A whiteboard service registered with the property
 * {@link #TYPE}; a gateway's configuration names the type of its readiness and heartbeat probes
 * (built in: {@code tcp}, {@code http}, {@code ws}, {@code log}).
 *
 * <p><b>Threading:</b> must not block; return a stage and complete it from any thread. The
 * supervisor applies the timeout: a stage that has not completed by then counts as a miss.
 */
@ConsumerType
@FunctionalInterface
public interface Probe {

    /** Service property: the probe type named in configuration. */
    String TYPE = "meshwork.probe.type";

    /**
     * Runs the check once.
     *
     * @return completes with the result; a failed stage counts as {@link ProbeResult#failed}
     */
    CompletionStage<ProbeResult> probe(ProbeContext context);
}
