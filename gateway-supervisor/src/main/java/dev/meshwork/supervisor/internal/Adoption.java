package dev.meshwork.supervisor.internal;

import dev.meshwork.supervisor.internal.process.GatewayProcess;
import dev.meshwork.supervisor.internal.process.ProcessTable.PortHolder;
import dev.meshwork.supervisor.internal.process.Spawner;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What already runs for a gateway before a spawn, and the pid file that tells: our own process
 * from an earlier life of the supervisor is adopted rather than started twice; a foreign process
 * on the port fails the start with its pid and command line.
 *
 * <p>Why the pid file carries the port: a gateway restarted blue/green serves on one of two
 * ports, and an adopted process must be watched on the one it really uses. The file names the
 * serving process only; while a switch is under way it keeps naming the old one.
 *
 * <p>Not thread-safe: used on the supervisor's thread.
 */
final class Adoption {

    private static final Logger LOG = LoggerFactory.getLogger(GatewaySupervisor.class);

    /** Our own process found running, and the port it serves. */
    record Adopted(GatewayProcess process, int port) {
    }

    private final String gateway;
    private final PidFile pidFile;
    private final IntFunction<Optional<PortHolder>> ports;
    private final Spawner spawner;

    Adoption(String gateway, PidFile pidFile, IntFunction<Optional<PortHolder>> ports, Spawner spawner) {
        this.gateway = gateway;
        this.pidFile = pidFile;
        this.ports = ports;
        this.spawner = spawner;
    }

    /** Our process named by the pid file, if it still runs and nobody else holds its port. */
    Optional<Adopted> findOwn(SupervisorConfig config) {
        OptionalLong own = pidFile.liveOwnedPid();
        if (own.isEmpty()) {
            return Optional.empty();
        }
        int port = recordedPort(config);
        if (port > 0) {
            Optional<PortHolder> holder = ports.apply(port);
            if (holder.isPresent() && holder.get().pid().isPresent() && holder.get().pid().getAsLong() != own.getAsLong()) {
                return Optional.empty(); // our old process lives, but someone else has the port: report that
            }
        }
        Optional<Adopted> adopted = spawner.adopt(config, own.getAsLong()).map(p -> new Adopted(p, port));
        adopted.ifPresent(a -> LOG.info("gateway {}: adopted running pid {} named by {}", gateway, a.process().pid(),
                pidFile.path()));
        return adopted;
    }

    /** Why {@code port} cannot be used, if a process that is not ours holds it. */
    Optional<String> heldByForeign(SupervisorConfig config, int port) {
        if (port <= 0) {
            return Optional.empty();
        }
        return ports.apply(port).map(holder -> "port " + port + " is already held by " + holder.describe()
                + ", which is not gateway '" + gateway + "' started by this supervisor; stop it or change '"
                + (port == config.port() ? "port" : "restart.alternatePort") + "'");
    }

    /** Names {@code pid} as the serving process (with its port, under blue/green). */
    void record(SupervisorConfig config, long pid, int port) {
        try {
            pidFile.write(pid, config.blueGreen().isPresent() ? port : 0);
        } catch (IllegalStateException ex) {
            LOG.warn("gateway {}: {}", gateway, ex.getMessage());
        }
    }

    /** No process of ours serves any more. */
    void forget() {
        pidFile.delete();
    }

    /** The port our adopted process serves: the one its pid file recorded, if it is one of ours. */
    private int recordedPort(SupervisorConfig config) {
        OptionalInt recorded = pidFile.recordedPort();
        return config.blueGreen().filter(bg -> recorded.isPresent() && recorded.getAsInt() == bg.alternatePort())
                .map(bg -> bg.alternatePort()).orElse(config.port());
    }
}
