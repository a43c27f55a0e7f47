package dev.meshwork.supervisor.internal.process;

import dev.meshwork.supervisor.internal.SupervisorConfig;
import java.io.IOException;
import java.util.Optional;

/** Starts gateway processes, or adopts one already running. */
public interface Spawner {

    /**
     * Starts the configured command in a new process group.
     *
     * @throws IOException if the program cannot be started (not found, not executable)
     */
    GatewayProcess spawn(SupervisorConfig config, long epoch) throws IOException;

    /** Takes over a running process that an earlier supervisor started, if it still exists. */
    Optional<GatewayProcess> adopt(SupervisorConfig config, long pid);
}
