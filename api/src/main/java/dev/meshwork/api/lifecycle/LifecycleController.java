package dev.meshwork.api.lifecycle;

import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Supervises one gateway process: spawn, readiness, heartbeat, restart with backoff under a
 * governor, reload, stop. Registered once per configured gateway, with the service property
 * {@link #NAME}.
 *
 * <p><b>Intents are never lost:</b> a restart or reload asked for while the process is starting
 * is applied once it is up; requests within the debounce window coalesce; a stop cancels
 * pending restarts. <b>Threading:</b> thread-safe and non-blocking; the returned futures
 * complete on the supervisor's thread.
 */
@ProviderType
public interface LifecycleController {

    /** Service property: the gateway's configured name. */
    String NAME = "meshwork.gateway.name";

    String name();

    LifecycleStatus status();

    /** Starts the gateway if stopped; completes when it is RUNNING or the start failed. */
    CompletableFuture<LifecycleStatus> start();

    /** Stops it (SIGTERM to its process group, SIGKILL after the grace period); completes when STOPPED. */
    CompletableFuture<LifecycleStatus> stop();

    /**
     * Restarts it; completes when it is RUNNING again or the restart failed. A supervisor
     * configured for blue/green restarts starts the new process beside the old one
     * ({@link LifecycleState#SWITCHING}) and stops the old one only once the new one is ready; if
     * the new one fails, the future fails and the old process keeps serving.
     */
    CompletableFuture<LifecycleStatus> restart();

    /**
     * Asks the process to reload its configuration (the configured signal), checks it stays
     * healthy, and restarts it if not or if no signal is configured.
     */
    CompletableFuture<LifecycleStatus> reload();
}
