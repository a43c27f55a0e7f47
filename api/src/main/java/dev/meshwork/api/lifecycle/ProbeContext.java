package dev.meshwork.api.lifecycle;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What a {@link Probe} may know about the gateway it checks.
 *
 * <p><b>Threading:</b> thread-safe; values reflect the moment of the call.
 */
@ProviderType
public interface ProbeContext {

    /** The gateway's name. */
    String gateway();

    /** The probe's parameters from configuration (e.g. {@code port}, {@code path}, {@code pattern}). */
    Map<String, String> parameters();

    /** How long the supervisor waits for this probe. */
    Duration timeout();

    /** The process id, if the process is running. */
    OptionalLong pid();

    /** Lines the current process wrote to stdout or stderr since it was spawned (bounded, newest last). */
    List<String> outputSinceSpawn();
}
